import * as tf from '@tensorflow/tfjs';
import { maxPoolGradNHWC } from './max-pool-grad.ts';

type TensorInfo = tf.TensorInfo;

export interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array;
}

function kernelOf(name: string): tf.KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
  return k.kernelFunc;
}

/**
 * tfjs-wasm multiplies transposed operands an order of magnitude slower than
 * plain ones (measured for a Dense(5408→128) layer's gradients: 41 and 31 ms
 * against 2.7 ms), and every Dense layer's backward pass asks for them. This
 * wraps BatchMatMul and _FusedMatMul to transpose first (a cheap copy) and
 * multiply without transposes.
 */
export function withoutTransposes(name: 'BatchMatMul' | '_FusedMatMul'): tf.KernelFunc {
  const original = kernelOf(name);
  const transpose = kernelOf('Transpose');
  return (args) => {
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return original(args);
    const backend = args.backend as WasmBackend;
    const inputs = args.inputs as Record<string, TensorInfo>;
    const made: TensorInfo[] = [];
    const flip = (t: TensorInfo) => {
      const perm = t.shape.map((_, i) => i);
      [perm[perm.length - 1], perm[perm.length - 2]] = [perm[perm.length - 2]!, perm[perm.length - 1]!];
      const out = transpose({ inputs: { x: t }, backend, attrs: { perm } }) as TensorInfo;
      made.push(out);
      return out;
    };
    try {
      return original({
        inputs: { ...inputs, a: attrs.transposeA ? flip(inputs.a!) : inputs.a!, b: attrs.transposeB ? flip(inputs.b!) : inputs.b! },
        backend,
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
    } finally {
      for (const t of made) backend.disposeData(t.dataId);
    }
  };
}

/**
 * Conv2DBackpropFilter on wasm as one matrix product: with the input's
 * patches laid out as P[k][n] (k = filter cell and input channel, n = batch ×
 * output position), dW = P · dy, which the wasm BatchMatMul does at SIMD
 * speed. NCHW goes to `fallback`.
 */
export function conv2dBackpropFilterWasm(fallback: tf.KernelFunc): tf.KernelFunc {
  const matMul = kernelOf('BatchMatMul');
  return (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = args.attrs as unknown as {
      strides: [number, number] | number; pad: 'valid' | 'same' | number; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
    };
    if (attrs.dataFormat === 'NCHW') return fallback(args);
    const backend = args.backend as WasmBackend;
    const c = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = c;
    const K = filterHeight * filterWidth * inChannels;
    const N = batchSize * outHeight * outWidth;
    const xv = backend.readSync(x.dataId) as Float32Array;
    const patches = backend.makeOutput([1, K, N], 'float32');
    const p = backend.typedArrayFromHeap(patches) as Float32Array;
    p.fill(0);
    const xRow = inWidth * inChannels;
    const xBatch = inHeight * xRow;
    for (let fh = 0; fh < filterHeight; fh++) {
      for (let fw = 0; fw < filterWidth; fw++) {
        for (let ci = 0; ci < inChannels; ci++) {
          const rowStart = ((fh * filterWidth + fw) * inChannels + ci) * N;
          let n = 0;
          for (let b = 0; b < batchSize; b++) {
            for (let oh = 0; oh < outHeight; oh++) {
              const xh = oh * strideHeight - c.padInfo.top + fh;
              for (let ow = 0; ow < outWidth; ow++, n++) {
                const xw = ow * strideWidth - c.padInfo.left + fw;
                if (xh >= 0 && xh < inHeight && xw >= 0 && xw < inWidth) p[rowStart + n] = xv[b * xBatch + xh * xRow + xw * inChannels + ci]!;
              }
            }
          }
        }
      }
    }
    try {
      const product = matMul({
        inputs: { a: patches, b: { dataId: dy.dataId, shape: [1, N, outChannels], dtype: dy.dtype } },
        backend,
        attrs: { transposeA: false, transposeB: false },
      }) as TensorInfo;
      return { dataId: product.dataId, shape: [...attrs.filterShape], dtype: 'float32' };
    } finally {
      backend.disposeData(patches.dataId);
    }
  };
}

/** MaxPoolGrad (NHWC) as a single pass in JS; see max-pool-grad.ts. */
export function maxPoolGradWasm(): tf.KernelFunc {
  return (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const attrs = args.attrs as unknown as { filterSize: [number, number] | number; strides: [number, number] | number; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const backend = args.backend as WasmBackend;
    const c = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const dyv = backend.readSync(dy.dataId) as Float32Array;
    const xv = backend.readSync(input.dataId) as Float32Array;
    const out = backend.makeOutput([...input.shape], 'float32');
    const dx = backend.typedArrayFromHeap(out) as Float32Array;
    dx.fill(0);
    maxPoolGradNHWC(dyv, xv, c, dx);
    return out;
  };
}

/**
 * Unpack (unstack) on wasm with one read of the input and one copy per
 * output. tfjs-wasm slices once per output; for an LSTM over 64 steps that
 * took about 70 ms of a 220 ms training batch.
 */
export function unpackWasm(): tf.KernelFunc {
  return (args) => {
    const { value } = args.inputs as { value: TensorInfo };
    const backend = args.backend as WasmBackend;
    const rank = value.shape.length;
    let axis = (args.attrs as { axis: number }).axis;
    if (axis < 0) axis += rank;
    const count = value.shape[axis]!;
    const outer = value.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = value.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outShape = value.shape.filter((_, i) => i !== axis);
    const v = backend.readSync(value.dataId) as Float32Array | Int32Array;
    const outs: TensorInfo[] = [];
    for (let i = 0; i < count; i++) {
      const info = backend.makeOutput(outShape, value.dtype);
      const out = backend.typedArrayFromHeap(info);
      for (let o = 0; o < outer; o++) out.set(v.subarray((o * count + i) * inner, (o * count + i + 1) * inner), o * inner);
      outs.push(info);
    }
    return outs;
  };
}
