import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { number } from '../../src/cli/output.ts';
import { freshDatabase, REDIS_URL, type TestDatabase } from '../helpers/databases.ts';
import { freePort, startMaas, stopAll, type MaasProcess } from '../helpers/processes.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/maas.js');
const wine = join(root, 'test/fixtures/wine.csv');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

type Board = {
  objectives: { metric: string; direction: string }[];
  constraints: { metric: string; max?: number }[];
  pareto: { hypervolume: number; reference: number[]; size: number } | null;
  trials: { id: string; number: number; front: number | null; values: number[] | null; violation: number | null; feasible: boolean | null }[];
};

/** Runs `maas args` to its end. */
function runMaas(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The cell of `column` in a table line, read where its header starts (columns are two spaces apart or more). */
const cellAt = (header: string, line: string, column: string) => line.slice(header.indexOf(column)).split(/ {2,}/)[0];

/**
 * `maas studies create` and `leaderboard` for a study with two objectives and a constraint,
 * against a real `maas start` (api, coordinator and one worker process).
 */
describe('maas studies leaderboard of a multi-objective study', () => {
  const prefix = `cli-mo-${randomUUID()}`;
  const dir = mkdtempSync(join(tmpdir(), 'maas-cli-mo-'));
  let database: TestDatabase;
  let service: MaasProcess;
  let env: Record<string, string>;
  const maas = (args: string[]) => runMaas(args, env);

  beforeAll(async () => {
    database = await freshDatabase('sqlite');
    const port = await freePort();
    service = startMaas('start', { DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: prefix, PORT: String(port), COORDINATOR_INTERVAL_MS: '1000' });
    await service.waitForLog('api listening');
    env = { MAAS_URL: `http://127.0.0.1:${port}`, MAAS_API_KEY: '' };
  });
  afterAll(async () => {
    if (service) await stopAll([service], prefix);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:events:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes objectives and constraints through, and prints the front, each objective and the hypervolume', async () => {
    const upload = await maas(['datasets', 'upload', wine, '--kind', 'tabular', '--target', 'cultivar', '-q']);
    expect(upload, upload.stderr).toMatchObject({ code: 0 });
    const datasetId = upload.stdout.trim();

    const help = await maas(['studies', 'create', '--help']);
    expect(help.stdout).toContain('"objectives"');
    expect(help.stdout).toContain('"constraints"');

    const file = join(dir, 'mo.json');
    // Seeded: this seed's five trials include networks both under and over 2,000 weights.
    const body = {
      name: 'wine-mo',
      datasetId,
      objectives: [{ metric: 'val_accuracy' }, { metric: 'param_count' }],
      constraints: [{ metric: 'param_count', max: 2000 }],
      budget: { maxTrials: 5, maxEpochs: 2, parallelism: 1 },
      search: { algorithm: 'random', families: ['mlp'] },
      seed: 7,
    };
    writeFileSync(file, JSON.stringify(body));
    const created = await maas(['studies', 'create', '--file', file, '--watch']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^objective: +maximize val_accuracy, minimize param_count$/m);
    expect(created.stdout).toMatch(/^constraints: +param_count ≤ 2,000$/m);
    const id = /^id: +(\S+)$/m.exec(created.stdout)![1]!;

    // --json is the api's body as it is.
    const json = await maas(['studies', 'leaderboard', id, '--json']);
    const board = JSON.parse(json.stdout) as Board;
    const direct = await (await fetch(`${env.MAAS_URL}/v1/studies/${id}/leaderboard`)).json();
    expect(board).toEqual(direct);
    expect(board.objectives).toEqual([{ metric: 'val_accuracy', direction: 'maximize' }, { metric: 'param_count', direction: 'minimize' }]);
    expect(board.trials).toHaveLength(5);
    expect(board.pareto).not.toBeNull();
    expect(board.trials.some((t) => t.feasible === false)).toBe(true);

    const printed = await maas(['studies', 'leaderboard', id]);
    expect(printed.code, printed.stderr).toBe(0);
    const lines = printed.stdout.trimEnd().split('\n');
    const header = lines[0]!;
    expect(header).toMatch(/^RANK +TRIAL +FAMILY +STATE +FRONT +val_accuracy +param_count +FEASIBLE +EPOCHS +TIME +PARAMS$/);
    for (const [i, t] of board.trials.entries()) {
      const line = lines[i + 1]!;
      expect(cellAt(header, line, 'TRIAL')).toBe(`#${t.number}`);
      expect(cellAt(header, line, 'FRONT')).toBe(String(t.front));
      expect(cellAt(header, line, 'val_accuracy')).toBe(number(t.values![0]));
      expect(cellAt(header, line, 'param_count')).toBe(t.values![1]!.toLocaleString('en-US'));
      expect(cellAt(header, line, 'FEASIBLE')).toBe(t.feasible ? 'yes' : `no (violation ${Number(t.violation!.toPrecision(3))})`);
    }
    const p = board.pareto!;
    const reference = `val_accuracy ${number(p.reference[0])}, param_count ${Math.round(p.reference[1]!).toLocaleString('en-US')}`;
    expect(lines[6]).toBe(`pareto front: ${p.size} ${p.size === 1 ? 'trial' : 'trials'}, hypervolume ${number(p.hypervolume)} (reference ${reference})`);
    expect(lines[7]).toBe('constraints: param_count ≤ 2,000');
    expect(lines).toHaveLength(8);
  }, 240_000);
});
