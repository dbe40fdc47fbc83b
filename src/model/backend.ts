import * as tf from '@tensorflow/tfjs';
import { registerTrainingKernels } from './kernels/register.ts';
import { findWebgpuAdapter, startWebgpu } from './webgpu.ts';

/** The compute backends a worker can run on, fastest first. */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** Backends that run on a GPU; workers on them take the GPU queue. */
export const GPU_BACKENDS: readonly BackendName[] = ['tensorflow-gpu', 'webgpu'];

/** What {@link selectBackend} settled on. */
export interface SelectedBackend {
  /** The backend now active in tfjs. */
  name: BackendName;
  /** A line for the worker's log: what runs, and why the faster ones did not. */
  detail: string;
}

/** Loads a module by name; injected by tests, `import()` otherwise. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

const NATIVE: readonly { name: 'tensorflow-gpu' | 'tensorflow'; pkg: string }[] = [
  { name: 'tensorflow-gpu', pkg: '@tensorflow/tfjs-node-gpu' },
  { name: 'tensorflow', pkg: '@tensorflow/tfjs-node' },
];

// A variable specifier keeps TypeScript from resolving the optional packages, which are
// usually absent (their install downloads libtensorflow).
const defaultImporter: ModuleImporter = (specifier) => import(specifier);

/**
 * Chooses and activates the tfjs backend: `@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node` (both register the native `'tensorflow'` backend), then the
 * pure-JS `'cpu'` backend. Never fails when the optional packages are missing.
 *
 * @param preferred - forces one backend (the worker passes `MAAS_BACKEND`); an empty
 *   string or `undefined` means "the fastest that loads". A forced backend that cannot
 *   load throws an Error that says why.
 * @param importModule - how packages are loaded; tests inject a fake.
 */
export async function selectBackend(
  preferred?: string,
  importModule: ModuleImporter = defaultImporter,
): Promise<SelectedBackend> {
  const wanted = preferred === undefined || preferred === '' ? undefined : preferred;
  if (wanted !== undefined && !(BACKEND_NAMES as readonly string[]).includes(wanted)) {
    throw new Error(
      `MAAS_BACKEND is ${JSON.stringify(wanted)}, but must be one of ${BACKEND_NAMES.map((n) => `'${n}'`).join(', ')}`,
    );
  }

  const skipped: string[] = [];
  for (const candidate of NATIVE) {
    if (wanted !== undefined && wanted !== candidate.name) continue;
    try {
      await importModule(candidate.pkg);
      if (tf.findBackendFactory('tensorflow') === null) {
        throw new Error(`it loaded but registered no 'tensorflow' backend`);
      }
      if (!(await tf.setBackend('tensorflow'))) {
        throw new Error(`it loaded but the 'tensorflow' backend did not initialize`);
      }
      await tf.ready();
      return { name: candidate.name, detail: `${candidate.name} (native libtensorflow via ${candidate.pkg})` };
    } catch (err) {
      const reason = explain(err);
      if (wanted !== undefined) {
        throw new Error(`MAAS_BACKEND is '${wanted}', but ${candidate.pkg} could not be loaded: ${reason}`, {
          cause: err,
        });
      }
      skipped.push(`${candidate.pkg}: ${reason}`);
    }
  }

  // WebGPU through Dawn: taken automatically only on a hardware adapter, since a
  // software one (lavapipe) trains slower than wasm; MAAS_BACKEND=webgpu forces it.
  if (wanted === undefined || wanted === 'webgpu') {
    try {
      const adapter = await findWebgpuAdapter(importModule);
      if (adapter.software && wanted === undefined) throw new Error(`only a software adapter (${adapter.name}); wasm is faster`);
      await startWebgpu(importModule);
      return { name: 'webgpu', detail: `webgpu on ${adapter.name}${adapter.software ? ' (software)' : ''}` };
    } catch (err) {
      if (wanted === 'webgpu') throw new Error(`MAAS_BACKEND is 'webgpu', but it could not start: ${explain(err)}`, { cause: err });
      skipped.push(`webgpu: ${explain(err)}`);
    }
  }

  // The JS backends get the training kernels that wasm lacks and fast versions of
  // the two gradients cpu computes slowly (see kernels/register.ts).
  if (wanted === undefined || wanted === 'wasm') {
    try {
      await importModule('@tensorflow/tfjs-backend-wasm');
      registerTrainingKernels('wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error(`the 'wasm' backend did not initialize`);
      await tf.ready();
      const why = skipped.length > 0 ? `; skipped ${skipped.join('; ')}` : '';
      return { name: 'wasm', detail: `wasm (WebAssembly SIMD, one thread)${why}` };
    } catch (err) {
      if (wanted === 'wasm') throw new Error(`MAAS_BACKEND is 'wasm', but it could not start: ${explain(err)}`, { cause: err });
      skipped.push(`@tensorflow/tfjs-backend-wasm: ${explain(err)}`);
    }
  }

  // Importing @tensorflow/tfjs in Node also registers webgl (with a higher priority than
  // cpu); it cannot run here, so name cpu explicitly rather than trusting the default.
  registerTrainingKernels('cpu');
  if (!(await tf.setBackend('cpu'))) {
    throw new Error(`the 'cpu' backend of @tensorflow/tfjs did not initialize`);
  }
  await tf.ready();
  const why = skipped.length > 0 ? `; skipped ${skipped.join('; ')}` : '';
  return { name: 'cpu', detail: `cpu (pure JavaScript, slow)${why}` };
}

function explain(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return 'not installed';
    return err.message.split('\n')[0] ?? err.message;
  }
  return String(err);
}
