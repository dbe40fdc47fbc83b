import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, studyEnd, uploadForm, type TestApp } from '../helpers/app.ts';
import { mnistCsv, mnistRows } from '../helpers/mnist.ts';

/**
 * An architecture search that mixes every family that fits images, through
 * the API with a real worker: the leaderboard shows each family with its own
 * parameters, and the champion, whatever its family, serves predictions.
 */
describe('a study over every family', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { withWorker: true });
  });
  afterAll(async () => t?.close());

  it('trains mlp, cnn, rnn and transformer trials and ranks them together', async () => {
    const upload = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(mnistCsv(mnistRows(0, 20)), { name: 'digits', kind: 'image', target: 'label' }) });
    const { id: datasetId } = (await upload.json()) as { id: string };
    const small = {
      cnn: { filters: 4, blocks: 1, denseUnits: 16 },
      rnn: { units: 16, layers: 1, bidirectional: false },
      transformer: { modelDim: 16, heads: 2, blocks: 1, ffDim: 32 },
    };
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'nas', datasetId, objective: { metric: 'val_accuracy' }, budget: { maxTrials: 8, maxEpochs: 2, parallelism: 1 }, search: { space: small }, seed: 21 }),
    });
    expect(res.status).toBe(202);
    const study = (await res.json()) as { id: string; config: { search: { families: string[] } } };
    // No families given: the service offers every family that fits images.
    expect(study.config.search.families).toEqual(['mlp', 'cnn', 'rnn', 'transformer']);
    const end = await studyEnd(t.repo, study.id, 240_000);
    expect(end.state, end.errors).toBe('completed');

    const board = (await (await t.app.request(`/v1/studies/${study.id}/leaderboard`)).json()) as { trials: { family: string; params: Record<string, unknown> }[] };
    expect(board.trials).toHaveLength(8);
    const families = new Set(board.trials.map((x) => x.family));
    expect(families.size).toBeGreaterThanOrEqual(3);
    const keys: Record<string, string> = { mlp: 'units', cnn: 'filters', rnn: 'cell', transformer: 'heads' };
    for (const trial of board.trials) {
      expect(trial.params.family).toBe(trial.family);
      expect(trial.params).toHaveProperty(keys[trial.family]!);
    }
    const predict = await t.app.request('/v1/models/nas/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: mnistRows(900, 901).map((r) => r.pixels) }),
    });
    expect(predict.status).toBe(200);
    expect(((await predict.json()) as { predictions: unknown[] }).predictions).toHaveLength(10);
  });
});
