import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDataset } from '../../src/data/index.ts';
import { PayloadTooLargeError, ValidationError } from '../../src/errors.ts';
import { MAAS_VERSION, readArchive, writeArchive, type ModelCard } from '../../src/serving/archive.ts';
import type { VersionParts } from '../../src/serving/source.ts';
import { buildModel, disposeModel, predictBatch, selectBackend, serializeModel } from '../../src/model/index.ts';
import { wineParams } from '../helpers/wine.ts';

const wine = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');

/** The archive's files, edited by `edit`, zipped again; `resign` rewrites the manifest to match, as a careful forger would. */
function rezip(bytes: Uint8Array, edit: (files: Record<string, Uint8Array>) => void, resign = false): Uint8Array {
  const files = unzipSync(bytes);
  edit(files);
  if (resign) {
    const listed = Object.keys(files)
      .filter((p) => p !== 'manifest.json')
      .sort()
      .map((path) => ({ path, bytes: files[path]!.length, sha256: createHash('sha256').update(files[path]!).digest('hex') }));
    const checksum = `sha256:${createHash('sha256').update(listed.map((f) => `${f.sha256}  ${f.path}\n`).join('')).digest('hex')}`;
    files['manifest.json'] = strToU8(JSON.stringify({ format: 'maas-model-archive', formatVersion: 1, files: listed, checksum }));
  }
  return zipSync(files);
}

const json = (files: Record<string, Uint8Array>, path: string) => JSON.parse(strFromU8(files[path]!)) as Record<string, unknown>;

/** Expects readArchive to refuse `bytes` with a message containing every part. */
function refused(bytes: Uint8Array, ...parts: (string | RegExp)[]): ValidationError {
  let error: unknown;
  try {
    readArchive(bytes, { fileName: 'wine-v3.maas.zip' });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ValidationError);
  const message = (error as Error).message;
  expect(message).toContain('archive: "wine-v3.maas.zip"');
  for (const part of parts) expect(message).toMatch(part);
  return error as ValidationError;
}

describe('model archives', () => {
  let parts: VersionParts;
  let card: ModelCard;
  let archive: { bytes: Uint8Array; checksum: string };
  let model: tf.LayersModel;
  const rows = 5;
  let features: Float32Array;

  beforeAll(async () => {
    await selectBackend('cpu');
    const prepared = prepareDataset({ csv: wine, kind: 'tabular', target: 'cultivar', seed: 0 });
    model = buildModel('mlp', wineParams, prepared.spec!, 7);
    parts = { artifact: await serializeModel(model), preprocessing: prepared.preprocessing, inputShape: prepared.spec!.inputShape };
    features = prepared.encoded.features.slice(0, rows * 13);
    card = {
      name: 'wine', version: 3, family: 'mlp', params: wineParams, objective: { metric: 'val_accuracy', direction: 'maximize' },
      metrics: { val_accuracy: 0.9, val_loss: 0.3 }, baseline: { method: 'majority class', metric: 'val_accuracy', value: 0.4 },
      dataset: { id: 'd1', name: 'wine', kind: 'tabular', task: 'classification', target: 'cultivar', rows: 178, summary: prepared.summary },
      study: { id: 's1', name: 'wine search' }, trial: { id: 't1', number: 4, epochs: 2, bestEpoch: 2 },
      curve: [{ epoch: 1, metrics: { val_accuracy: 0.7 } }, { epoch: 2, metrics: { val_accuracy: 0.9 } }],
      createdAt: '2026-01-02T03:04:05.000Z', maasVersion: MAAS_VERSION,
    };
    archive = writeArchive(parts, card);
  });
  afterAll(() => disposeModel(model));

  it('reads back the model, its preprocessing and its card, every checksum verified, and writes the same bytes twice', () => {
    const read = readArchive(archive.bytes);
    expect(read.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(read.checksum).toBe(archive.checksum);
    expect(read.card).toEqual(card);
    expect(read.preprocessing).toEqual(parts.preprocessing);
    expect(read.inputShape).toEqual([13]);
    expect(read.artifact.topology).toEqual(parts.artifact.topology);
    expect(read.artifact.weightSpecs).toEqual(parts.artifact.weightSpecs);
    expect(Buffer.from(read.artifact.weights).equals(Buffer.from(parts.artifact.weights))).toBe(true);
    expect(Buffer.from(writeArchive(parts, card).bytes).equals(Buffer.from(archive.bytes))).toBe(true);
    const files = unzipSync(archive.bytes);
    expect(Object.keys(files).sort()).toEqual(['card.json', 'group1-shard1of1.bin', 'manifest.json', 'model.json', 'preprocessing.json']);
  });

  it('holds a TF.js layers model that tf.loadLayersModel loads from the unpacked files and that predicts the same numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maas-archive-'));
    for (const [path, data] of Object.entries(unzipSync(archive.bytes))) writeFileSync(join(dir, path), data);
    // tfjs loads files over HTTP (file:// needs tfjs-node): a plain static server of the folder.
    const server: Server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(dir, (req.url ?? '/').slice(1))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    try {
      const loaded = await tf.loadLayersModel(`http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`);
      const there = await predictBatch(loaded, features, rows, [13]);
      loaded.dispose();
      const here = await predictBatch(model, features, rows, [13]);
      expect(there).toHaveLength(here.length);
      there.forEach((v, i) => expect(Math.abs(v - here[i]!)).toBeLessThan(1e-6));
    } finally {
      await new Promise((done) => server.close(done));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file changed after writing, naming it and both checksums', () => {
    const flipped = rezip(archive.bytes, (files) => {
      files['group1-shard1of1.bin']![0]! ^= 1;
    });
    refused(flipped, 'group1-shard1of1.bin with SHA-256', /but manifest\.json says [0-9a-f]{64}; the file was changed or damaged/);
    const longer = rezip(archive.bytes, (files) => {
      files['card.json'] = strToU8(`${strFromU8(files['card.json']!)} `);
    });
    refused(longer, /card\.json of \d+ bytes, but manifest\.json says \d+/);
  });

  it('refuses a manifest whose checksum of the whole does not match its files', () => {
    const edited = rezip(archive.bytes, (files) => {
      const manifest = json(files, 'manifest.json');
      manifest.checksum = `sha256:${'0'.repeat(64)}`;
      files['manifest.json'] = strToU8(JSON.stringify(manifest));
    });
    refused(edited, `but manifest.json says sha256:${'0'.repeat(64)}; the manifest was changed`);
  });

  it('refuses a file added or taken away, and a missing or malformed manifest', () => {
    refused(rezip(archive.bytes, (files) => void (files['extra.txt'] = strToU8('hi'))), 'holds extra.txt, which manifest.json does not list');
    refused(rezip(archive.bytes, (files) => void delete files['preprocessing.json']), 'lacks preprocessing.json, which manifest.json lists');
    refused(rezip(archive.bytes, (files) => void delete files['manifest.json']), 'holds no manifest.json; it is not a maas model archive');
    refused(rezip(archive.bytes, (files) => void (files['manifest.json'] = strToU8('{"format":'))), 'has a manifest.json that is not JSON');
    refused(rezip(archive.bytes, (files) => void (files['manifest.json'] = strToU8('{"format":"other"}'))), 'has a manifest.json that is not valid: format');
    refused(rezip(archive.bytes, (files) => void (files['models/model.json'] = strToU8('{}'))), 'holds models/model.json; a maas archive has no folders');
  });

  it('refuses contents that do not fit, even under a manifest rewritten to match', () => {
    const badPre = rezip(archive.bytes, (files) => {
      const pre = json(files, 'preprocessing.json');
      delete pre.columns;
      files['preprocessing.json'] = strToU8(JSON.stringify(pre));
    }, true);
    refused(badPre, 'has a preprocessing.json that is not valid: columns is required for tabular data');
    const shortWeights = rezip(archive.bytes, (files) => void (files['group1-shard1of1.bin'] = files['group1-shard1of1.bin']!.slice(8)), true);
    refused(shortWeights, /has \d+ bytes of weights, but the weights manifest of model\.json describes \d+/);
    const noShape = rezip(archive.bytes, (files) => {
      const pre = json(files, 'preprocessing.json');
      pre.inputShape = [0];
      files['preprocessing.json'] = strToU8(JSON.stringify(pre));
    }, true);
    refused(noShape, 'has a preprocessing.json that is not valid: inputShape');
    const badCard = rezip(archive.bytes, (files) => void (files['card.json'] = strToU8(JSON.stringify({ ...json(files, 'card.json'), name: '../x' }))), true);
    refused(badCard, 'has a card.json that is not valid: name');
  });

  it('refuses what is not a zip, a damaged zip, and one that would expand past the limits before inflating it', () => {
    refused(strToU8('{"not":"a zip"}'), 'is not a zip archive');
    refused(archive.bytes.slice(0, archive.bytes.length - 30), 'is not a readable zip archive');
    const tooBig = () => readArchive(archive.bytes, { fileName: 'w.zip', limits: { maxUncompressedBytes: 1000 } });
    expect(tooBig).toThrow(PayloadTooLargeError);
    expect(tooBig).toThrow('expands to more than 1000 bytes');
    expect(() => readArchive(archive.bytes, { limits: { maxJsonBytes: 100 } })).toThrow(/holds \w+\.json of \d+ bytes, more than the 100/);
    expect(() => readArchive(archive.bytes, { limits: { maxEntries: 3 } })).toThrow('holds more than 3 entries');
    expect(() => readArchive(archive.bytes, { limits: { maxArchiveBytes: 10 } })).toThrow(PayloadTooLargeError);
  });
});
