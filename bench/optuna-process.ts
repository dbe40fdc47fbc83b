import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Runs `bench/<script>` with `python` and `config` (JSON) as its argument; resolves to its
 * stdout parsed as JSON, or to why there is none (exit code 3: Optuna is not importable).
 * Its stderr is passed through as it comes.
 */
export function runOptunaScript<T>(python: string, script: string, config: unknown): Promise<T | string> {
  return new Promise((resolve) => {
    const child = spawn(python, [join(import.meta.dirname, script), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    child.on('error', (e) => resolve(`${python} did not start: ${e.message}`));
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out) as T);
      else if (code === 3) resolve(err.trim().split('\n').at(-1) ?? 'python3-optuna is not importable');
      else resolve(`${python} ${script} exited with ${code}: ${err.trim().split('\n').at(-1) ?? ''}`);
    });
  });
}
