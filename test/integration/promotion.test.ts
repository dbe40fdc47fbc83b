import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDataset } from '../../src/data/index.ts';
import type { EpochMetrics, TaskSpec } from '../../src/domain.ts';
import type { StudyConfig } from '../../src/schemas.ts';
import { buildModel, disposeModel, serializeModel } from '../../src/model/index.ts';
import { startTestApp, studyEnd, type TestApp } from '../helpers/app.ts';
import { PROVIDERS } from '../helpers/databases.ts';

/**
 * Champion only when better: a finished study always registers a version, and `champion`
 * moves only when that version beats the study's baseline and the current champion on the same
 * validation rows (a champion trained on other data is scored on them by the worker). Studies
 * train one tiny mlp for a few epochs on a separable 2-feature table; champions are set up
 * through storage with chosen metrics where that makes the outcome certain.
 */
const params = { family: 'mlp', layers: 1, units: 8, activation: 'relu', dropout: 0, batchNorm: false, learningRate: 0.05, batchSize: 8, optimizer: 'adam' };

/** Separable: the class is the sign of x; z is noise. `extra` adds a column (another schema). */
function table(rows: number, seed: number, options: { extra?: boolean; rare?: boolean } = {}): string {
  const lines = [`x,z${options.extra ? ',w' : ''},class`];
  for (let i = 0; i < rows; i++) {
    const x = ((i * 37 + seed * 11) % 19) / 9 - 1 || 0.5;
    const z = ((i * 53 + seed * 7) % 13) / 6 - 1;
    // rare: one 'b' row only, which stays in training, so every validation row is 'a' and the majority baseline is 1.
    const label = options.rare ? (i === 0 ? 'b' : 'a') : x > 0 ? 'pos' : 'neg';
    lines.push([x, z, ...(options.extra ? [1] : []), label].join(','));
  }
  return `${lines.join('\n')}\n`;
}

describe.each(PROVIDERS)('promotion on %s', (provider) => {
  let t: TestApp;
  let data: string;
  let other: string;

  beforeAll(async () => {
    t = await startTestApp(provider, { withWorker: true });
    data = await upload(table(60, 1), 'class');
    // The same columns, other rows: a champion trained here is scored on the new study's rows.
    other = await upload(table(60, 2), 'class');
  });
  afterAll(async () => t?.close());

  /** Stores a dataset through storage, prepared as an upload would be (the upload route has tests of its own). */
  async function upload(csv: string, target: string): Promise<string> {
    const prepared = prepareDataset({ csv, kind: 'tabular', target, seed: 0 });
    const dataset = await t.repo.datasets.create({
      id: randomUUID(), projectId: 'default', name: `d-${randomUUID()}`, kind: 'tabular', task: prepared.task, target, rows: prepared.encoded.rows, summary: prepared.summary,
      preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows }, features: prepared.encoded.features, labels: prepared.encoded.labels,
    });
    return dataset.id;
  }

  /** Runs a one-trial study through the api and returns its view once it has ended. */
  async function study(datasetId: string, promoteTo: string, extra: Record<string, unknown> = {}) {
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: promoteTo, datasetId, promoteTo, objective: { metric: 'val_accuracy' }, budget: { maxTrials: 1, maxEpochs: 6 },
        search: { families: ['mlp'], space: { mlp: { layers: 1, units: 8, learningRate: 0.05, batchSize: 8, dropout: 0, optimizer: 'adam' } } },
        earlyStopping: { patience: 6 }, seed: 3, ...extra,
      }),
    });
    const created = (await res.json()) as { id: string };
    expect(res.status, JSON.stringify(created)).toBe(202);
    const end = await studyEnd(t.repo, created.id, 120_000);
    expect(end.state, end.errors).toBe('completed');
    return (await (await t.app.request(`/v1/studies/${created.id}`)).json()) as { message: string; config: StudyConfig; model: { name: string; version: number } };
  }

  /** Registers a model version through storage, as the champion, with the given metrics (and untrained weights of `spec`). */
  async function storedChampion(modelName: string, datasetId: string, metrics: EpochMetrics, spec: TaskSpec = { kind: 'tabular', task: 'classification', inputShape: [2], outputs: 2 }) {
    const config: StudyConfig = {
      objective: { metric: 'val_accuracy', direction: 'maximize' },
      budget: { maxTrials: 1, maxEpochs: 1, parallelism: 1, trialTimeoutSeconds: 3600, maxRetries: 2 },
      search: { algorithm: 'random', families: ['mlp'], space: {} },
      earlyStopping: { patience: 1, minDelta: 0 },
      seed: 1, promoteTo: modelName, device: 'auto',
    };
    const s = await t.repo.studies.create({ id: randomUUID(), projectId: 'default', name: modelName, datasetId, config });
    const trial = (await t.repo.trials.create({ id: randomUUID(), studyId: s.id, number: 0, family: 'mlp', params }))!;
    await t.repo.trials.start(trial.id, 'test', 'cpu');
    const model = buildModel('mlp', params, spec, 1);
    const artifact = await serializeModel(model);
    disposeModel(model);
    await t.repo.trials.complete(trial.id, 1, { value: 1, metrics, epochs: 1, bestEpoch: 1, durationMs: 1, artifact });
    return (await t.repo.models.promoteStudy({ projectId: 'default', modelName, studyId: s.id, trialId: trial.id, datasetId, family: 'mlp', metrics, message: () => 'set up' }))!;
  }

  const champion = async (model: string) => (await t.repo.models.byAlias('default', model, 'champion'))?.version;
  const versions = async (model: string) => (await t.repo.models.versions('default', model)).map((v) => ({ version: v.version, aliases: v.aliases }));

  it('registers a study that does not beat its baseline without the champion alias, and says why', async () => {
    const rare = await upload(table(40, 3, { rare: true }), 'class');
    const ended = await study(rare, 'under-baseline');
    expect(ended.config.promotion).toBe('if-better');
    expect(ended.config).toMatchObject({ baseline: { method: 'majority class', metric: 'val_accuracy', value: 1 } });
    expect(ended.message).toMatch(/registered as under-baseline v1 without the champion alias: its val_accuracy [\d.]+ does not beat the baseline \(majority class\) 1$/);
    expect(ended.model).toEqual({ name: 'under-baseline', version: 1 });
    expect(await versions('under-baseline')).toEqual([{ version: 1, aliases: [] }]);
    expect(await champion('under-baseline')).toBeUndefined();
  });

  it('promotes a first study that beats its baseline', async () => {
    const ended = await study(data, 'first');
    expect(ended.message).toMatch(/promoted to first v1 as champion \(it beats the baseline, majority class, and there was no champion\)$/);
    expect(await champion('first')).toBe(1);
  });

  it('keeps the champion when the new version is worse on the same rows, with both numbers', async () => {
    await storedChampion('worse', data, { val_accuracy: 1.5, val_loss: 0 });
    const ended = await study(data, 'worse');
    expect(ended.message).toMatch(/registered as worse v2 without the champion alias: its val_accuracy [\d.]+ does not beat the champion v1's 1\.5 \(on the same validation rows\)$/);
    expect(await versions('worse')).toEqual([{ version: 1, aliases: ['champion'] }, { version: 2, aliases: [] }]);
  });

  it('moves the champion when the new version is better, by the objective direction', async () => {
    await storedChampion('better', data, { val_accuracy: 0.01, val_loss: 9 });
    const byAccuracy = await study(data, 'better');
    expect(byAccuracy.message).toMatch(/promoted to better v2 as champion: its val_accuracy [\d.]+ beats the champion v1's 0\.01 \(on the same validation rows\) and the baseline's [\d.]+$/);
    expect(await champion('better')).toBe(2);
    // val_loss minimizes: a champion with a huge loss is beaten, one with a loss of 0 is not.
    await storedChampion('by-loss', data, { val_accuracy: 0, val_loss: 1e9 });
    expect((await study(data, 'by-loss', { objective: { metric: 'val_loss' } })).message).toMatch(/promoted to by-loss v2 as champion: its val_loss/);
    await storedChampion('by-loss-kept', data, { val_accuracy: 0, val_loss: 0 });
    expect((await study(data, 'by-loss-kept', { objective: { metric: 'val_loss' } })).message).toMatch(/does not beat the champion v1's 0 \(on the same validation rows\)$/);
    expect(await champion('by-loss-kept')).toBe(1);
  });

  it("'always' moves the champion whatever the score; 'never' never does", async () => {
    await storedChampion('always', data, { val_accuracy: 1.5 });
    expect((await study(data, 'always', { promotion: 'always' })).message).toMatch(/promoted to always v2 as champion \(the study's promotion is "always"\)$/);
    expect(await champion('always')).toBe(2);
    const never = await study(data, 'never', { promotion: 'never' });
    expect(never.message).toMatch(/registered as never v1 without the champion alias: the study's promotion is "never"$/);
    expect(await versions('never')).toEqual([{ version: 1, aliases: [] }]);
  });

  it('refuses an unknown promotion, naming the field and the choices', async () => {
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', datasetId: data, objective: { metric: 'val_accuracy' }, budget: { maxTrials: 1, maxEpochs: 1 }, promotion: 'sometimes' }),
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('promotion');
    expect(text).toContain('if-better');
  });

  it('scores a champion trained on another dataset on the new study\'s validation rows', async () => {
    // A real champion, trained on the other rows: it classifies these ones well too.
    const trained = await study(other, 'elsewhere', { budget: { maxTrials: 1, maxEpochs: 12 }, earlyStopping: { patience: 12 } });
    expect(trained.message).toMatch(/promoted to elsewhere v1 as champion/);
    const ended = await study(data, 'elsewhere');
    // Promoted or not (both models are good), the champion's number was scored on this study's rows.
    expect(ended.message).toMatch(/elsewhere v2 .*the champion v1's [\d.]+ \(scored on this study's validation rows\)/);
    const scored = Number(/champion v1's ([\d.]+)/.exec(ended.message)?.[1]);
    expect(scored).toBeGreaterThan(0.7);
  });

  it('ends the study, without moving the alias, when the champion cannot take the new rows', async () => {
    const wider = await upload(table(60, 4, { extra: true }), 'class');
    await storedChampion('mismatch', wider, { val_accuracy: 0.1 }, { kind: 'tabular', task: 'classification', inputShape: [3], outputs: 2 });
    const ended = await study(data, 'mismatch');
    expect(ended.message).toMatch(/registered as mismatch v2 without the champion alias: the champion v1 could not be scored on this study's validation rows \(instances\[0\]\.w: is required; send null to ask for imputation\)$/);
    expect(await champion('mismatch')).toBe(1);
  });
});
