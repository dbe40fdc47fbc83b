/**
 * npm run bench:scale — trials per minute as worker processes are added.
 *
 * For each count in BENCH_WORKERS, that many worker processes of concurrency 1 run one study
 * with parallelism = workers, of trials whose BENCH_EPOCHS epochs each sleep BENCH_EPOCH_MS,
 * sized to take about BENCH_SECONDS when nothing is lost. Real coordinator, BullMQ on Redis, a
 * fresh database of each kind in BENCH_DATABASES; only tfjs training is replaced by the sleep.
 * A warm-up study of one trial per worker runs first, untimed. Speed-up is against the 1-worker
 * run of the same invocation (the first count); efficiency = speed-up / workers.
 * Defaults: 1,2,4,8 workers, 3 epochs × 200 ms, 25 s, sqlite.
 */
import { formatCpu } from './cpu-use.ts';
import { openBench, printTable, providersFromEnv, runBench } from './sleep-trials.ts';

const counts = (process.env.BENCH_WORKERS ?? '1,2,4,8').split(',').map(Number);
const epochs = Number(process.env.BENCH_EPOCHS ?? 3);
const epochMs = Number(process.env.BENCH_EPOCH_MS ?? 200);
const seconds = Number(process.env.BENCH_SECONDS ?? 25);
const providers = providersFromEnv(['sqlite']);
const trialMs = epochs * epochMs;
const perWorker = Math.max(1, Math.round((seconds * 1000) / trialMs));

runBench(async (cleanup) => {
  if (counts.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) throw new Error(`BENCH_WORKERS is "${counts}"; each count must be an integer from 1 to 64`);
  if (perWorker * Math.max(...counts) > 1000) throw new Error(`${perWorker * Math.max(...counts)} trials would exceed a study's 1000; lower BENCH_SECONDS`);
  console.log(`Scaling: ${counts.join(', ')} worker processes of concurrency 1 (study parallelism = workers), ${perWorker} trials per worker,`);
  console.log(`each ${epochs} epochs × ${epochMs} ms of sleep (ideal: ${(60_000 / trialMs).toFixed(0)} trials/min per worker). Real coordinator, BullMQ, database; no tfjs.`);
  console.log('An untimed warm-up study of one trial per worker runs first. Speed-up is against the 1-worker run; efficiency = speed-up / workers.\n');
  for (const provider of providers) {
    const scope = cleanup.scope();
    const bench = await openBench(provider, scope);
    const rows: (string | number)[][] = [];
    let baseline: number | undefined;
    for (const workers of counts) {
      const group = await bench.startWorkers(workers, 1, epochMs);
      // Untimed, as in bench:overhead: each process's first trial loads and compiles code.
      await bench.runStudy({ maxTrials: workers, parallelism: workers, maxEpochs: 1 });
      const run = await bench.runStudy({ maxTrials: perWorker * workers, parallelism: workers, maxEpochs: epochs });
      await group.stop();
      const completed = run.trials.filter((t) => t.state === 'completed').length;
      const perMinute = completed / (run.wallMs / 60_000);
      baseline ??= perMinute / workers;
      const speedUp = perMinute / baseline;
      rows.push([workers, completed, (run.wallMs / 1000).toFixed(1), ((perWorker * trialMs) / 1000).toFixed(1), perMinute.toFixed(0), `${speedUp.toFixed(2)}×`, `${((speedUp / workers) * 100).toFixed(0)}%`]);
      console.error(`${provider}, ${workers} workers: ${formatCpu(run.cpu)}`);
    }
    await scope.run();
    console.log(`\n${provider}:`);
    printTable(['workers', 'trials', 'wall s', 'ideal s', 'trials/min', 'speed-up', 'efficiency'], rows);
  }
});
