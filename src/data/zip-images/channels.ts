/** Converting images between grayscale and RGB. */
import type { Pixels } from './resize.ts';

/** ITU-R BT.601 luma weights, as PIL's `convert('L')` and most grayscale conversions use. */
export const LUMA_WEIGHTS = [0.299, 0.587, 0.114] as const;

/** `image` with `channels` channels (1 or 3): colour becomes its luma, gray is copied into R, G and B. */
export function convertChannels(image: Pixels, channels: number): Pixels {
  if (image.channels === channels) return image;
  const pixels = image.width * image.height;
  const data = new Float32Array(pixels * channels);
  const src = image.data;
  if (channels === 1) {
    const [r, g, b] = LUMA_WEIGHTS;
    for (let p = 0; p < pixels; p++) data[p] = r * (src[3 * p] as number) + g * (src[3 * p + 1] as number) + b * (src[3 * p + 2] as number);
  } else {
    for (let p = 0; p < pixels; p++) data.fill(src[p] as number, 3 * p, 3 * p + 3);
  }
  return { ...image, channels, data };
}
