import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { openQueues } from '../../src/queue/index.ts';
import { REDIS_URL } from './databases.ts';

const root = join(import.meta.dirname, '../..');

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface MaasProcess {
  child: ChildProcess;
  /** Everything the process wrote to stderr (its JSON log) so far. */
  log(): string;
  /** Resolves when a log line contains `text`. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts `maas <role>` as a real child process with the given environment. */
export function startMaas(role: 'api' | 'worker' | 'start', env: Record<string, string>, options: { netns?: string } = {}): MaasProcess {
  const command = [process.execPath, join(root, 'bin/maas.js'), role];
  // In a network namespace of its own, the process sees only that namespace's links: a host of its own.
  const [file, ...args] = options.netns ? ['ip', 'netns', 'exec', options.netns, ...command] : command;
  const child = spawn(file as string, args, {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  const waiters: { text: string; done: () => void }[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of [...waiters]) if (output.includes(w.text)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.done();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    log: () => output,
    waitForLog: (text, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        if (output.includes(text)) return resolve();
        const timer = setTimeout(() => reject(new Error(`maas ${role} did not log "${text}" within ${timeoutMs} ms; log:\n${output.slice(-3000)}`)), timeoutMs);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`maas ${role} exited (${code}) before logging "${text}"; log:\n${output.slice(-3000)}`));
        });
        waiters.push({ text, done: () => { clearTimeout(timer); resolve(); } });
      }),
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 180_000, everyMs = 500): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Stops the processes and removes every queue key under `prefix`. */
export async function stopAll(processes: MaasProcess[], prefix: string, redisUrl = REDIS_URL): Promise<void> {
  await Promise.all(processes.map((p) => p.kill('SIGTERM')));
  const queues = openQueues(redisUrl, prefix);
  for (const q of Object.values(queues.trials)) await q.obliterate({ force: true });
  await queues.studyEvents.obliterate({ force: true });
  await queues.close();
}
