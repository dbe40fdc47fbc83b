import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, studyEnd, type TestApp } from '../helpers/app.ts';

/**
 * ASHA through the API: rungs at 1, 3 and 9 epochs, parallelism 3. Trials stop at a rung
 * unless they are among the best third there; a promoted trial continues from its checkpoint
 * in a new job, so its curve goes on where it paused instead of starting again at epoch 1.
 */
interface Trial {
  id: string;
  number: number;
  state: string;
  epochs: number;
  rung: number;
  attempts: number;
  value: number;
}

describe('ASHA', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { withWorker: true, backend: 'wasm' });
  });
  afterAll(async () => t?.close());

  it('stops trials at rungs and continues promoted ones from their checkpoints', { timeout: 300_000 }, async () => {
    const upload = await t.app.request('/v1/datasets/samples/mnist', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 400, seed: 3 }) });
    const { id: datasetId } = (await upload.json()) as { id: string };
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'asha',
        datasetId,
        objective: { metric: 'val_accuracy' },
        budget: { maxTrials: 9, maxEpochs: 9, parallelism: 3 },
        search: { families: ['mlp'], scheduler: 'asha', minResource: 1, reductionFactor: 3, space: { mlp: { batchSize: 32, layers: 1 } } },
        earlyStopping: { patience: 20 },
        seed: 8,
      }),
    });
    const created = (await res.json()) as { id: string; config: { search: { scheduling: unknown } } };
    expect(res.status, JSON.stringify(created)).toBe(202);
    expect(created.config.search.scheduling).toEqual({ scheduler: 'asha', resources: { minResource: 1, maxResource: 9, reductionFactor: 3 }, pruner: null });
    const end = await studyEnd(t.repo, created.id);
    expect(end.state, end.errors).toBe('completed');

    const { trials } = (await (await t.app.request(`/v1/studies/${created.id}/trials`)).json()) as { trials: Trial[] };
    console.log(`asha: ${trials.map((x) => `#${x.number} ${x.state} ${x.epochs}ep rung ${x.rung} ${x.value.toFixed(3)}`).join('; ')}`);
    expect(trials).toHaveLength(9);
    // Every trial ran to a rung: 1, 3 or 9 epochs; ⌊9/3⌋ = 3 reached 3 epochs and ⌊3/3⌋ = 1 reached 9.
    for (const x of trials) expect([1, 3, 9]).toContain(x.epochs);
    expect(trials.filter((x) => x.epochs >= 3)).toHaveLength(3);
    expect(trials.filter((x) => x.epochs === 9 && x.state === 'completed')).toHaveLength(1);
    expect(trials.filter((x) => x.state === 'pruned')).toHaveLength(8);
    // The three promoted from rung 0 were the best three there (their rung-0 value is their value after epoch 1).
    expect(trials.filter((x) => x.rung >= 1)).toHaveLength(3);

    for (const x of trials.filter((trial) => trial.rung >= 1)) {
      const detail = (await (await t.app.request(`/v1/studies/${created.id}/trials/${x.id}`)).json()) as { curve: { epoch: number; attempt: number }[] };
      // One record per epoch, no gaps; each segment (attempt) recorded only its own epochs:
      // rung 0 by the first job, epochs 2-3 by the second, 4-9 by the third. A restart would re-record epoch 1.
      expect(detail.curve.map((e) => e.epoch)).toEqual(Array.from({ length: x.epochs }, (_, i) => i + 1));
      const segment = (epoch: number) => (epoch <= 1 ? 1 : epoch <= 3 ? 2 : 3);
      expect(detail.curve.map((e) => e.attempt)).toEqual(detail.curve.map((e) => segment(e.epoch)));
      expect(x.attempts).toBe(x.rung + 1);
    }
    const view = (await (await t.app.request(`/v1/studies/${created.id}`)).json()) as { best: { epochs: number }; model: { version: number } };
    expect(view.model.version).toBe(1);
    // Operators see the trials' durations by final state.
    const metrics = await (await t.app.request('/metrics')).text();
    expect(metrics).toContain('# TYPE maas_trial_duration_seconds summary');
    expect(metrics).toContain('maas_trial_duration_seconds_count{state="pruned"} 8');
    expect(metrics).toContain('maas_trial_duration_seconds_count{state="completed"} 1');
    expect(metrics).toMatch(/maas_trial_duration_seconds\{state="completed",quantile="0.5"\} \d/);
  });

  const study = async (name: string, search: Record<string, unknown>, budget: Record<string, number>) => {
    const upload = await t.app.request('/v1/datasets/samples/mnist', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 300, seed: 5 }) });
    const { id: datasetId } = (await upload.json()) as { id: string };
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, datasetId, objective: { metric: 'val_accuracy' }, budget, search: { families: ['mlp'], space: { mlp: { batchSize: 32, layers: 1 } }, ...search }, earlyStopping: { patience: 20 }, seed: 11 }),
    });
    const created = (await res.json()) as { id: string };
    expect(res.status, JSON.stringify(created)).toBe(202);
    const end = await studyEnd(t.repo, created.id);
    expect(end.state, end.errors).toBe('completed');
    return ((await (await t.app.request(`/v1/studies/${created.id}/trials`)).json()) as { trials: (Trial & { error: string | null })[] }).trials;
  };

  it('runs Hyperband brackets that start at 1, 3 and 9 epochs', { timeout: 300_000 }, async () => {
    const trials = await study('hyperband', { scheduler: 'hyperband', reductionFactor: 3 }, { maxTrials: 12, maxEpochs: 9, parallelism: 2 });
    console.log(`hyperband: ${trials.map((x) => `#${x.number} ${x.state} ${x.epochs}ep`).join('; ')}`);
    // Brackets' rungs: [1, 3, 9], [3, 9] and [9]: every trial stops at one of those epochs.
    for (const x of trials) expect([1, 3, 9]).toContain(x.epochs);
    expect(trials.filter((x) => x.state === 'completed').length).toBeGreaterThanOrEqual(1);
  });

  it('prunes trials below the median of completed ones with the median rule', { timeout: 300_000 }, async () => {
    const trials = await study(
      'median',
      { pruner: { type: 'median', nStartupTrials: 2 }, space: { mlp: { batchSize: 32, layers: 1, learningRate: { type: 'float', low: 1e-5, high: 3e-2, log: true } } } },
      { maxTrials: 8, maxEpochs: 5, parallelism: 1 },
    );
    console.log(`median: ${trials.map((x) => `#${x.number} ${x.state} ${x.epochs}ep ${x.value.toFixed(3)}`).join('; ')}`);
    const pruned = trials.filter((x) => x.state === 'pruned');
    expect(pruned.length).toBeGreaterThanOrEqual(1);
    for (const x of pruned) {
      expect(x.number).toBeGreaterThanOrEqual(2);
      expect(x.epochs).toBeLessThan(5);
      expect(x.error).toMatch(/^pruned by the median rule at epoch \d$/);
    }
    for (const x of trials.filter((trial) => trial.state === 'completed')) expect(x.epochs).toBe(5);
  });
});
