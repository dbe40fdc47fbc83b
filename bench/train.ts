/**
 * npm run bench:train — training throughput of each compute backend that
 * loads on this machine, per model family, against PyTorch (CPU, same thread
 * count) on the same models and batch sizes, measured in the same run.
 *
 * Each (backend, family) pair runs in a fresh process, so peak memory (max
 * RSS) is that pair's alone. Env: BENCH_SECONDS (timed seconds per pair,
 * default 10), BENCH_FAMILIES (comma list), BENCH_BACKENDS (comma list),
 * BENCH_PYTHON (default /usr/bin/python3, needs Debian's python3-torch and
 * libopenblas0-pthread for the fast BLAS). Against any other BLAS the ratio
 * is withheld (see slowBlas).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/model/index.ts';
import { BENCH_MODELS } from './models.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const here = import.meta.dirname;

interface Result {
  samplesPerSecond: number;
  peakRssMb: number;
  batches?: number;
  detail?: string;
}

/** One pair, in this process: warm up, then train for `seconds` (at least 2 batches). */
async function measure(backend: string, family: string): Promise<Result> {
  const selected = await selectBackend(backend);
  if (selected.name !== backend) throw new Error(`asked for ${backend}, got ${selected.name}`);
  // webgpu compiles a shader per kernel on first use (16-48 s measured); warm up longer there.
  const warmup = backend === 'webgpu' ? 5 : 2;
  const spec = BENCH_MODELS.find((m) => m.family === family)!;
  const model = spec.build();
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const { x, y } = spec.batch();
  // Warm-up: shader/kernel set-up and first allocations are not throughput.
  for (let i = 0; i < warmup; i++) await model.trainOnBatch(x, y);
  let batches = 0;
  const start = performance.now();
  while (batches < 2 || performance.now() - start < seconds * 1000) {
    await model.trainOnBatch(x, y);
    batches++;
  }
  const elapsed = (performance.now() - start) / 1000;
  tf.dispose([x, y]);
  return { samplesPerSecond: (batches * spec.batchSize) / elapsed, peakRssMb: process.resourceUsage().maxRSS / 1024, batches, detail: selected.detail };
}

function torch(family: string): Result | string {
  const python = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
  // OPENBLAS_CORETYPE/L2_SIZE are pinned on some machines for old OpenBLAS builds and slow a current one.
  const { OPENBLAS_CORETYPE: _core, OPENBLAS_L2_SIZE: _l2, ...env } = process.env;
  const run = spawnSync(python, [join(here, 'torch_train.py'), family, String(seconds)], { encoding: 'utf8', env: { ...env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } });
  if (run.status !== 0) return (run.stderr || run.error?.message || 'failed').trim().split('\n').at(-1)!;
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Result;
}

/**
 * Why PyTorch's BLAS is not a fair reference, or null when it is a tuned one (OpenBLAS, MKL,
 * BLIS, ATLAS). Debian's python3-torch links libblas.so.3, which is Netlib's reference BLAS
 * unless libopenblas0-pthread (or another) takes that name through update-alternatives.
 */
function slowBlas(path: string | undefined): string | null {
  if (path === undefined) return null;
  if (/openblas|mkl|blis|atlas/i.test(path)) return null;
  return path === 'none' ? 'no BLAS library we can name' : `the reference BLAS (${path})`;
}

function child(backend: string, family: string): Result | string {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'train.ts'), '--one', backend, family], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    return JSON.parse(out.trim().split('\n').at(-1)!) as Result;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const lines = (e.stderr || e.message).split('\n');
    const reason = lines.find((l) => /^Error: /.test(l.trim())) ?? lines.filter((l) => l.includes('Error')).at(-1) ?? 'failed';
    return reason.includes('not installed') || reason.includes('ERR_MODULE_NOT_FOUND') ? 'not installed' : reason.replace(/^.*?Error: /, '').trim();
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--one') {
    console.log(JSON.stringify(await measure(args[1]!, args[2]!)));
    return;
  }
  const families = (process.env.BENCH_FAMILIES ?? BENCH_MODELS.map((m) => m.family).join(',')).split(',');
  const backends = (process.env.BENCH_BACKENDS ?? 'tensorflow-gpu,tensorflow,webgpu,wasm,cpu').split(',');
  console.log(`bench:train — ${seconds} s timed per pair after warm-up (2 batches, 5 on webgpu); PyTorch ${seconds} s, 1 thread; peak = max RSS of the process`);
  const rows: string[][] = [['family', 'backend', 'samples/s', 'peak MB', 'torch samples/s', 'torch peak MB', 'ours / torch']];
  const reference = new Map<string, Result | string>();
  for (const family of families) reference.set(family, torch(family));
  const blas = [...reference.values()].find((r): r is Result & { blas?: string } => typeof r !== 'string') as { blas?: string } | undefined;
  if (blas?.blas) console.log(`PyTorch BLAS: ${blas.blas}`);
  const slow = slowBlas(blas?.blas);
  if (slow) {
    // A ratio against PyTorch on the reference BLAS flatters us (issue 16: cnn 1.10× there, 0.44× against OpenBLAS).
    console.log(`PyTorch runs on ${slow}: its figures are shown, ours / torch is withheld. For the fast reference: apt-get install -y libopenblas0-pthread`);
  }
  for (const backend of backends) {
    for (const family of families) {
      const ours = child(backend, family);
      const ref = reference.get(family)!;
      if (typeof ours === 'string') {
        rows.push([family, backend, `unavailable: ${ours.slice(0, 60)}`, '', '', '', '']);
        if (ours === 'not installed' || /could not (be loaded|start)/.test(ours)) break;
        continue;
      }
      const ratio = typeof ref === 'string' ? 'n/a' : slow ? 'withheld' : (ours.samplesPerSecond / ref.samplesPerSecond).toFixed(2);
      rows.push([
        family, backend, ours.samplesPerSecond.toFixed(1), ours.peakRssMb.toFixed(0),
        typeof ref === 'string' ? `n/a (${ref.slice(0, 40)})` : ref.samplesPerSecond.toFixed(1),
        typeof ref === 'string' ? '' : ref.peakRssMb.toFixed(0), ratio,
      ]);
      console.error(`${family} on ${backend}: ${rows.at(-1)!.slice(2).join(' | ')}`);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(`| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`);
  for (const m of BENCH_MODELS.filter((m) => families.includes(m.family))) console.log(`${m.family}: ${m.describe}`);
}

await main();
