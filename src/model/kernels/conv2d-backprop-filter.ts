import type { backend_util } from '@tensorflow/tfjs';

type Values = ArrayLike<number>;

/**
 * The filter gradient of a 2-D convolution in NHWC layout, accumulated into
 * `out` (shape [filterHeight, filterWidth, inChannels, outChannels], zeroed).
 *
 * tfjs's cpu kernel reads every element through TensorBuffer.get (about 2.6 s
 * a batch for a small MNIST CNN) and wasm has none. Here the innermost loop
 * runs over output channels, contiguous in both `dy` and `out`, and zero
 * inputs (most of an image's border) are skipped.
 */
export function conv2dBackpropFilterNHWC(x: Values, dy: Values, c: backend_util.Conv2DInfo, out: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = c;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = c;
  const top = c.padInfo.top;
  const left = c.padInfo.left;
  const xRow = inWidth * inChannels;
  const xBatch = inHeight * xRow;
  const dyRow = outWidth * outChannels;
  const dyBatch = outHeight * dyRow;
  const fCell = inChannels * outChannels;
  const fRow = filterWidth * fCell;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyOff = b * dyBatch + oh * dyRow + ow * outChannels;
        for (let fh = 0; fh < filterHeight; fh++) {
          const xh = oh * strideHeight - top + fh;
          if (xh < 0 || xh >= inHeight) continue;
          for (let fw = 0; fw < filterWidth; fw++) {
            const xw = ow * strideWidth - left + fw;
            if (xw < 0 || xw >= inWidth) continue;
            const xOff = b * xBatch + xh * xRow + xw * inChannels;
            const wOff = fh * fRow + fw * fCell;
            for (let ci = 0; ci < inChannels; ci++) {
              const xv = x[xOff + ci]!;
              if (xv === 0) continue;
              const o = wOff + ci * outChannels;
              for (let co = 0; co < outChannels; co++) out[o + co]! += xv * dy[dyOff + co]!;
            }
          }
        }
      }
    }
  }
}
