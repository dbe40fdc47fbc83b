/**
 * npm run bench:overhead — how much wall time the orchestration adds to short trials.
 *
 * For each database in BENCH_DATABASES and each concurrency in BENCH_CONCURRENCY: one study of
 * BENCH_TRIALS one-epoch trials whose "training" sleeps BENCH_EPOCH_MS, on BENCH_WORKERS worker
 * processes of that concurrency (study parallelism = slots = workers × concurrency, at most 64),
 * through the real coordinator, BullMQ on the real Redis and a fresh database. A warm-up study
 * of one trial per slot runs first, untimed. Ideal = ceil(trials / slots) × epoch; overhead =
 * wall / ideal − 1, with wall from posting the study to the database recording its end.
 * Ray Tune publishes ~14% for 10,000 one-second trials with 16 running at once on 16 CPUs.
 * Defaults: 1000 trials, 4 workers × concurrency 4 and 16 (16 and 64 slots), 1000 ms,
 * sqlite,postgresql.
 */
import { formatCpu } from './cpu-use.ts';
import { latencies, occupancy, openBench, printTable, providersFromEnv, quantile, refills, runBench } from './sleep-trials.ts';

const trials = Number(process.env.BENCH_TRIALS ?? 1000);
const workers = Number(process.env.BENCH_WORKERS ?? 4);
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '4,16').split(',').map(Number);
const epochMs = Number(process.env.BENCH_EPOCH_MS ?? 1000);
const providers = providersFromEnv(['sqlite', 'postgresql']);

const s = (ms: number) => (ms / 1000).toFixed(1);
const pair = (values: number[]) => `${Math.round(quantile(values, 0.5))} / ${Math.round(quantile(values, 0.95))}`;

runBench(async (cleanup) => {
  if (concurrencies.some((c) => !Number.isInteger(c) || c < 1 || c * workers > 64)) throw new Error(`BENCH_CONCURRENCY is "${concurrencies}"; each must be an integer ≥ 1 with workers × concurrency ≤ 64 (a study's largest parallelism)`);
  console.log(`Orchestration overhead: ${trials} one-epoch trials of ${epochMs} ms sleep on ${workers} worker processes of concurrency ${concurrencies.join(' or ')}, study parallelism = slots.`);
  console.log('Real api + coordinator (this process), BullMQ on Redis, a fresh database, real worker processes; only tfjs training is replaced by the sleep.');
  console.log('An untimed warm-up study of one trial per slot runs first. Ideal = ceil(trials / slots) × epoch; overhead = wall / ideal − 1.\n');
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  for (const provider of providers) {
    const scope = cleanup.scope();
    const bench = await openBench(provider, scope);
    for (const concurrency of concurrencies) {
      const slots = workers * concurrency;
      const idealMs = Math.ceil(trials / slots) * epochMs;
      const group = await bench.startWorkers(workers, concurrency, epochMs);
      // Each process's first trials load and compile code (Prisma's query compiler, the data module).
      await bench.runStudy({ maxTrials: slots, parallelism: slots, maxEpochs: 1 });
      const run = await bench.runStudy({ maxTrials: trials, parallelism: slots, maxEpochs: 1 }, Math.max(600_000, 3 * idealMs));
      await group.stop();
      const l = latencies(run.trials, epochMs);
      const o = occupancy(run.trials, epochMs, run.wallMs);
      rows.push([
        provider,
        slots,
        l.completed,
        s(idealMs),
        s(run.wallMs),
        `${((run.wallMs / idealMs - 1) * 100).toFixed(1)}%`,
        (l.completed / (run.wallMs / 1000)).toFixed(1),
        pair(l.queueWait),
        pair(l.endToEnd),
        pair(l.processing),
        pair(refills(run.trials, slots)),
        `${o.inFlight.toFixed(1)} / ${o.held.toFixed(1)} / ${o.sleeping.toFixed(1)}`,
      ]);
      notes.push(`${provider}, ${slots} slots: ${formatCpu(run.cpu)}`);
      console.error(`${provider}, ${slots} slots: ${s(run.wallMs)} s`);
    }
    await scope.run();
  }
  console.log();
  printTable(['database', 'slots', 'trials', 'ideal s', 'wall s', 'overhead', 'trials/s', 'queue wait p50/p95 ms', 'end-to-end p50/p95 ms', 'processing p50/p95 ms', 'refill p50/p95 ms', 'mean slots: existing / held / sleeping'], rows);
  console.log(`
queue wait: trial created → a worker started it; end-to-end: created → result recorded; processing: started → recorded, less the sleep; refill: a trial recorded → the next one created.
mean slots: trials that existed (created, not ended), that a worker held, and that slept, averaged over the wall time.
${notes.join('\n')}`);
});
