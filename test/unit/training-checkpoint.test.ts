import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EncodedData, EpochMetrics, Params, TaskSpec } from '../../src/domain.ts';
import { OutOfMemoryError, selectBackend, TrialFailure } from '../../src/model/index.ts';
import { trainTrial, type TrainCheckpoint, type TrainInput } from '../../src/workers/training/index.ts';
import { asOutOfMemory } from '../../src/model/trial-failure.ts';
import { packList, unpackTensors } from '../../src/workers/training/checkpoint.ts';

/**
 * A paused trial continues from its checkpoint exactly as if it had never stopped: same
 * weights, same optimizer moments, same shuffles, same early-stopping state.
 */
function data(): { spec: TaskSpec; data: EncodedData } {
  const rows = 120;
  const features = new Float32Array(rows * 4);
  const labels = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < 4; k++) features[r * 4 + k] = Math.sin(r * 1.3 + k * 0.7) + (r % 3) * 0.4 * (k % 2 ? 1 : -1);
    labels[r] = r % 3;
  }
  return { spec: { kind: 'tabular', task: 'classification', inputShape: [4], outputs: 3 }, data: { features, labels, rows, trainRows: 90 } };
}

const params: Params = { family: 'mlp', layers: 2, units: 16, activation: 'relu', dropout: 0, batchNorm: true, learningRate: 0.01, batchSize: 16, optimizer: 'adam' };

function input(extra: Partial<TrainInput> = {}): TrainInput {
  return { family: 'mlp', params, ...data(), maxEpochs: 6, earlyStopping: { patience: 10, minDelta: 0 }, objective: { metric: 'val_loss', direction: 'minimize' }, seed: 5, ...extra };
}

describe('training checkpoints', () => {
  it('ends at once when the checkpoint already stands at the milestone, the last epoch, or an early stop', async () => {
    let saved: TrainCheckpoint | undefined;
    const keep = async (epoch: number, capture: () => Promise<TrainCheckpoint>) => ((saved = await capture()), 'continue' as const);
    await trainTrial(input({ maxEpochs: 3, onEpoch: (epoch, _m, capture) => keep(epoch, capture) }));
    const atEnd = saved!;
    expect(atEnd.epoch).toBe(3);
    const epochs: number[] = [];
    const finished = await trainTrial(input({ maxEpochs: 3, resume: atEnd, onEpoch: (epoch) => (epochs.push(epoch), 'continue') }));
    expect(finished).toMatchObject({ epochs: 3, stoppedBy: 'maxEpochs', history: [] });
    expect(finished.bestMetrics).toEqual(atEnd.bestMetrics);
    const paused = await trainTrial(input({ resume: atEnd, stopAtEpoch: 3, onEpoch: (epoch) => (epochs.push(epoch), 'continue') }));
    expect(paused).toMatchObject({ epochs: 3, stoppedBy: 'milestone' });
    const stopped = await trainTrial(input({ resume: { ...atEnd, stopper: { ...atEnd.stopper, wait: 2 } }, earlyStopping: { patience: 2, minDelta: 0 }, onEpoch: (epoch) => (epochs.push(epoch), 'continue') }));
    expect(stopped).toMatchObject({ epochs: 3, stoppedBy: 'earlyStopping' });
    expect(epochs).toEqual([]);
  });

  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('packs and unpacks tensors exactly', async () => {
    const a = tf.tensor2d([[1.5, -2], [3, 4e-8]]);
    const b = tf.tensor1d([7, 8, 9], 'int32');
    const [x, y] = unpackTensors(await packList([a, b])).map((t) => t.tensor) as [tf.Tensor, tf.Tensor];
    expect(x.shape).toEqual([2, 2]);
    expect(Array.from(x.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([a, b, x, y]);
  });

  it('continues a paused trial with the metrics it would have had without the pause', async () => {
    const straight: EpochMetrics[] = [];
    await trainTrial(input({ onEpoch: (_, m) => (straight.push(m), 'continue') }));

    const before = tf.memory().numTensors;
    let saved: TrainCheckpoint | undefined;
    const first = await trainTrial(input({ stopAtEpoch: 3, onEpoch: async (epoch, _m, checkpoint) => (epoch === 3 && (saved = await checkpoint()), 'continue' as const) }));
    expect(first).toMatchObject({ stoppedBy: 'milestone', epochs: 3, firstEpoch: 1 });
    expect(saved?.epoch).toBe(3);
    const resumed = await trainTrial(input({ resume: saved }));
    expect(tf.memory().numTensors).toBe(before);
    expect(resumed).toMatchObject({ stoppedBy: 'maxEpochs', epochs: 6, firstEpoch: 4 });
    // Epochs 4-6 after the pause equal epochs 4-6 of the straight run (BatchNorm statistics and Adam moments included).
    resumed.history.forEach((m, i) => {
      for (const [name, value] of Object.entries(m)) expect(value, `epoch ${i + 4} ${name}`).toBeCloseTo(straight[i + 3]![name]!, 5);
    });
    const best = straight.reduce((b, m, i) => (m.val_loss! < straight[b]!.val_loss! ? i : b), 0) + 1;
    expect(resumed.bestEpoch).toBe(best);
  });

  it('refuses a milestone outside the epochs left, and a checkpoint of another model', async () => {
    await expect(trainTrial(input({ stopAtEpoch: 6 }))).rejects.toThrow('stopAtEpoch: 6 must be an integer from the resumed epoch (0) up to below maxEpochs (6)');
    let saved: TrainCheckpoint | undefined;
    await trainTrial(input({ stopAtEpoch: 2, onEpoch: async (epoch, _m, checkpoint) => (epoch === 2 && (saved = await checkpoint()), 'continue' as const) }));
    await expect(trainTrial(input({ resume: saved, stopAtEpoch: 1 }))).rejects.toThrow('stopAtEpoch');
    const other = { ...params, units: 8 };
    await expect(trainTrial(input({ params: other, resume: saved }))).rejects.toBeInstanceOf(TrialFailure);
  });

  it('fails a trial over its memory limit once, with the reason, and frees its tensors', async () => {
    const before = tf.memory().numTensors;
    const error = await trainTrial(input({ memoryLimitBytes: 64 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutOfMemoryError);
    expect(error).toBeInstanceOf(TrialFailure);
    expect((error as Error).message).toMatch(/^out of memory: the trial held [\d.]+ MiB of tensors after epoch 1, over its limit of 0\.0 MiB \(TRIAL_MEMORY_MB\)$/);
    expect(tf.memory().numTensors).toBe(before);
    expect(asOutOfMemory(new RangeError('Array buffer allocation failed'))?.message).toMatch(/^out of memory: the backend could not allocate/);
    expect(asOutOfMemory(new Error('connection reset'))).toBeNull();
  });
});
