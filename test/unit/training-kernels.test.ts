import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/index.ts';

/** dW by its definition, as slowly and plainly as possible. */
function naiveFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, fh: number, fw: number, stride: number, padTop: number, padLeft: number): number[] {
  const [b, h, w, ci] = x.shape;
  const [, oh, ow, co] = dy.shape;
  const xv = x.arraySync();
  const dv = dy.arraySync();
  const out = new Array(fh * fw * ci * co).fill(0);
  for (let i = 0; i < fh; i++) for (let j = 0; j < fw; j++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) {
    let sum = 0;
    for (let n = 0; n < b; n++) for (let r = 0; r < oh; r++) for (let s = 0; s < ow; s++) {
      const xr = r * stride - padTop + i;
      const xs = s * stride - padLeft + j;
      if (xr >= 0 && xr < h && xs >= 0 && xs < w) sum += xv[n]![xr]![xs]![c]! * dv[n]![r]![s]![o]!;
    }
    out[((i * fw + j) * ci + c) * co + o] = sum;
  }
  return out;
}

const BACKENDS = ['cpu', 'wasm'] as const;

describe.each(BACKENDS)('training kernels on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it.each([
    { stride: 1, pad: 'valid' as const, ci: 1, co: 4, k: 3 },
    { stride: 1, pad: 'same' as const, ci: 3, co: 5, k: 3 },
    { stride: 2, pad: 'same' as const, ci: 2, co: 3, k: 5 },
    { stride: 2, pad: 'valid' as const, ci: 4, co: 2, k: 2 },
  ])('Conv2DBackpropFilter matches its definition (%o)', ({ stride, pad, ci, co, k }) => {
    const x = tf.randomNormal([2, 7, 6, ci], 0, 1, 'float32', 1) as tf.Tensor4D;
    const filter = tf.randomNormal([k, k, ci, co], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = tf.conv2d(x, filter, stride, pad);
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3) as tf.Tensor4D;
    const grad = tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, stride, pad).mul(dy).sum())(filter);
    const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, stride, 1, pad);
    const expected = naiveFilterGrad(x, dy, k, k, stride, info.padInfo.top, info.padInfo.left);
    const got = Array.from(grad.dataSync());
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3));
    tf.dispose([x, filter, y, dy, grad]);
  });

  it('UnsortedSegmentSum adds rows into their segments and drops ids out of range', () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const ids = tf.tensor1d([2, 0, 2, 5], 'int32');
    const out = tf.unsortedSegmentSum(x, ids, 3);
    expect(out.arraySync()).toEqual([[3, 4], [0, 0], [6, 8]]);
    tf.dispose([x, ids, out]);
  });

  it('trains an Embedding layer (its gradient is a segment sum)', async () => {
    const model = tf.sequential({ layers: [tf.layers.embedding({ inputDim: 50, outputDim: 4, inputLength: 3 }), tf.layers.flatten(), tf.layers.dense({ units: 1 })] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const xs = tf.tensor2d([[1, 2, 3], [4, 5, 6], [1, 1, 49]], undefined, 'int32');
    const ys = tf.tensor2d([[1], [0], [1]]);
    const h = await model.fit(xs, ys, { epochs: 5, verbose: 0 });
    const loss = h.history.loss as number[];
    expect(loss.at(-1)!).toBeLessThan(loss[0]!);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('runs the kernels wasm lacks through the cpu implementation (depthwise conv gradient)', () => {
    const x = tf.randomNormal([1, 5, 5, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    const f = tf.randomNormal([3, 3, 2, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same').sum())([x, f]);
    expect(gx!.shape).toEqual([1, 5, 5, 2]);
    expect(gf!.shape).toEqual([3, 3, 2, 1]);
    expect(Number.isFinite(gf!.sum().dataSync()[0]!)).toBe(true);
    tf.dispose([x, f, gx!, gf!]);
  });
});

describe('wasm kernels agree with the cpu backend', () => {
  async function onBoth<T>(compute: () => T): Promise<{ cpu: T; wasm: T }> {
    await selectBackend('cpu');
    const cpu = compute();
    await selectBackend('wasm');
    const wasm = compute();
    await selectBackend('cpu');
    return { cpu, wasm };
  }

  it('MaxPoolGrad sends each gradient to the first maximum of its window, ties included', async () => {
    // Rounded values and a ReLU make many ties, as after a real activation.
    const grads = await onBoth(() =>
      tf.tidy(() => {
        const x = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 7).mul(2).round().relu() as tf.Tensor4D;
        const dy = tf.randomNormal([2, 5, 4, 3], 0, 1, 'float32', 8);
        return Array.from(tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'same').mul(dy).sum())(x).dataSync());
      }),
    );
    grads.wasm.forEach((v, i) => expect(v).toBeCloseTo(grads.cpu[i]!, 5));
  });

  it('Unpack splits along any axis, for floats and integers', async () => {
    const parts = await onBoth(() =>
      tf.tidy(() => [0, 1, 2].flatMap((axis) => [
        tf.unstack(tf.range(0, 24).reshape([2, 3, 4]), axis).map((t) => [t.shape, Array.from(t.dataSync())]),
        tf.unstack(tf.range(0, 24, 1, 'int32').reshape([2, 3, 4]), axis).map((t) => [t.shape, Array.from(t.dataSync())]),
      ])),
    );
    expect(parts.wasm).toEqual(parts.cpu);
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('BatchMatMul with transposeA=%s transposeB=%s', async (ta, tb) => {
    const products = await onBoth(() =>
      tf.tidy(() => {
        const a = tf.randomNormal(ta ? [2, 5, 3] : [2, 3, 5], 0, 1, 'float32', 9) as tf.Tensor3D;
        const b = tf.randomNormal(tb ? [2, 4, 5] : [2, 5, 4], 0, 1, 'float32', 10) as tf.Tensor3D;
        return [Array.from(tf.matMul(a, b, ta, tb).dataSync()), Array.from(tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, activation: 'relu' }).dataSync())];
      }),
    );
    products.wasm.flat().forEach((v, i) => expect(v).toBeCloseTo(products.cpu.flat()[i]!, 4));
  });
});
