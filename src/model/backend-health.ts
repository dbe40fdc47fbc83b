import * as tf from '@tensorflow/tfjs';
import { TrialFailure } from './trial-failure.ts';

/**
 * A fault of the compute backend read from an error. `fatal`: a WebAssembly trap or an
 * emscripten abort, after which the backend's heap and allocator cannot be trusted (a failed
 * malloc returns 0 and tfjs writes tensors there, over the module's own data). Otherwise an
 * allocation failure, which may or may not have left the backend usable: {@link probeBackend} tells.
 */
export interface BackendFault {
  fatal: boolean;
  /** The error, briefly, for a trial's reason and the log. */
  reason: string;
}

/** What a trap or an abort says when the error has lost its class (rethrown as a string, wrapped). */
const TRAP = /memory access out of bounds|^unreachable$|Aborted\(|table index is out of bounds|null function or function signature mismatch/i;

/**
 * What the backends say when an allocation fails: V8's typed arrays, wasm memory growth,
 * emscripten, tfjs writing into a heap that did not grow, TensorFlow's native OOM.
 */
const ALLOCATION = /Array buffer allocation failed|Invalid typed array length|Cannot enlarge memory|Maximum memory size exceeded|WebAssembly\.Memory|offset is out of bounds|OOM when allocating|Failed to allocate/i;

/**
 * Reads an error and its causes for a fault of the compute backend; null for an ordinary
 * error. A TrialFailure's own message is not read (its TRIAL_MEMORY_MB limit, a NaN loss),
 * only what it wraps.
 */
export function backendFaultOf(err: unknown): BackendFault | null {
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++, e = (e as { cause?: unknown }).cause) {
    if (e instanceof TrialFailure) continue;
    const message = e instanceof Error ? e.message : String(e);
    const name = e instanceof Error ? e.name : 'Error';
    const reason = `${name}: ${message.slice(0, 200)}`;
    if (e instanceof WebAssembly.RuntimeError || TRAP.test(message)) return { fatal: true, reason };
    if (ALLOCATION.test(message)) return { fatal: false, reason };
    if (typeof e !== 'object') break;
  }
  return null;
}

/** Whether the active backend still computes: {@link probeBackend}'s answer. */
export type BackendHealth = { ok: true } | { ok: false; reason: string };

/**
 * A tiny computation whose result is known: a 2×2 by 2×1 matMul plus 1 must give [18, 40].
 * A poisoned wasm heap traps here, or answers wrong, or allocates at address 0 (its malloc
 * failed). Costs well under a millisecond; reads with `data()`, which every backend supports.
 */
export async function probeBackend(): Promise<BackendHealth> {
  // No backend started yet (an api that has served no model): nothing to break, and a probe would start one.
  if (!tf.getBackend()) return { ok: true };
  let out: tf.Tensor | undefined;
  try {
    out = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).add(1));
    const offset = (tf.backend() as { getMemoryOffset?: (id: object) => number }).getMemoryOffset?.(out.dataId);
    if (offset === 0) return { ok: false, reason: 'the probe tensor was allocated at address 0: the backend heap cannot allocate' };
    const values = Array.from(await out.data());
    if (values[0] !== 18 || values[1] !== 40) return { ok: false, reason: `the probe computed [${values.join(', ')}] instead of [18, 40]` };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `the probe failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}` };
  } finally {
    try {
      out?.dispose();
    } catch {
      // A broken backend may fail to free; the answer above says so already.
    }
  }
}

/** The engine's fields that a reset touches (tfjs-core's Engine; public there, though not in `tf.engine()`'s type). */
interface EngineInternals {
  registry: Record<string, tf.KernelBackend>;
  reset(): void;
}

/**
 * Replaces the active backend with a fresh instance of the same kind: for wasm a new
 * WebAssembly instance with a new heap (tfjs-backend-wasm's factory instantiates the module
 * on every call), for cpu new storage. Every tensor and model held before is gone: callers
 * load their models again. Throws when the backend cannot be started again.
 *
 * `tf.removeBackend` + `registerBackend` + `setBackend` is not enough: removing disposes the
 * old instance, which on a poisoned heap traps midway and leaves the engine half-cleared.
 * So the broken instance is told never to touch its heap again, and the whole engine is reset
 * (its tensors, variables and scopes forgotten) with the backend factories kept.
 * Each wasm instance adds emscripten's process listeners once; resets are rare enough.
 */
export async function resetBackend(): Promise<string> {
  const name = tf.getBackend();
  if (!name) throw new Error('no compute backend is active');
  const engine = tf.engine() as unknown as EngineInternals;
  const broken = engine.registry[name];
  if (broken) {
    broken.dispose = () => undefined;
    broken.disposeData = () => true;
  }
  engine.reset();
  if (!(await tf.setBackend(name))) throw new Error(`the '${name}' backend did not start again`);
  await tf.ready();
  return name;
}

/**
 * Test hook (MAAS_TEST_WASM_HEAP_MB): caps the active wasm backend's heap at `bytes`, so a
 * test can exhaust it for real with a small model, as a 32×8192 MLP exhausts wasm32's 4 GiB.
 * Growth beyond the cap fails the way the real limit does: emscripten's malloc returns 0.
 * Returns false when the active backend is not wasm.
 */
export function capWasmHeap(bytes: number): boolean {
  const memory = (tf.backend() as { wasm?: { asm?: { memory?: WebAssembly.Memory } } }).wasm?.asm?.memory;
  if (tf.getBackend() !== 'wasm' || !memory) return false;
  const grow = memory.grow.bind(memory);
  memory.grow = (pages: number) => {
    if (memory.buffer.byteLength + pages * 65_536 > bytes) throw new RangeError(`WebAssembly.Memory.grow(): Maximum memory size exceeded (test cap of ${bytes} bytes)`);
    return grow(pages);
  };
  return true;
}
