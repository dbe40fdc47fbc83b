import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../helpers/databases.ts';
import { startTestApp, studyEnd, type TestApp } from '../helpers/app.ts';
import { jpeg, png, zip, type RawImage } from '../helpers/images.ts';
import { mnistRows } from '../helpers/mnist.ts';

/**
 * Image zips through the whole path: real MNIST digits written as PNG and JPEG files in one
 * folder per digit, uploaded with kind=image, trained on, and the champion asked about
 * held-out digits sent as raw 0..255 pixel arrays.
 */
const DIGITS = [0, 1, 2, 3];
const isDigit = (r: { label: number }) => DIGITS.includes(r.label);
const train = mnistRows(0, 40).filter(isDigit);
const heldOut = mnistRows(500, 520).filter(isDigit);
const image = (pixels: number[]): RawImage => ({ width: 28, height: 28, channels: 1, data: pixels });

/** `digits/<digit>/<i>.png`, every fourth image a JPEG instead; a wrapping folder and macOS clutter, as Finder zips. */
function digitsZip(): Uint8Array {
  const files: Record<string, Uint8Array> = { '__MACOSX/digits/._0': new Uint8Array([0]) };
  train.forEach((r, i) => {
    files[i % 4 === 0 ? `digits/${r.label}/${i}.jpg` : `digits/${r.label}/${i}.png`] = i % 4 === 0 ? jpeg(image(r.pixels), 95) : png(image(r.pixels));
  });
  return zip(files);
}

function zipForm(bytes: Uint8Array, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.set('file', new File([new Uint8Array(bytes)], 'digits.zip', { type: 'application/zip' }));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return form;
}

describe.each(PROVIDERS)('image zips on %s', (provider) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(provider, { withWorker: true });
  });
  afterAll(async () => t?.close());

  const json = async (path: string, init: RequestInit = {}) => {
    const res = await t.app.request(path, init);
    return { status: res.status, body: (await res.json()) as any };
  };
  const post = (path: string, body: unknown) => json(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('refuses a zip uploaded as a tabular dataset, naming the field, and stores nothing', async () => {
    const { status, body } = await json('/v1/datasets', { method: 'POST', body: zipForm(digitsZip(), { name: 'wrong', kind: 'tabular', target: 'label' }) });
    expect(status).toBe(400);
    expect(body.error.message).toContain('file: "digits.zip" is a zip archive, but kind is "tabular"');
    expect(body.error.message).toContain('kind=image');
    expect((await json('/v1/datasets')).body.datasets).toEqual([]);
  });

  it('refuses a zip whose image is corrupt, naming its path, and stores nothing', async () => {
    const bytes = zip({ 'a/1.png': png(image(train[0]!.pixels)), 'a/2.png': png(image(train[1]!.pixels)), 'b/1.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47]), 'b/2.png': png(image(train[2]!.pixels)) });
    const { status, body } = await json('/v1/datasets', { method: 'POST', body: zipForm(bytes, { name: 'broken', kind: 'image' }) });
    expect(status).toBe(400);
    expect(body.error.message).toContain('file: "b/1.png"');
    expect((await json('/v1/datasets')).body.datasets).toEqual([]);
  });

  it('trains on a zip of real digits and predicts held-out raw pixels better than the majority class', async () => {
    const upload = await json('/v1/datasets', { method: 'POST', body: zipForm(digitsZip(), { name: 'digits', kind: 'image', seed: '3' }) });
    expect(upload.status, JSON.stringify(upload.body)).toBe(201);
    const { summary } = upload.body;
    expect(upload.body).toMatchObject({ kind: 'image', task: 'classification', target: 'label', rows: train.length });
    expect(summary.shape).toEqual([28, 28, 1]);
    expect(summary.classes).toEqual(DIGITS.map((d) => ({ label: String(d), count: 40 })));
    expect(summary.split).toMatchObject({ method: 'stratified', train: 128, validation: 32 });
    expect(summary.images).toMatchObject({
      format: 'zip',
      root: 'digits',
      ignored: 1,
      perClass: { 0: 40, 1: 40, 2: 40, 3: 40 },
      formats: { png: 120, jpeg: 40 },
      sizes: { minWidth: 28, maxWidth: 28, minHeight: 28, maxHeight: 28 },
      resized: 0,
      converted: { toGrayscale: 0, toRgb: 0 },
    });

    const study = await post('/v1/studies', {
      name: 'zip-digits',
      datasetId: upload.body.id,
      objective: { metric: 'val_accuracy' },
      budget: { maxTrials: 2, maxEpochs: 2, parallelism: 1 },
      search: {
        families: ['mlp', 'cnn'],
        space: {
          mlp: { layers: 1, units: 64, activation: 'relu', dropout: 0, batchNorm: false, learningRate: 0.003, batchSize: 16, optimizer: 'adam' },
          cnn: { blocks: 1, filters: 8, kernelSize: 3, denseUnits: 32, dropout: 0, learningRate: 0.003, batchSize: 16, optimizer: 'adam' },
        },
      },
      seed: 5,
    });
    expect(study.status, JSON.stringify(study.body)).toBe(202);
    const end = await studyEnd(t.repo, study.body.id, 240_000);
    expect(end.state, end.errors).toBe('completed');

    const { status, body } = await post('/v1/models/zip-digits/predict', { instances: heldOut.map((r) => r.pixels) });
    expect(status, JSON.stringify(body)).toBe(200);
    const accuracy = body.predictions.filter((p: { label: string }, i: number) => p.label === String(heldOut[i]!.label)).length / heldOut.length;
    const majority = 40 / train.length;
    console.log(`[${provider}] zip digits held-out accuracy ${accuracy.toFixed(3)} vs majority class ${majority.toFixed(3)} (${heldOut.length} images)`);
    expect(accuracy).toBeGreaterThan(majority + 0.4);
  });
});
