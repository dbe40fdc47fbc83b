import { unwrap, type CreateStudy, type Study } from '../client/index.ts';
import { positiveInt, readJson, stringOf, UsageError, type Command, type Context } from './context.ts';
import { boundText, leaderboardText } from './leaderboard.ts';
import { duration, fields, number, table, time } from './output.ts';
import { watch } from './watch.ts';

const FINAL = ['completed', 'pruned', 'failed', 'cancelled'];

interface Shown {
  metric: string;
  direction: string;
  total: number;
}

type Objective = { metric?: string; direction?: string };
type StoredConfig = { objective?: Objective; objectives?: Objective[]; constraints?: { metric: string; max?: number; min?: number }[]; budget?: { maxTrials?: number } };

function configOf(s: Study): Shown {
  const c = (s.config ?? {}) as StoredConfig;
  return { metric: c.objective?.metric ?? 'value', direction: c.objective?.direction ?? '', total: c.budget?.maxTrials ?? 0 };
}

/** `maximize val_accuracy`, or every objective of a multi-objective study: `maximize val_accuracy, minimize param_count`. */
function objectiveText(s: Study): string {
  const c = (s.config ?? {}) as StoredConfig;
  const all = c.objectives?.length ? c.objectives : [c.objective ?? {}];
  return all.map((o) => `${o.direction ?? ''} ${o.metric ?? 'value'}`.trim()).join(', ');
}

/** Trials that have ended, of the budget's maximum: `4/6`. */
function progress(s: Study): string {
  const done = FINAL.reduce((n, state) => n + (s.counts[state] ?? 0), 0);
  return `${done}/${configOf(s).total}`;
}

/** A study's constraints as `param_count ≤ 2,000, …`, or null for none. */
function constraintsOf(s: Study): string | null {
  const constraints = ((s.config ?? {}) as StoredConfig).constraints ?? [];
  return constraints.length ? constraints.map(boundText).join(', ') : null;
}

function showStudy(ctx: Context, s: Study): void {
  if (ctx.json) return ctx.print(JSON.stringify(s, null, 2));
  const constraints = constraintsOf(s);
  const counts = Object.entries(s.counts).filter(([, n]) => n > 0).map(([state, n]) => `${state} ${n}`).join(', ');
  ctx.print(
    fields([
      ['id', s.id],
      ['name', s.name],
      ['state', s.state],
      ['message', s.message],
      ['dataset', s.datasetId],
      ['objective', objectiveText(s)],
      // Only a study with constraints has the line, so that other studies print as they always did.
      ...(constraints ? [['constraints', constraints] as [string, string]] : []),
      ['trials', `${progress(s)} ended${counts ? ` (${counts})` : ''}`],
      ['best', s.best ? `${number(s.best.value)} (trial #${s.best.number}, ${s.best.family}, ${s.best.state})` : null],
      ['model', s.model ? `${s.model.name} v${s.model.version}` : null],
      ['created', time(s.createdAt)],
      ['continued', s.resumedAt ? time(s.resumedAt) : null],
      ['ended', time(s.endedAt)],
      ['ran', duration(s.runningSeconds * 1000)],
    ]),
  );
}

const create: Command = {
  words: ['studies', 'create'],
  synopsis: '--file STUDY.json|- [--dataset ID] [--name NAME] [--watch] [-q]',
  summary:
    "start a study from a JSON file (the body of POST /v1/studies); --dataset and --name override its fields.\n" +
    "           Several objectives: \"objectives\": [{\"metric\": \"val_accuracy\"}, {\"metric\": \"param_count\"}] (the first is primary;\n" +
    '           others: the validation metrics or the costs param_count, predict_ms_per_row, train_seconds, all minimized;\n' +
    '           search.algorithm nsga2, motpe, random or grid); bounds a promoted trial must meet:\n' +
    '           "constraints": [{"metric": "predict_ms_per_row", "max": 0.05}] (max, min or both)',
  options: { file: { type: 'string', short: 'f' }, dataset: { type: 'string' }, name: { type: 'string' }, watch: { type: 'boolean', short: 'w' }, quiet: { type: 'boolean', short: 'q' } },
  async run(ctx, _, values) {
    const file = stringOf(values, 'file');
    if (file === undefined) throw new UsageError('--file is required (a JSON file, or - for stdin)');
    const body = await readJson(ctx.io, file);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new UsageError(`${file} must hold a JSON object (the study's fields)`);
    const dataset = stringOf(values, 'dataset');
    const name = stringOf(values, 'name');
    const study = await unwrap(
      ctx.client.POST('/v1/studies', { body: { ...(body as CreateStudy), ...(dataset ? { datasetId: dataset } : {}), ...(name ? { name } : {}) } }),
    );
    if (values.quiet) ctx.print(study.id);
    else if (ctx.json && values.watch) ctx.print(JSON.stringify(study));
    else showStudy(ctx, study);
    return values.watch ? watch(ctx, study.id) : 0;
  },
};

const list: Command = {
  words: ['studies', 'list'],
  synopsis: '[--limit N] [--cursor C]',
  summary: "the project's studies, newest first",
  options: { limit: { type: 'string' }, cursor: { type: 'string' } },
  async run(ctx, _, values) {
    const limit = positiveInt(values, 'limit');
    const cursor = stringOf(values, 'cursor');
    const page = await unwrap(ctx.client.GET('/v1/studies', { params: { query: { ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) } } }));
    if (ctx.json) {
      ctx.print(JSON.stringify(page, null, 2));
      return 0;
    }
    ctx.print(
      table(
        ['ID', 'NAME', 'STATE', 'TRIALS', 'BEST', 'METRIC', 'CREATED (UTC)'],
        page.studies.map((s) => [s.id, s.name, s.state, progress(s), number(s.best?.value), configOf(s).metric, time(s.createdAt)]),
      ),
    );
    if (page.nextCursor) ctx.print(`more: --cursor ${page.nextCursor}`);
    return 0;
  },
};

const idOnly = { positionals: ['ID'] };

const show: Command = {
  words: ['studies', 'show'],
  synopsis: 'ID',
  summary: 'a study: state, trials, best so far, its model',
  ...idOnly,
  async run(ctx, [id]) {
    showStudy(ctx, await unwrap(ctx.client.GET('/v1/studies/{id}', { params: { path: { id: id as string } } })));
    return 0;
  },
};

const leaderboard: Command = {
  words: ['studies', 'leaderboard'],
  synopsis: 'ID [--limit N]',
  summary: 'trials ranked by the objective; with several objectives or constraints, by Pareto front, with each objective, feasibility, the front\'s size and hypervolume',
  ...idOnly,
  options: { limit: { type: 'string' } },
  async run(ctx, [id], values) {
    const limit = positiveInt(values, 'limit');
    const board = await unwrap(ctx.client.GET('/v1/studies/{id}/leaderboard', { params: { path: { id: id as string }, query: limit ? { limit } : {} } }));
    if (ctx.json) {
      ctx.print(JSON.stringify(board, null, 2));
      return 0;
    }
    ctx.print(leaderboardText(board));
    return 0;
  },
};

const cancel: Command = {
  words: ['studies', 'cancel'],
  synopsis: 'ID',
  summary: 'cancel a study: queued trials are dropped, running ones stop after their epoch',
  ...idOnly,
  async run(ctx, [id]) {
    const study = await unwrap(ctx.client.POST('/v1/studies/{id}/cancel', { params: { path: { id: id as string } }, body: {} }));
    if (ctx.json) ctx.print(JSON.stringify(study, null, 2));
    else ctx.print(`study ${study.id} ${study.state}${study.message ? `: ${study.message}` : ''}`);
    return 0;
  },
};

const continueCommand: Command = {
  words: ['studies', 'continue'],
  synopsis: 'ID [--max-trials N] [--time-limit SECONDS] [--watch]',
  summary: 'raise the budget of a queued, running or completed study; a completed one runs again from its history',
  positionals: ['ID'],
  options: { 'max-trials': { type: 'string' }, 'time-limit': { type: 'string' }, watch: { type: 'boolean', short: 'w' } },
  async run(ctx, [id], values) {
    const maxTrials = positiveInt(values, 'max-trials');
    const timeLimitSeconds = positiveInt(values, 'time-limit');
    if (maxTrials === undefined && timeLimitSeconds === undefined) throw new UsageError('give --max-trials N, --time-limit SECONDS or both');
    const body = { ...(maxTrials !== undefined ? { maxTrials } : {}), ...(timeLimitSeconds !== undefined ? { timeLimitSeconds } : {}) };
    const study = await unwrap(ctx.client.POST('/v1/studies/{id}/continue', { params: { path: { id: id as string } }, body }));
    if (ctx.json && values.watch) ctx.print(JSON.stringify(study));
    else if (ctx.json) ctx.print(JSON.stringify(study, null, 2));
    else ctx.print(`study ${study.id} ${study.state}: ${study.message ?? ''}`);
    return values.watch ? watch(ctx, study.id) : 0;
  },
};

const watchCommand: Command = {
  words: ['studies', 'watch'],
  synopsis: 'ID',
  summary: "follow a study's events until it ends (exit 0 when it completes, 1 when it fails or is cancelled)",
  ...idOnly,
  run: (ctx, [id]) => watch(ctx, id as string),
};

export const studyCommands: Command[] = [create, list, show, leaderboard, cancel, continueCommand, watchCommand];
