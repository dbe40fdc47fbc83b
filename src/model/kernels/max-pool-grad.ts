import type { backend_util } from '@tensorflow/tfjs';

type Values = ArrayLike<number>;

/**
 * The input gradient of 2-D max pooling (NHWC), accumulated into `dx`
 * (zeroed, the input's shape): each output cell's gradient goes to the first
 * maximum of its window in row-major order, as TensorFlow and tfjs's cpu
 * backend do. One pass over the output; tfjs-wasm's own kernel took about
 * 24 ms for a [64,26,26,32] input where this takes a few.
 */
export function maxPoolGradNHWC(dy: Values, x: Values, c: backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = c;
  const top = c.padInfo.top;
  const left = c.padInfo.left;
  const xRow = inWidth * channels;
  const xBatch = inHeight * xRow;
  const yRow = outWidth * channels;
  const yBatch = outHeight * yRow;
  // Channels are innermost in NHWC, so each window is scanned a pixel at a
  // time over contiguous channels, keeping the running maximum per channel.
  const best = new Float32Array(channels);
  const at = new Int32Array(channels);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = Math.max(0, oh * strideHeight - top);
      const h1 = Math.min(inHeight, oh * strideHeight - top + filterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = Math.max(0, ow * strideWidth - left);
        const w1 = Math.min(inWidth, ow * strideWidth - left + filterWidth);
        if (h0 >= h1 || w0 >= w1) continue;
        best.fill(-Infinity);
        at.fill(-1);
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const base = b * xBatch + h * xRow + w * channels;
            for (let ch = 0; ch < channels; ch++) {
              const v = x[base + ch]!;
              if (v > best[ch]! || at[ch]! < 0) {
                best[ch] = v;
                at[ch] = base + ch;
              }
            }
          }
        }
        const yOff = b * yBatch + oh * yRow + ow * channels;
        for (let ch = 0; ch < channels; ch++) dx[at[ch]!]! += dy[yOff + ch]!;
      }
    }
  }
}
