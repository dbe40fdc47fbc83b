/**
 * Soak: 200 short real trials (tfjs, wasm) in one worker, through the real API, coordinator,
 * queue and database; the worker's memory after trial 10 and after trial 200 should be the
 * same. Prints heap, RSS and live tensors at every 10th trial.
 *
 *   npm run bench:soak [-- --trials 200]
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { startTestApp, studyEnd, uploadForm } from '../test/helpers/app.ts';

const trials = process.argv.includes('--trials') ? Number(process.argv[process.argv.indexOf('--trials') + 1]) : 200;
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

const t = await startTestApp('sqlite', { withWorker: true, backend: 'wasm' });
try {
  const csv = readFileSync(new URL('../test/fixtures/wine.csv', import.meta.url), 'utf8');
  const upload = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(csv, { name: 'wine', kind: 'tabular', target: 'cultivar' }) });
  const { id: datasetId } = (await upload.json()) as { id: string };
  const res = await t.app.request('/v1/studies', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'soak', datasetId, objective: { metric: 'val_accuracy' }, budget: { maxTrials: trials, maxEpochs: 2, parallelism: 1 }, search: { families: ['mlp'] }, seed: 1 }),
  });
  const { id } = (await res.json()) as { id: string };
  console.log(`soak: ${trials} trials of mlp on UCI wine (2 epochs each), one worker in this process, wasm backend; memory sampled when each 10th trial has ended`);
  console.log('trials ended | heap MB | RSS MB | live tensors | tensor MB');
  const samples: { ended: number; heap: number; rss: number; tensors: number }[] = [];
  let next = 10;
  const started = performance.now();
  while (next <= trials) {
    const ended = (await t.repo.trials.list(id)).filter((x) => !['queued', 'running'].includes(x.state)).length;
    if (ended >= next) {
      // Collect first when the process allows it, so the figure is what is live, not what awaits collection.
      (globalThis as { gc?: () => void }).gc?.();
      const { heapUsed, rss } = process.memoryUsage();
      const { numTensors, numBytes } = tf.memory();
      samples.push({ ended, heap: heapUsed, rss, tensors: numTensors });
      console.log(`${ended} | ${mb(heapUsed)} | ${mb(rss)} | ${numTensors} | ${mb(numBytes)}`);
      next += 10;
    } else {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const end = await studyEnd(t.repo, id, 3_600_000);
  const first = samples[0];
  const last = samples.at(-1);
  if (first && last) {
    console.log(`study ${end.state} in ${((performance.now() - started) / 1000).toFixed(0)} s; from trial ${first.ended} to ${last.ended}: heap ${mb(first.heap)} → ${mb(last.heap)} MB (${((last.heap / first.heap - 1) * 100).toFixed(1)}%), RSS ${mb(first.rss)} → ${mb(last.rss)} MB, tensors ${first.tensors} → ${last.tensors}`);
  }
} finally {
  await t.close();
}
