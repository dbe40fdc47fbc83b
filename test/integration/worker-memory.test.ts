import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { eventually } from '../helpers/processes.ts';
import { mnistCsv, mnistRows } from '../helpers/mnist.ts';

/**
 * A worker's tensors after many trials are what they were before the first:
 * every model, optimizer and batch is disposed. Runs the real worker, coordinator
 * and app in this process so tf.memory() can be read.
 */
describe('worker memory across trials', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { withWorker: true });
  });
  afterAll(async () => t?.close());

  it('holds no more tensors after 8 trials than before the first', async () => {
    const upload = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(mnistCsv(mnistRows(0, 20)), { name: 'digits', kind: 'image', target: 'label' }) });
    const { id: datasetId } = (await upload.json()) as { id: string };
    const before = tf.memory();
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'memory', datasetId, objective: { metric: 'val_loss' }, budget: { maxTrials: 8, maxEpochs: 2, parallelism: 1 }, search: { families: ['mlp', 'cnn'], space: { cnn: { filters: 4, blocks: 1, denseUnits: 16 } } }, seed: 9 }),
    });
    const { id } = (await res.json()) as { id: string };
    const heap: number[] = [];
    await eventually(async () => {
      const trials = await t.repo.trials.list(id);
      const done = trials.filter((x) => x.state === 'completed').length;
      if (done > heap.length) heap.push(process.memoryUsage().heapUsed);
      const study = await t.repo.studies.get(id);
      return study?.state === 'completed' ? true : undefined;
    }, 'the study to complete', 240_000, 100);
    const after = tf.memory();
    console.log(`tensors before ${before.numTensors} after ${after.numTensors}; bytes before ${before.numBytes} after ${after.numBytes}; heap MB after each trial ${heap.map((h) => (h / 2 ** 20).toFixed(0)).join(' ')}`);
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect((await t.repo.trials.list(id)).every((x) => x.state === 'completed')).toBe(true);
  });
});
