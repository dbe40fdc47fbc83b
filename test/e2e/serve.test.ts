import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/workers/training/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/processes.ts';
import { KINDS, registerVersion, sameNumbers, storeDataset } from '../helpers/served-models.ts';
import { wineRow } from '../helpers/wine.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/maas.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `maas args` to its end. */
function maas(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The real commands: `maas models export` against a running api, then `maas serve --model` as a
 * process of its own, answering what the api answers.
 */
describe('maas models export, then maas serve --model', () => {
  let t: TestApp;
  let api: ReturnType<typeof serve>;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'maas-serve-e2e-'));
  const archive = join(dir, 'wine.maas.zip');

  beforeAll(async () => {
    await selectBackend('cpu');
    t = await startTestApp('sqlite');
    const dataset = await storeDataset(t.repo, 'default', 'wine', KINDS[0]!.input());
    await registerVersion(t.repo, { projectId: 'default', name: 'wine', dataset, family: 'mlp', seed: 4 });
    const port = await freePort();
    api = serve({ fetch: t.app.fetch, port, hostname: '127.0.0.1' });
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise((done) => api?.close(done));
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports a version to a file, and serves it in a process that predicts what the api does', async () => {
    const exported = await maas(['models', 'export', 'wine', '--version', '1', '-o', archive, '--url', url]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(new RegExp(`^wine v1 → ${archive} \\(\\d+ bytes, sha256:[0-9a-f]{64}\\)$`, 'm'));
    const missing = await maas(['models', 'export', 'wine', '--version', '7', '--url', url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("version 7 of model 'wine' does not exist");

    const port = await freePort();
    const child = spawn(process.execPath, [bin, 'serve', '--model', archive], { cwd: root, env: { ...process.env, PORT: String(port), MAAS_BACKEND: 'cpu', LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await new Promise<void>((ready, fail) => {
        child.stderr.on('data', (d: Buffer) => {
          log += d.toString();
          if (log.includes('serving predictions')) ready();
        });
        void exited.then((code) => fail(new Error(`maas serve exited (${code}):\n${log}`)));
      });
      const body = JSON.stringify({ instances: [wineRow, { ...wineRow, proline: 500 }] });
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
      const [there, here] = await Promise.all([fetch(`http://127.0.0.1:${port}/v1/models/wine/predict`, init), fetch(`${url}/v1/models/wine/predict`, init)]);
      expect(there.status).toBe(200);
      const [a, b] = (await Promise.all([here.json(), there.json()])) as { predictions: unknown[]; model: unknown }[];
      expect(b!.model).toEqual({ name: 'wine', version: 1, alias: 'champion' });
      expect(sameNumbers(a!.predictions, b!.predictions, 1e-6)).toEqual([]);
      expect(log).toContain('"backend":"cpu"');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('refuses to start on a tampered archive, without what to serve, and open on a public interface', async () => {
    const bytes = new Uint8Array(readFileSync(archive));
    const files = unzipSync(bytes);
    files['card.json'] = strToU8(JSON.stringify({ ...JSON.parse(Buffer.from(files['card.json']!).toString()), version: 9 }));
    const tampered = join(dir, 'tampered.maas.zip');
    writeFileSync(tampered, zipSync(files));
    const refused = await maas(['serve', '--model', tampered]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^maas: archive: ".*tampered\.maas\.zip" has card\.json (of \d+ bytes|with SHA-256 [0-9a-f]{64}), but manifest\.json says [0-9a-f\d]+; the file was changed or damaged/m);

    const nothing = await maas(['serve']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('maas serve: what to serve? give --model FILE');
    const both = await maas(['serve', '--from', '--model', archive]);
    expect(both.code).toBe(2);

    const open = await maas(['serve', '--model', archive], { HOST: '0.0.0.0', PORT: String(await freePort()) });
    expect(open.code).toBe(1);
    expect(open.stderr).toContain('HOST=0.0.0.0 would let anyone who reaches it use these models, since a server of archives has no API keys; set ALLOW_OPEN_ACCESS=true');
  });
});
