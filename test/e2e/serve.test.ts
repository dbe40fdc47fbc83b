import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { eventually, freePort } from '../helpers/processes.ts';
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

/** Starts `maas serve --from` as a process of its own; resolves once it serves. */
async function serveFrom(databaseUrl: string): Promise<{ url: string; stop: () => Promise<number | null> }> {
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', MAAS_BACKEND: 'cpu', LOG_LEVEL: 'info', SERVE_ALIAS_CACHE_MS: '1000', REDIS_URL: 'redis://127.0.0.1:1' };
  const child = spawn(process.execPath, [bin, 'serve', '--from'], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((ready, fail) => {
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('serving predictions')) ready();
    });
    void exited.then((code) => fail(new Error(`maas serve --from exited (${code}):\n${log}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * Serving scaled apart from training: two `maas serve --from` processes on one PostgreSQL
 * registry (no Redis) each pick up an alias move and a canary split within seconds.
 */
describe('two maas serve --from replicas on one registry', () => {
  let t: TestApp;
  const replicas: Awaited<ReturnType<typeof serveFrom>>[] = [];

  beforeAll(async () => {
    await selectBackend('cpu');
    t = await startTestApp('postgresql');
    const dataset = await storeDataset(t.repo, 'default', 'wine', KINDS[0]!.input());
    await registerVersion(t.repo, { projectId: 'default', name: 'wine', dataset, family: 'mlp', seed: 1 });
    await registerVersion(t.repo, { projectId: 'default', name: 'wine', dataset, family: 'mlp', seed: 2 });
    replicas.push(...(await Promise.all([serveFrom(t.databaseUrl), serveFrom(t.databaseUrl)])));
  });
  afterAll(async () => {
    for (const exit of await Promise.all(replicas.map((r) => r.stop()))) expect(exit).toBe(0);
    await t?.close();
  });

  /** The versions `replica` answered with over `n` requests. */
  const served = async (replica: { url: string }, n: number): Promise<Set<number>> => {
    const versions = new Set<number>();
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${replica.url}/v1/models/wine/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [wineRow] }) });
      expect(res.status).toBe(200);
      versions.add(((await res.json()) as { model: { version: number } }).model.version);
    }
    return versions;
  };
  const sameOn = (replica: { url: string }, want: number[]) => eventually(async () => {
    const got = [...(await served(replica, want.length === 1 ? 1 : 60))].sort();
    return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
  }, `${replica.url} to serve v${want.join(' and v')}`, 10_000, 200);

  it('follows an alias move, then a 50% canary, on every replica', async () => {
    for (const r of replicas) expect([...(await served(r, 3))]).toEqual([2]);
    const v1 = (await t.repo.models.version('default', 'wine', 1))!;
    await t.repo.models.setAlias('default', 'wine', 'champion', v1.id);
    // Within seconds (sameOn gives up after 10): the alias cache holds an answer for SERVE_ALIAS_CACHE_MS (1 s) at most.
    await Promise.all(replicas.map((r) => sameOn(r, [1])));
    await t.repo.models.setAlias('default', 'wine', 'champion', v1.id, { canary: [{ version: 2, weight: 0.5 }], shadow: null });
    await Promise.all(replicas.map((r) => sameOn(r, [1, 2])));
  });
});
