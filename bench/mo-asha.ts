/**
 * npm run bench:mo-asha — MO-ASHA (ASHA promoting by non-dominated rank at each rung) against
 * no pruning, on real training: two-objective studies (maximize val_accuracy, minimize
 * param_count) of MLPs on the UCI 8×8 digits (test/fixtures/digits-8x8-sequences.jsonl, 600
 * digits, half held out for validation so accuracies move in steps of 0.33 points), trained by
 * a real worker through the real API, coordinator, queue (Redis) and database (SQLite), in
 * this process. In the default mlp space (1-3 layers of 16-256 units) size and accuracy trade
 * off: models range from ~1,200 to ~150,000 weights.
 *
 * Per seed, three studies with the same seed and the random sampler, which draws trial n from
 * (seed, n) alone, so trial n has the same parameters in all three (checked): `full` trains
 * every trial to maxEpochs (default early stopping); `asha` uses search.scheduler 'asha'
 * (minResource 1, reductionFactor 3, maxResource maxEpochs) on the same number of trials, which
 * shows what pruning costs the front of those configurations; `asha×k` is the same scheduler
 * on k times the trials (its first ones are full's), which spends the epochs that pruning saves
 * on more configurations: the question of issue 15, whether MO-ASHA reaches the hypervolume of
 * no pruning with fewer epochs.
 *
 * Measured per study: epochs trained (GET /v1/studies/{id}), wall time (its createdAt to
 * endedAt), the hypervolume of the front of its finished trials (completed and pruned, as the
 * leaderboard ranks them, from GET /v1/studies/{id}/trials) and the same after every epoch
 * trained, in training order, each trial counted at its best epoch so far. The studies of a
 * seed share one reference point: referencePoint (src/search/objectives.ts) over the finished
 * trials of all three, so the worst accuracy and the largest model seen, a tenth of the range
 * out.
 *
 * Per seed, a row per study: its trials by state; epochs (and ÷ full's); final hypervolume
 * (and ÷ full's); that ÷ full's hypervolume after as many epochs as this study trained (above
 * 1: ahead of no pruning at equal epochs); epochs trained until its hypervolume first reached
 * 90/95/99/100% of full's final one ("not reached" if never); best val_accuracy; wall seconds.
 * The summary gives each pruned study ÷ full over seeds (mean and min–max over the seeds where
 * the ratio exists, then the number of seeds where the study never reached the target): epochs
 * trained; final hypervolume; epochs to reach each share of full's final hypervolume ÷ the
 * epochs full took to reach it; epochs to reach 100% ÷ every epoch full trained (what a user of
 * the full study paid to have it); final hypervolume ÷ full's after as many epochs; best
 * val_accuracy; wall time.
 *
 * Epoch times come from the repository (the API's learning curve has none); each study runs
 * alone with parallelism 1, so its epochs are trained one after another. Training on the wasm
 * backend is not bit-for-bit repeatable: the same no-pruning study run twice (27 trials)
 * differed by 0.7% in final hypervolume and 4% in epochs, which bounds what one seed can show.
 *
 * Env: BENCH_SEEDS (default 5), BENCH_FIRST_SEED (default 1), BENCH_TRIALS (trials of full
 * and asha, default 54), BENCH_ASHA_TRIALS_FACTOR (k, default 3), BENCH_MAX_EPOCHS (default
 * 27), BENCH_BACKEND (wasm or cpu, default wasm).
 * The defaults took about 7 minutes on 2 cores (shared with other work).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referencePoint } from '../src/search/objectives.ts';
import { hypervolume } from '../src/search/pareto.ts';
import { startTestApp, studyEnd, uploadForm, type TestApp } from '../test/helpers/app.ts';
import { epochsToReach, hypervolumeCurve, type CurveObjective, type TrainedEpoch } from './hv-curve.ts';
import { mean } from './stats.ts';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SEEDS = env('BENCH_SEEDS', 5);
const FIRST_SEED = env('BENCH_FIRST_SEED', 1);
/** 2 × 27: with η = 3, ASHA's rungs at 1, 3, 9 and 27 epochs keep 54, 18, 6 and 2 trials when they fill. */
const TRIALS = env('BENCH_TRIALS', 54);
/** k: the asha×k study gets k × TRIALS trials. */
const FACTOR = env('BENCH_ASHA_TRIALS_FACTOR', 3);
const MAX_EPOCHS = env('BENCH_MAX_EPOCHS', 27);
const BACKEND = process.env.BENCH_BACKEND === 'cpu' ? 'cpu' : 'wasm';
const OBJECTIVES: CurveObjective[] = [
  { metric: 'val_accuracy', direction: 'maximize' },
  { metric: 'param_count', direction: 'minimize' },
];
const DIRECTIONS = OBJECTIVES.map((o) => o.direction);
/** Shares of full's final hypervolume whose epochs-to-reach are reported. */
const LEVELS = [0.9, 0.95, 0.99, 1];
const FINISHED = new Set(['completed', 'pruned']);

/** A study of each seed: full first, the one the others are measured against. */
interface ArmSpec {
  name: string;
  trials: number;
  asha: boolean;
}
const ARMS: ArmSpec[] = [
  { name: 'full', trials: TRIALS, asha: false },
  { name: 'asha', trials: TRIALS, asha: true },
  { name: `asha×${FACTOR}`, trials: Math.round(FACTOR * TRIALS), asha: true },
];

interface TrialView {
  id: string;
  number: number;
  state: string;
  params: Record<string, unknown>;
  metrics: Record<string, number> | null;
}

interface Arm {
  name: string;
  epochs: number;
  seconds: number;
  counts: Record<string, number>;
  /** Objective vectors of the finished trials. */
  points: number[][];
  timeline: TrainedEpoch[];
  /** Final metrics of each trial that has them, by number: the costs the curve reads. */
  costs: Map<number, Record<string, number>>;
  /** Each trial's parameters as JSON, by number: the pairing of the arms is checked on them. */
  params: Map<number, string>;
}

async function json<T>(t: TestApp, path: string, init?: RequestInit): Promise<T> {
  const res = await t.app.request(path, init);
  const body = (await res.json()) as T;
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function trialsOf(t: TestApp, studyId: string): Promise<TrialView[]> {
  const all: TrialView[] = [];
  let cursor: string | null = null;
  do {
    const page: { trials: TrialView[]; nextCursor: string | null } = await json(t, `/v1/studies/${studyId}/trials?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...page.trials);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return all;
}

async function runArm(t: TestApp, datasetId: string, { name: arm, trials: maxTrials, asha }: ArmSpec, seed: number): Promise<Arm> {
  const scheduler = asha ? { scheduler: 'asha', minResource: 1, reductionFactor: 3, maxResource: MAX_EPOCHS } : {};
  const { id } = await json<{ id: string }>(t, '/v1/studies', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `mo-asha-${arm.replace('×', 'x')}-${seed}`,
      datasetId,
      objectives: OBJECTIVES.map(({ metric }) => ({ metric })),
      budget: { maxTrials, maxEpochs: MAX_EPOCHS, parallelism: 1 },
      search: { algorithm: 'random', families: ['mlp'], ...scheduler },
      seed,
    }),
  });
  const end = await studyEnd(t.repo, id, 3_600_000);
  const study = await json<{ epochs: number; counts: Record<string, number>; message: string | null; createdAt: string; endedAt: string }>(t, `/v1/studies/${id}`);
  if (end.state !== 'completed') throw new Error(`the ${arm} study of seed ${seed} ended ${end.state}: ${study.message}; its trials' errors: ${end.errors}`);
  const trials = await trialsOf(t, id);
  const costs = new Map(trials.flatMap((x) => (x.metrics ? [[x.number, x.metrics] as const] : [])));
  const finished = trials.filter((x) => FINISHED.has(x.state));
  const points = finished.flatMap((x) => {
    const values = OBJECTIVES.map((o) => x.metrics?.[o.metric]);
    return values.every((v): v is number => v !== undefined && Number.isFinite(v)) ? [values] : [];
  });
  // A finished trial without its objectives would silently leave the front.
  if (points.length !== finished.length) console.error(`warning: ${arm} seed ${seed}: ${finished.length - points.length} of ${finished.length} finished trials lack ${OBJECTIVES.map((o) => o.metric).join(' or ')}`);
  const epochs = await Promise.all(trials.map(async (x) => (await t.repo.trials.curve(x.id)).map((e) => ({ trial: x.number, epoch: e.epoch, at: e.at.getTime(), metrics: e.metrics }))));
  const timeline = epochs.flat().sort((a, b) => a.at - b.at || a.trial - b.trial || a.epoch - b.epoch);
  if (timeline.length !== study.epochs) console.error(`warning: ${arm} seed ${seed}: ${timeline.length} epochs recorded, the study says ${study.epochs}`);
  const seconds = (Date.parse(study.endedAt) - Date.parse(study.createdAt)) / 1000;
  const params = new Map(trials.map((x) => [x.number, JSON.stringify(x.params)]));
  return { name: arm, epochs: study.epochs, seconds, counts: study.counts, points, timeline, costs, params };
}

/** One pruned study ÷ full for one seed; Infinity where it never reached the target. */
interface Versus {
  epochs: number;
  volume: number;
  /** Its epochs to reach each of LEVELS of full's final hypervolume, over full's. */
  reach: number[];
  /** Its epochs to reach the highest of LEVELS, over every epoch full trained. */
  reachTopOfAll: number;
  /** Its final hypervolume over full's after as many epochs as it trained: above 1, it is ahead at equal epochs. */
  sameEpochs: number;
  bestPrimary: number;
  seconds: number;
}

const fmt = (x: number | null, digits = 2) => (x === null ? 'not reached' : Number.isFinite(x) ? x.toFixed(digits) : '∞');
const best = (points: number[][]) => (OBJECTIVES[0]!.direction === 'maximize' ? Math.max : Math.min)(...points.map((p) => p[0]!));
const ratio = (to: number | null, of: number | null) => (to === null || of === null ? Infinity : to / of);

/** Prints a row per study of one seed (full first) and returns each pruned one ÷ full. */
function report(seed: number, arms: readonly Arm[]): Versus[] {
  const [full, ...pruned] = arms as [Arm, ...Arm[]];
  for (const arm of pruned) {
    const unpaired = [...full.params].filter(([n, p]) => arm.params.get(n) !== p).length;
    if (unpaired > 0) console.error(`warning: seed ${seed}: ${unpaired} of full's trials have other parameters in the ${arm.name} study`);
  }
  const reference = referencePoint(arms.flatMap((arm) => arm.points), DIRECTIONS);
  const curves = arms.map((arm) => {
    const final = hypervolume(arm.points, reference, DIRECTIONS);
    const curve = hypervolumeCurve(arm.timeline, arm.costs, OBJECTIVES, reference);
    // The curve ends on the front of the finished trials, unless a trial's best epoch went missing.
    const last = curve.at(-1) ?? 0;
    if (Math.abs(last - final) > 1e-9 * Math.max(1, final)) console.error(`warning: ${arm.name} seed ${seed}: the curve ends at ${last}, the finished trials' front has ${final}`);
    return { final, curve };
  });
  const f = curves[0]!;
  const fullAfter = (epochs: number) => f.curve[Math.min(epochs, f.curve.length) - 1] ?? 0;
  const reaches = curves.map(({ curve }) => LEVELS.map((q) => epochsToReach(curve, q * f.final)));
  arms.forEach((arm, i) => {
    const { final } = curves[i]!;
    const counts = Object.entries(arm.counts).filter(([, n]) => n > 0).map(([state, n]) => `${n} ${state}`).join(', ');
    console.log(`| ${seed} | ${arm.name} | ${counts} | ${arm.epochs} | ${fmt(arm.epochs / full.epochs)} | ${final.toPrecision(5)} | ${fmt(final / f.final, 3)} | ${fmt(final / fullAfter(arm.epochs), 3)} | ${reaches[i]!.map((e) => fmt(e, 0)).join(' / ')} | ${best(arm.points).toFixed(4)} | ${arm.seconds.toFixed(0)} |`);
  });
  return pruned.map((arm, j) => {
    const { final } = curves[j + 1]!;
    const reach = reaches[j + 1]!;
    return {
      epochs: arm.epochs / full.epochs,
      volume: final / f.final,
      sameEpochs: final / fullAfter(arm.epochs),
      reach: LEVELS.map((_, i) => ratio(reach[i] ?? null, reaches[0]![i] ?? null)),
      reachTopOfAll: ratio(reach.at(-1) ?? null, full.epochs),
      bestPrimary: best(arm.points) / best(full.points),
      seconds: arm.seconds / full.seconds,
    };
  });
}

/** Over seeds, for each pruned study: mean and min–max of the seeds where the ratio is finite, and how many seeds it never reached the target. */
function summary(results: readonly Versus[][], names: readonly string[]): void {
  console.log(`\n| ÷ full, over ${results.length} seeds | ${names.map((n) => `${n} mean | min–max | not reached`).join(' | ')} |`);
  console.log(`| --- |${' --- | --- | --- |'.repeat(names.length)}`);
  const row = (what: string, of: (v: Versus) => number) => {
    const cells = names.map((_, i) => {
      const xs = results.map((r) => of(r[i]!));
      const finite = xs.filter(Number.isFinite);
      const missed = xs.length - finite.length;
      return finite.length === 0 ? ['—', '—', missed] : [fmt(mean(finite), 3), `${fmt(Math.min(...finite), 3)}–${fmt(Math.max(...finite), 3)}`, missed];
    });
    console.log(`| ${what} | ${cells.flat().join(' | ')} |`);
  };
  row('epochs trained', (v) => v.epochs);
  row('final hypervolume', (v) => v.volume);
  LEVELS.forEach((q, i) => row(`epochs to reach ${q * 100}% of full's final hypervolume`, (v) => v.reach[i]!));
  row(`epochs to reach ${LEVELS.at(-1)! * 100}% of it ÷ every epoch full trained`, (v) => v.reachTopOfAll);
  row("final hypervolume ÷ full's after as many epochs", (v) => v.sameEpochs);
  row(`best ${OBJECTIVES[0]!.metric}`, (v) => v.bestPrimary);
  row('wall time', (v) => v.seconds);
}

const fixture = readFileSync(join(import.meta.dirname, '../test/fixtures/digits-8x8-sequences.jsonl'), 'utf8');
const t = await startTestApp('sqlite', { withWorker: true, backend: BACKEND });
try {
  const form = uploadForm(fixture, { name: 'digits-8x8', kind: 'sequence', target: 'digit', validationFraction: '0.5' }, 'digits.jsonl');
  const { id: datasetId } = await json<{ id: string }>(t, '/v1/datasets', { method: 'POST', body: form });
  console.log(`MO-ASHA vs no pruning: maximize val_accuracy, minimize param_count; 600 UCI 8×8 digits (300 train / 300 validation), mlp default space, random sampler, ${ARMS.map((a) => `${a.name} ${a.trials}`).join(', ')} trials, maxEpochs ${MAX_EPOCHS}, asha minResource 1 η 3, ${BACKEND}, 1 worker, seeds ${FIRST_SEED}..${FIRST_SEED + SEEDS - 1}`);
  console.log(`| seed | arm | trials | epochs | ÷ full | final HV | ÷ full | ÷ full's HV after as many epochs | epochs to ${LEVELS.map((q) => `${q * 100}%`).join(' / ')} of full's HV | best ${OBJECTIVES[0]!.metric} | wall s |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  // The first study pays for the backend's warm-up (kernels, first allocations); it is not timed.
  const warmUp = { name: 'mo-asha-warm-up', datasetId, objectives: OBJECTIVES.map(({ metric }) => ({ metric })), budget: { maxTrials: 1, maxEpochs: 2 }, search: { families: ['mlp'] }, seed: 0 };
  await studyEnd(t.repo, (await json<{ id: string }>(t, '/v1/studies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(warmUp) })).id);
  const results: Versus[][] = [];
  for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
    const arms: Arm[] = [];
    for (const spec of ARMS) arms.push(await runArm(t, datasetId, spec, seed));
    results.push(report(seed, arms));
  }
  summary(results, ARMS.slice(1).map((a) => a.name));
} catch (err) {
  // Thrown past the top level, the error would reach the wasm backend's rejection handler, which prints its whole source.
  console.error(err);
  process.exitCode = 1;
} finally {
  await t.close();
}
