import { randomInt, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Coordinator } from '../../coordinator/index.ts';
import type { TrialState } from '../../domain.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { errorMessage, type Logger } from '../../log.ts';
import { rankByValue } from '../../metrics.ts';
import { resolveObjectives } from './objectives-input.ts';
import type { StudyConfig } from '../../schemas.ts';
import { baselineOf, studySpec, trainingData } from '../../data/index.ts';
import { buildSpace, createSampler, familiesFor, objectivesOf, ranksByFront } from '../../search/index.ts';
import { rankByFront, type FrontEntry, type ParetoSummary } from './front.ts';
import { parseScheduling } from '../../search/schedulers/index.ts';
import { checkModelSize, checkSpaceBuildable, DEFAULT_MAX_MODEL_PARAMS } from '../../model/index.ts';
import { ACTIVE_STUDY_STATES, runningSeconds, type Repository, type StudyRecord, type TrialRecord } from '../../storage/index.ts';
import type { createStudyBody } from './studies.routes.ts';
import { pageOf } from '../paging.ts';
import type { quotaChecks } from '../quotas.ts';

type CreateBody = z.infer<typeof createStudyBody>;

export function trialView(t: TrialRecord) {
  return {
    id: t.id, number: t.number, family: t.family, params: t.params, state: t.state, value: t.value, metrics: t.metrics,
    epochs: t.epochs, bestEpoch: t.bestEpoch, durationMs: t.durationMs, backend: t.backend, worker: t.worker, attempts: t.attempts, retries: t.retries, rung: t.rung, error: t.error,
    startedAt: t.startedAt?.toISOString() ?? null, endedAt: t.endedAt?.toISOString() ?? null,
  };
}

/**
 * Trials with a value to rank: finished ones (completed, or pruned with their best epoch kept)
 * and ones still under way (running, or paused at a rung), by their best epoch so far.
 */
const RANKED_STATES: TrialState[] = ['completed', 'pruned', 'running', 'paused'];

interface Ranked {
  counts: Record<string, number>;
  epochs: number;
  top: TrialRecord[];
  /** Studies ranked by front: each ranked finished trial's place. */
  front: Map<string, FrontEntry> | null;
  pareto: ParetoSummary | null;
}

/** Trials per state, and epochs trained in all. */
function tally(values: readonly { state: TrialState; epochs: number }[]): Pick<Ranked, 'counts' | 'epochs'> {
  const counts: Record<string, number> = { queued: 0, running: 0, paused: 0, completed: 0, pruned: 0, failed: 0, cancelled: 0 };
  let epochs = 0;
  for (const t of values) {
    counts[t.state] = (counts[t.state] ?? 0) + 1;
    epochs += t.epochs;
  }
  return { counts, epochs };
}

/** A model name made from a study name: "My digits!" → "My-digits". */
function slug(name: string): string {
  const s = name.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 100).replace(/-+$/, '');
  return s || 'model';
}

export function studyHandlers(deps: { repo: Repository; coordinator: Coordinator; log: Logger; maxModelParams?: number; quotas: ReturnType<typeof quotaChecks> }) {
  const { repo, coordinator } = deps;

  /**
   * The study's trials ranked, best first, as full records for the first `limit`; the rest are
   * read as values only. A study with several objectives or constraints ranks its finished
   * trials by their Pareto front first (see front.ts), then the ones under way by value.
   */
  async function ranked(study: StudyRecord, limit: number): Promise<Ranked> {
    const { direction } = study.config.objective;
    if (ranksByFront(study.config)) {
      const values = await repo.trials.valuesAndOutcomes(study.id);
      const { entries, pareto } = rankByFront(values.filter((t) => t.state === 'completed' || t.state === 'pruned'), study.config, limit);
      const onFront = new Set(entries.map((e) => e.id));
      // Then the finished trials missing an objective's metric, and the ones under way, by value.
      const rest = rankByValue(values.filter((t) => RANKED_STATES.includes(t.state) && !onFront.has(t.id)), direction).slice(0, Math.max(0, limit - entries.length));
      const ids = [...entries.map((e) => e.id), ...rest.map((t) => t.id)];
      const records = new Map((ids.length === 0 ? [] : await repo.trials.some(ids)).map((t) => [t.id, t]));
      const top = ids.flatMap((id) => records.get(id) ?? []);
      return { ...tally(values), top, front: new Map(entries.map((e) => [e.id, e])), pareto };
    }
    const values = await repo.trials.values(study.id);
    const ids = rankByValue(values.filter((t) => RANKED_STATES.includes(t.state)), direction).slice(0, limit).map((t) => t.id);
    // Ranked again on the full records: a running trial's value may have moved between the two reads.
    const top = ids.length === 0 ? [] : rankByValue(await repo.trials.some(ids), direction);
    return { ...tally(values), top, front: null, pareto: null };
  }

  async function view(study: StudyRecord) {
    const { counts, epochs, top } = await ranked(study, 1);
    const best = top[0];
    // A continued study that failed or was cancelled afterwards still owns what it registered before.
    const version = study.state === 'completed' || study.resumedAt !== null ? await repo.models.ofStudy(study.id) : null;
    return {
      id: study.id, name: study.name, datasetId: study.datasetId, state: study.state, message: study.message, config: study.config,
      counts, epochs, best: best ? trialView(best) : null, model: version ? { name: version.modelName, version: version.version } : null,
      createdAt: study.createdAt.toISOString(), endedAt: study.endedAt?.toISOString() ?? null,
      resumedAt: study.resumedAt?.toISOString() ?? null, runningSeconds: Math.round(runningSeconds(study) * 1000) / 1000,
    };
  }

  async function load(projectId: string, id: string): Promise<StudyRecord> {
    const study = await repo.studies.get(id);
    // Another project's study is answered exactly like a missing one.
    if (!study || study.projectId !== projectId) throw new NotFoundError('study', id);
    return study;
  }

  return {
    view,
    async create(projectId: string, body: CreateBody) {
      const dataset = await repo.datasets.get(body.datasetId);
      if (!dataset || dataset.projectId !== projectId) throw new ValidationError('datasetId', body.datasetId, 'does not name an existing dataset (see GET /v1/datasets)');
      const forecast = { window: body.window, horizon: body.horizon };
      const spec = studySpec(dataset.preprocessing, forecast);
      const objectives = resolveObjectives(body, spec.task);
      const direction = objectives.objective.direction;
      const sampler = createSampler(body.search.algorithm, body.search.options);
      const space = buildSpace({ families: body.search.families ?? familiesFor(spec), space: body.search.space }, spec);
      sampler.checkSpace?.(space);
      const scheduling = parseScheduling(body.search, body.budget.maxEpochs);
      checkSpaceBuildable(space, spec);
      checkModelSize(space, spec, deps.maxModelParams ?? DEFAULT_MAX_MODEL_PARAMS);
      const blobs = await repo.datasets.data(dataset.id);
      if (!blobs) throw new NotFoundError('dataset', dataset.id);
      const warmStartFrom = body.search.warmStartFrom;
      if (warmStartFrom !== undefined) {
        const source = await repo.studies.get(warmStartFrom);
        if (!source || source.projectId !== projectId) throw new ValidationError('search.warmStartFrom', warmStartFrom, 'does not name a study of this project (see GET /v1/studies)');
        if (source.datasetId !== dataset.id) throw new ValidationError('search.warmStartFrom', warmStartFrom, `is a study of dataset ${source.datasetId}; it must be one of ${dataset.id}, since its values are scores on its own data`);
        if (source.config.window !== body.window || source.config.horizon !== body.horizon) {
          throw new ValidationError('search.warmStartFrom', warmStartFrom, `is a study with window ${source.config.window ?? 'none'} and horizon ${source.config.horizon ?? 'none'}; it must have this one's (${body.window ?? 'none'}, ${body.horizon ?? 'none'}), since its values score that task`);
        }
        const o = source.config.objective;
        if (o.metric !== objectives.objective.metric || o.direction !== direction) {
          throw new ValidationError('search.warmStartFrom', warmStartFrom, `is a study that ${o.direction}s ${o.metric}; it must ${direction} ${objectives.objective.metric}, as this one does`);
        }
      }
      const config: StudyConfig = {
        ...objectives,
        budget: body.budget,
        search: { algorithm: body.search.algorithm, families: space.families, space, options: body.search.options, scheduling, ...(warmStartFrom !== undefined ? { warmStartFrom } : {}) },
        earlyStopping: body.earlyStopping,
        seed: body.seed ?? randomInt(2 ** 31 - 1),
        promoteTo: body.promoteTo ?? slug(body.name),
        baseline: baselineOf(trainingData(dataset, blobs, forecast)),
        device: body.device,
        promotion: body.promotion,
      };
      if (body.window !== undefined) config.window = body.window;
      if (body.horizon !== undefined) config.horizon = body.horizon;
      await deps.quotas.study(projectId, body.budget.parallelism);
      const study = await repo.studies.create({ id: randomUUID(), projectId, name: body.name, datasetId: dataset.id, config });
      // The first trials are created now; if Redis is briefly away the coordinator's sweep enqueues them later.
      await coordinator.tick(study.id).catch((err) => deps.log.warn('first tick failed; the sweep will retry', { studyId: study.id, error: errorMessage(err) }));
      return view((await repo.studies.get(study.id)) ?? study);
    },
    async list(projectId: string, limit: number, before?: { createdAt: string; id: string }) {
      const rows = await repo.studies.list(projectId, { limit: limit + 1, ...(before ? { before: { createdAt: new Date(before.createdAt), id: before.id } } : {}) });
      const page = pageOf(rows, limit, (st) => ({ createdAt: st.createdAt.toISOString(), id: st.id }));
      return { studies: await Promise.all(page.items.map(view)), nextCursor: page.nextCursor };
    },
    async get(projectId: string, id: string) {
      return view(await load(projectId, id));
    },
    async leaderboard(projectId: string, id: string, limit = 100) {
      const study = await load(projectId, id);
      // Completed trials by their result, running ones by their best epoch so far; failed and cancelled ones are not ranked.
      const { top, front, pareto } = await ranked(study, limit);
      const objectives = objectivesOf(study.config);
      const place = (t: TrialRecord) => {
        if (!front) return {};
        const e = front.get(t.id);
        return { front: e?.front ?? null, crowding: e?.crowding ?? null, values: e?.values ?? null, violation: e?.violation ?? null, feasible: e ? e.violation <= 0 : null };
      };
      return {
        objectives,
        ...(study.config.constraints ? { constraints: study.config.constraints } : {}),
        ...(front ? { pareto } : {}),
        trials: top.map((t, i) => ({ rank: i + 1, ...trialView(t), ...place(t) })),
      };
    },
    async trials(projectId: string, id: string, limit: number, afterNumber?: number) {
      await load(projectId, id);
      const page = pageOf(await repo.trials.page(id, limit + 1, afterNumber), limit, (t) => t.number);
      return { trials: page.items.map(trialView), nextCursor: page.nextCursor };
    },
    async trial(projectId: string, id: string, trialId: string) {
      await load(projectId, id);
      const trial = await repo.trials.get(trialId);
      if (!trial || trial.studyId !== id) throw new NotFoundError('trial', trialId);
      const curve = await repo.trials.curve(trialId);
      return { ...trialView(trial), curve: curve.map((e) => ({ epoch: e.epoch, attempt: e.attempt, metrics: e.metrics })) };
    },
    async cancel(projectId: string, id: string) {
      const study = await load(projectId, id);
      if (!ACTIVE_STUDY_STATES.includes(study.state)) throw new ConflictError(`study '${id}' has already ended (state ${study.state})`);
      await coordinator.cancel(id);
      return view(await load(projectId, id));
    },
    /**
     * Raises a study's budget. Active: it goes on with it. Completed: it runs again, its clock
     * kept, and counts against the project's quotas as a new study would.
     */
    async continue(projectId: string, id: string, body: { maxTrials?: number | undefined; timeLimitSeconds?: number | undefined }) {
      const study = await load(projectId, id);
      const reopen = study.state === 'completed';
      if (!reopen && !ACTIVE_STUDY_STATES.includes(study.state)) {
        throw new ConflictError(`study '${id}' ${study.state === 'failed' ? 'failed' : 'was cancelled'}; only a queued, running or completed study can be continued (start a new one warm from it instead)`);
      }
      const { budget } = study.config;
      if (body.maxTrials === undefined && body.timeLimitSeconds === undefined) {
        throw new ValidationError('maxTrials', undefined, 'or timeLimitSeconds is required: give the study a larger budget');
      }
      if (body.maxTrials !== undefined && body.maxTrials < budget.maxTrials) {
        throw new ValidationError('maxTrials', body.maxTrials, `must be at least the study's current ${budget.maxTrials}; a budget is only raised`);
      }
      const ran = Math.floor(runningSeconds(study));
      if (body.timeLimitSeconds !== undefined) {
        if (budget.timeLimitSeconds !== undefined && body.timeLimitSeconds < budget.timeLimitSeconds) {
          throw new ValidationError('timeLimitSeconds', body.timeLimitSeconds, `must be at least the study's current ${budget.timeLimitSeconds}; a budget is only raised`);
        }
        if (body.timeLimitSeconds <= ran) throw new ValidationError('timeLimitSeconds', body.timeLimitSeconds, `must be more than the ${ran} s the study has run`);
      }
      if (reopen) {
        const trials = (await repo.trials.values(study.id)).length;
        const maxTrials = Math.max(budget.maxTrials, body.maxTrials ?? 0);
        const limit = body.timeLimitSeconds ?? budget.timeLimitSeconds;
        const timeLeft = limit === undefined || limit > ran;
        if (maxTrials <= trials || !timeLeft) {
          throw new ConflictError(
            `study '${id}' has ${trials} trials${limit !== undefined ? ` and has run ${ran} s of its ${limit} s` : ''}: raise maxTrials above ${trials}${timeLeft ? '' : ` and timeLimitSeconds above ${ran}`} for it to run again`,
          );
        }
        await deps.quotas.study(projectId, budget.parallelism);
      }
      const describe = (before: typeof budget, after: typeof budget, reopened: boolean) => {
        const changes = [
          ...(after.maxTrials !== before.maxTrials ? [`maxTrials ${before.maxTrials} → ${after.maxTrials}`] : []),
          ...(after.timeLimitSeconds !== before.timeLimitSeconds ? [`timeLimitSeconds ${before.timeLimitSeconds ?? 'none'} → ${after.timeLimitSeconds}`] : []),
        ];
        return `continued${reopened ? ' after it completed' : ''}: ${changes.join(', ') || 'budget unchanged'}`;
      };
      if (!(await repo.studies.continue(id, reopen ? ['completed'] : ACTIVE_STUDY_STATES, body, describe))) {
        throw new ConflictError(`study '${id}' changed meanwhile (now ${(await load(projectId, id)).state}); look at it and try again`);
      }
      await coordinator.tick(id).catch((err) => deps.log.warn('tick after continuing failed; the sweep will retry', { studyId: id, error: errorMessage(err) }));
      return view(await load(projectId, id));
    },
    /** Cancels an active study first (its running trials stop and their late writes are refused), then deletes it with its trials. */
    async delete(projectId: string, id: string) {
      const study = await load(projectId, id);
      if (ACTIVE_STUDY_STATES.includes(study.state)) await coordinator.cancel(id);
      const result = await repo.studies.delete(id);
      if (result === 'missing') throw new NotFoundError('study', id);
      if (result === 'active') throw new ConflictError(`study '${id}' is still ending; try again in a moment`);
      if (result !== 'deleted') {
        throw new ConflictError(`study '${id}' registered ${result.modelName} v${result.version}, whose weights it holds; delete that version first (DELETE /v1/models/${result.modelName}/versions/${result.version})`);
      }
    },
  };
}
