import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ModelArtifact } from '../../src/domain.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODEL_INDEX = fileURLToPath(new URL('../../src/model/index.ts', import.meta.url));

/** Predicts with `artifact` in a new Node process, which only imports the model layer. */
export async function predictInFreshProcess(artifact: ModelArtifact, backend: string, features: Float32Array, count: number, inputShape: number[]): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'maas-roundtrip-'));
  try {
    const input = join(dir, 'input.json');
    await writeFile(
      input,
      JSON.stringify({
        topology: artifact.topology,
        weightSpecs: artifact.weightSpecs,
        weights: Buffer.from(artifact.weights).toString('base64'),
        features: [...features], count, inputShape,
      }),
    );
    // .mts: a .ts file outside the package would be compiled as CommonJS.
    const script = join(dir, 'predict.mts');
    await writeFile(
      script,
      `import { readFileSync } from 'node:fs';
import { loadModel, predictBatch, selectBackend } from ${JSON.stringify(MODEL_INDEX)};
await selectBackend(${JSON.stringify(backend)});
const a = JSON.parse(readFileSync(${JSON.stringify(input)}, 'utf8'));
const model = await loadModel({ topology: a.topology, weightSpecs: a.weightSpecs, weights: new Uint8Array(Buffer.from(a.weights, 'base64')) });
const out = await predictBatch(model, Float32Array.from(a.features), a.count, a.inputShape);
console.log('PREDICTIONS ' + JSON.stringify([...out]));
`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, timeout: 60_000 });
    const line = stdout.split('\n').find((l) => l.startsWith('PREDICTIONS '));
    if (line === undefined) throw new Error(`the fresh process printed no predictions:\n${stdout}`);
    return JSON.parse(line.slice('PREDICTIONS '.length)) as number[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
