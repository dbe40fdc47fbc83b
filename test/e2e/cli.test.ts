import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, REDIS_URL, type TestDatabase } from '../helpers/databases.ts';
import { freePort, startMaas, stopAll, type MaasProcess } from '../helpers/processes.ts';
import { wineRow } from '../helpers/wine.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/maas.js');
const wine = join(root, 'test/fixtures/wine.csv');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `file args` to its end, with `input` on stdin. */
function runProcess(file: string, args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: root, env: { ...process.env, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
// Escape sequences of the live display, and the carriage returns of the terminal.
const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n').replace(/\r/g, '');

/**
 * The CLI against a real `maas start` (api, coordinator and one worker process) on its own
 * port, database and queue prefix.
 */
describe('maas client commands', () => {
  const prefix = `cli-${randomUUID()}`;
  const dir = mkdtempSync(join(tmpdir(), 'maas-cli-'));
  let database: TestDatabase;
  let service: MaasProcess;
  let env: Record<string, string>;
  let datasetId: string;

  const maas = (args: string[], input?: string) => runProcess(process.execPath, [bin, ...args], env, input);
  /** The command on a pseudo-terminal (util-linux script), stdout and stderr together. */
  const maasOnTty = (args: string[]) => runProcess('script', ['-qfec', [process.execPath, bin, ...args].map(quote).join(' '), '/dev/null'], env);
  const studyFile = (name: string, body: Record<string, unknown>) => {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };
  const small = { objective: { metric: 'val_accuracy' }, budget: { maxTrials: 2, maxEpochs: 2 }, search: { algorithm: 'random', families: ['mlp'] }, seed: 5 };

  beforeAll(async () => {
    database = await freshDatabase('sqlite');
    const port = await freePort();
    service = startMaas('start', { DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: prefix, PORT: String(port), COORDINATOR_INTERVAL_MS: '1000' });
    await service.waitForLog('api listening');
    // Neither flag nor MAAS_API_KEY: the deployment is open until its first key.
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

  it('uploads a dataset, printing only its id with -q, and shows it', async () => {
    const upload = await maas(['datasets', 'upload', wine, '--kind', 'tabular', '--target', 'cultivar', '-q']);
    expect(upload).toMatchObject({ code: 0, stderr: '' });
    datasetId = upload.stdout.trim();
    expect(datasetId).toMatch(/^[\w-]+$/);

    const show = await maas(['datasets', 'show', datasetId]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^name: +wine$/m);
    expect(show.stdout).toContain('class_0 (59), class_1 (71), class_2 (48)');

    const list = await maas(['datasets', 'list', '--json']);
    expect(JSON.parse(list.stdout).datasets.map((d: { id: string }) => d.id)).toEqual([datasetId]);
    const table = (await maas(['datasets', 'list'])).stdout.split('\n');
    expect(table[0]).toMatch(/^ID +NAME +KIND +TASK +TARGET +ROWS +CREATED/);
    // Aligned: each column starts where its header does.
    expect(table[1]?.indexOf('tabular')).toBe(table[0]?.indexOf('KIND'));
  });

  it('names the field and the rule of a bad input, exiting 1 for the api\'s refusal and 2 for a usage error', async () => {
    const kind = await maas(['datasets', 'upload', wine, '--kind', 'nonsense', '--target', 'cultivar']);
    expect(kind.code).toBe(1);
    expect(kind.stderr).toMatch(/^maas datasets upload: kind: "nonsense" .*"tabular"/);

    const file = studyFile('bad', { ...small, name: 'bad', datasetId, budget: { maxTrials: 0, maxEpochs: 2 } });
    const study = await maas(['studies', 'create', '--file', file]);
    expect(study.code).toBe(1);
    expect(study.stderr).toContain('budget.maxTrials: 0');

    const typo = await maas(['studies', 'create', '--file', studyFile('typo', { ...small, name: 'typo', datasetId, budgett: {} })]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('budgett: {} is not a known field');

    for (const args of [['studies', 'list', '--bogus'], ['studies', 'lst'], ['predict'], ['datasets', 'upload', join(dir, 'missing.csv'), '--kind', 'tabular']]) {
      const r = await maas(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/usage:\n {2}maas /);
    }
  });

  it('creates a study and follows it to the end as lines when stdout is not a terminal', async () => {
    const file = studyFile('wine', { ...small, name: 'placeholder', datasetId: 'placeholder' });
    const r = await maas(['studies', 'create', '--file', file, '--dataset', datasetId, '--name', 'wine-cli', '--watch']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^name: +wine-cli$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d trial #0 created: mlp /m);
    expect(r.stdout).toMatch(/trial #1 (completed|pruned): val_accuracy [\d.]+ \[2\/2 done, best [\d.]+ \(#\d\)\]/);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/ study completed: .*; best val_accuracy [\d.]+ \(#\d\)$/);
    expect(r.stdout).not.toContain('\x1b[');

    const studies = JSON.parse((await maas(['studies', 'list', '--json'])).stdout);
    expect(studies.studies[0]).toMatchObject({ name: 'wine-cli', state: 'completed' });
    const board = JSON.parse((await maas(['studies', 'leaderboard', studies.studies[0].id, '--json'])).stdout);
    expect(board.trials).toHaveLength(2);
    expect((await maas(['studies', 'leaderboard', studies.studies[0].id])).stdout).toMatch(/^RANK +TRIAL +FAMILY +STATE +VALUE/);

    // Continued to 3 trials and watched again: the history replays, then the new trial, then the end.
    const id = studies.studies[0].id as string;
    const more = await maas(['studies', 'continue', id, '--max-trials', '3', '--watch']);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toMatch(new RegExp(`^study ${id} (queued|running): continued after it completed: maxTrials 2 → 3$`, 'm'));
    expect(more.stdout).toMatch(/ study continued: continued after it completed: maxTrials 2 → 3$/m);
    expect(more.stdout).toMatch(/trial #2 (completed|pruned): val_accuracy [\d.]+ \[3\/3 done, best [\d.]+ \(#\d\)\]/);
    expect(more.stdout.trim().split('\n').at(-1)).toMatch(/ study completed: /);
    const refused = await maas(['studies', 'continue', id, '--max-trials', '1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("maxTrials: 1 must be at least the study's current 3");
    expect((await maas(['studies', 'continue', id])).code).toBe(2);
  });

  it('draws a live progress display on a terminal', async () => {
    const file = studyFile('tty', { ...small, name: 'wine-tty', datasetId });
    const r = await maasOnTty(['studies', 'create', '--file', file, '--watch', '-q']);
    expect(r.code, r.stdout).toBe(0);
    // The cursor is hidden while the bar is drawn, and shown again at the end.
    expect(r.stdout).toContain('\x1b[?25l');
    expect(r.stdout).toContain('\x1b[?25h');
    const text = plain(r.stdout);
    expect(text.split('\n')[0]).toMatch(/^[\w-]+$/);
    expect(text).toMatch(/trials [█░]{16} 2\/2 \| best [\d.]+ \(#\d\) \| running 0 \| 4 epochs/);
    expect(text).toMatch(/study completed: .*best val_accuracy/);
  });

  it('exits 1 when the watched study fails or is cancelled, and 130 when the watch is interrupted', async () => {
    // A learning rate this large drives a squared-error loss past any float in the first epoch
    // (a classifier's cross-entropy would saturate instead on some backends): every trial fails.
    const regression = await maas(['datasets', 'upload', wine, '--kind', 'tabular', '--target', 'alcohol', '--name', 'wine-alcohol', '-q']);
    expect(regression.code, regression.stderr).toBe(0);
    const diverging = studyFile('diverging', {
      name: 'diverging',
      datasetId: regression.stdout.trim(),
      objective: { metric: 'val_loss' },
      budget: { maxTrials: 2, maxEpochs: 2, maxFailedTrials: 0 },
      search: { algorithm: 'random', families: ['mlp'], space: { mlp: { learningRate: 1e30, optimizer: 'sgd', batchNorm: false, activation: 'relu', layers: 1 } } },
      seed: 1,
    });
    const failed = await maas(['studies', 'create', '--file', diverging, '--watch']);
    expect(failed.code, failed.stdout).toBe(1);
    expect(failed.stdout).toMatch(/trial #0 failed: Training diverged/);
    expect(failed.stdout).toMatch(/study failed: /);

    const long = studyFile('long', { ...small, name: 'long', datasetId, budget: { maxTrials: 50, maxEpochs: 50 } });
    const id = (await maas(['studies', 'create', '--file', long, '-q'])).stdout.trim();
    // Ctrl-C ends the watch, not the study.
    const follower = spawn(process.execPath, [bin, 'studies', 'watch', id], { cwd: root, env: { ...process.env, ...env } });
    let followed = '';
    follower.stderr.on('data', (d: Buffer) => (followed += d.toString()));
    const exited = new Promise<number | null>((resolve) => follower.once('close', resolve));
    await new Promise<void>((resolve) => follower.stdout.once('data', () => resolve()));
    follower.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(followed).toContain(`stopped watching; study ${id} goes on`);

    const cancel = await maas(['studies', 'cancel', id]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^study ${id} cancelled`));
    const watched = await maas(['studies', 'watch', id]);
    expect(watched.code, watched.stdout).toBe(1);
    expect(watched.stdout).toMatch(/study cancelled/);
  });

  it('stores the MNIST sample, and pipes a dataset\'s validation rows into predict', async () => {
    const mnist = await maas(['datasets', 'mnist', '--count', '20', '--seed', '3', '-q']);
    expect(mnist, mnist.stderr).toMatchObject({ code: 0, stderr: '' });
    const digits = await maas(['datasets', 'rows', mnist.stdout.trim(), '--limit', '2']);
    const body = JSON.parse(digits.stdout) as { instances: number[][] };
    expect(body.instances.map((row) => row.length)).toEqual([784, 784]);
    expect(body.instances.flat().every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
    const refused = await maas(['datasets', 'mnist', '--count', '5']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('count');

    // The wine model of the earlier test predicts its own dataset's rows, read from stdin.
    const rows = await maas(['datasets', 'rows', datasetId, '--limit', '3']);
    expect(rows.code, rows.stderr).toBe(0);
    const predicted = await maas(['predict', 'wine-cli', '--file', '-', '--json'], rows.stdout);
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(JSON.parse(predicted.stdout).predictions).toHaveLength(3);
    const withTargets = JSON.parse((await maas(['datasets', 'rows', datasetId, '--limit', '3', '--json'])).stdout);
    expect(withTargets).toMatchObject({ datasetId, split: 'validation' });
    expect(withTargets.targets).toHaveLength(3);
  });

  it('predicts rows read from stdin, and promotes a version', async () => {
    // v1, or v2 when continuing the study above found a better trial.
    const champion = JSON.parse((await maas(['models', 'show', 'wine-cli', '--json'])).stdout).aliases.champion as number;
    const human = await maas(['predict', 'wine-cli', '--file', '-'], JSON.stringify([wineRow, wineRow]));
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^wine-cli v${champion} \\(champion\\)\\n#  PREDICTION\\n0  class_\\d \\(p=[\\d.]+\\)\\n1  class_\\d`));

    const json = await maas(['predict', 'wine-cli', '-f', '-', '--json'], `${JSON.stringify(wineRow)}\n`);
    expect(JSON.parse(json.stdout)).toMatchObject({ predictions: [{ label: expect.stringMatching(/^class_/) }], model: { name: 'wine-cli', version: champion } });

    const bad = await maas(['predict', 'wine-cli', '--file', '-'], JSON.stringify({ instances: [{ alcohol: 13 }] }));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('instances[0].malic_acid: is required');

    const promote = await maas(['models', 'promote', 'wine-cli', '--version', '1', '--alias', 'stable']);
    expect(promote).toMatchObject({ code: 0, stdout: 'wine-cli: stable → v1\n' });
    const model = JSON.parse((await maas(['models', 'show', 'wine-cli', '--json'])).stdout);
    expect(model.aliases).toEqual({ champion, stable: 1 });
    const models = JSON.parse((await maas(['models', 'list', '--json'])).stdout);
    expect(models.models.map((m: { name: string }) => m.name)).toContain('wine-cli');
  });
});

describe('maas client commands and Ctrl-C', () => {
  it('ends a command other than watch at once, as any program does', async () => {
    // An api that takes the request and never answers, so the command is still waiting for it.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const connected = new Promise<void>((resolve) => server.once('connection', () => resolve()));
    const child = spawn(process.execPath, [bin, 'studies', 'list', '--url', url], { cwd: root, env: { ...process.env, MAAS_API_KEY: '' }, stdio: 'ignore' });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    let deadline: NodeJS.Timeout | undefined;
    try {
      await connected;
      child.kill('SIGINT');
      // A process that ignored the signal would wait minutes for the answer: give up long before that.
      const still = new Promise<'still running'>((resolve) => (deadline = setTimeout(() => resolve('still running'), 30_000)));
      expect(await Promise.race([exited, still])).toEqual({ code: null, signal: 'SIGINT' });
    } finally {
      clearTimeout(deadline);
      child.kill('SIGKILL');
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);
});
