import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { conv2dBackpropFilterNHWC } from './conv2d-backprop-filter.ts';
import { unsortedSegmentSum } from './unsorted-segment-sum.ts';
import { conv2dBackpropFilterWasm, maxPoolGradWasm, unpackWasm, withoutTransposes, type WasmBackend } from './wasm-fast.ts';

type TensorInfo = tf.TensorInfo;
type Values = ArrayLike<number>;

/**
 * What a kernel needs from a backend to read its inputs and hand back an
 * output; cpu and wasm differ only here.
 */
interface Io {
  read(backend: tf.KernelBackend, t: TensorInfo): Values;
  /** Allocates a zeroed output, lets `fill` write into it, returns its TensorInfo. */
  output(backend: tf.KernelBackend, shape: number[], dtype: tf.DataType, fill: (out: Float32Array | Int32Array) => void): TensorInfo;
}

const IO: Record<'cpu' | 'wasm', Io> = {
  cpu: {
    read: (backend, t) => backend.readSync(t.dataId) as Values,
    output: (backend, shape, dtype, fill) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const out = dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
      fill(out);
      return (backend as MathBackendCPU).makeTensorInfo(shape, dtype, out);
    },
  },
  wasm: {
    read: (backend, t) => backend.readSync(t.dataId) as Values,
    output: (backend, shape, dtype, fill) => {
      const wasm = backend as WasmBackend;
      const info = wasm.makeOutput(shape, dtype);
      // The heap view is taken after every allocation, since growing wasm memory detaches old views.
      const out = wasm.typedArrayFromHeap(info);
      out.fill(0);
      fill(out);
      return info;
    },
  },
};

function conv2dBackpropFilter(io: Io, fallback: tf.KernelFunc | undefined): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as tf.KernelBackend;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: [number, number] | number; pad: 'valid' | 'same' | number; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
    };
    if (dataFormat === 'NCHW' && fallback) return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const xv = io.read(backend, x);
    const dyv = io.read(backend, dy);
    return io.output(backend, [...filterShape], 'float32', (out) => conv2dBackpropFilterNHWC(xv, dyv, info, out as Float32Array));
  };
}

function segmentSum(io: Io): tf.KernelFunc {
  return ({ inputs, backend: b, attrs }) => {
    const backend = b as tf.KernelBackend;
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = attrs as unknown as { numSegments: number };
    const inner = x.shape.slice(segmentIds.shape.length);
    const rowSize = inner.reduce((a, b) => a * b, 1);
    const xv = io.read(backend, x);
    const ids = io.read(backend, segmentIds);
    return io.output(backend, [numSegments, ...inner], x.dtype, (out) => unsortedSegmentSum(xv, ids, numSegments, rowSize, out));
  };
}

/**
 * Runs the cpu backend's kernel for a wasm tensor: inputs are copied into a
 * private cpu backend and the result back into wasm memory. Used for the
 * kernels wasm lacks that training may still reach (depthwise-conv
 * gradients, einsum, ragged ops); the hot ones have native-speed versions above.
 */
function viaCpu(name: string, cpu: MathBackendCPU): tf.KernelFunc | undefined {
  const kernel = tf.getKernel(name, 'cpu');
  if (!kernel) return undefined;
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as WasmBackend;
    const made: TensorInfo[] = [];
    const toCpu = (t: TensorInfo) => {
      const copy = { dataId: cpu.write(wasm.readSync(t.dataId) as Float32Array, t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
      made.push(copy);
      return copy;
    };
    const cpuInputs = Array.isArray(inputs)
      ? (inputs as TensorInfo[]).map(toCpu)
      : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t ? toCpu(t) : t]));
    try {
      const result = kernel.kernelFunc({ inputs: cpuInputs as tf.NamedTensorInfoMap, backend: cpu, attrs });
      const outputs = (Array.isArray(result) ? result : [result]).map((o) => {
        const values = cpu.readSync(o.dataId) as Float32Array;
        const info = wasm.makeOutput([...o.shape], o.dtype);
        wasm.typedArrayFromHeap(info).set(values);
        cpu.disposeData(o.dataId, true);
        return info;
      });
      return Array.isArray(result) ? outputs : outputs[0]!;
    } finally {
      for (const t of made) cpu.disposeData(t.dataId, true);
    }
  };
}

/** Kernels with complex or string tensors; no training path reaches them. */
const NOT_NUMERIC = new Set(['Complex', 'ComplexAbs', 'FFT', 'IFFT', 'Imag', 'Real', 'StaticRegexReplace', 'Draw']);

const done = new Set<string>();

/**
 * Makes every model family trainable, and fast, on one JS backend. For cpu:
 * fast Conv2DBackpropFilter and UnsortedSegmentSum. For wasm: those two
 * (the filter gradient as one SIMD matrix product), matrix products without
 * the slow transposed path, a one-pass MaxPoolGrad, and cpu fallbacks for
 * the other numeric kernels wasm does not register. Idempotent; call after
 * the backend's module is imported and before training.
 */
export function registerTrainingKernels(backendName: 'cpu' | 'wasm'): void {
  if (done.has(backendName)) return;
  if (backendName === 'wasm' && !tf.getKernel('BatchMatMul', 'wasm')) throw new Error('the wasm backend is not loaded');
  done.add(backendName);
  const io = IO[backendName];
  const originalConv = tf.getKernel('Conv2DBackpropFilter', backendName)?.kernelFunc;
  replace('UnsortedSegmentSum', backendName, segmentSum(io));
  if (backendName === 'cpu') {
    replace('Conv2DBackpropFilter', 'cpu', conv2dBackpropFilter(io, originalConv));
    return;
  }
  const cpu = new MathBackendCPU();
  const wasmHas = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  for (const { kernelName } of tf.getKernelsForBackend('cpu')) {
    if (wasmHas.has(kernelName) || NOT_NUMERIC.has(kernelName)) continue;
    const kernelFunc = viaCpu(kernelName, cpu);
    if (kernelFunc) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  // Conv2DBackpropFilter now runs on the cpu fallback; the SIMD version takes NHWC, the fallback the rest.
  replace('Conv2DBackpropFilter', 'wasm', conv2dBackpropFilterWasm(tf.getKernel('Conv2DBackpropFilter', 'wasm')!.kernelFunc));
  replace('BatchMatMul', 'wasm', withoutTransposes('BatchMatMul'));
  replace('_FusedMatMul', 'wasm', withoutTransposes('_FusedMatMul'));
  replace('MaxPoolGrad', 'wasm', maxPoolGradWasm());
  replace('Unpack', 'wasm', unpackWasm());
}

/** Swaps a kernel's function, keeping its setup (wasm kernels bind their C functions there). */
function replace(kernelName: string, backendName: string, kernelFunc: tf.KernelFunc): void {
  const existing = tf.getKernel(kernelName, backendName);
  if (existing) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...existing, kernelName, backendName, kernelFunc });
}
