/**
 * Image resizing, one axis at a time: area averaging when an axis shrinks (every source pixel
 * counts, weighted by how much of it an output pixel covers, so thin strokes survive) and
 * bilinear interpolation with pixel centres aligned when it grows (as PIL and OpenCV do).
 */

/** A row-major `height × width × channels` image. */
export interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: ArrayLike<number>;
}

/** Resizes `image` to `height × width`; returns it unchanged when it already has that size. */
export function resizeImage(image: Pixels, height: number, width: number): Pixels {
  if (image.height === height && image.width === width) return image;
  const { channels } = image;
  const across = axisTaps(image.width, width);
  const down = axisTaps(image.height, height);
  // Rows first, then columns; the two passes commute, so the order only affects speed.
  const rows = new Float32Array(image.height * width * channels);
  for (let y = 0; y < image.height; y++) {
    applyTaps(across, image.data, y * image.width * channels, channels, rows, y * width * channels, channels, channels);
  }
  const out = new Float32Array(height * width * channels);
  const stride = width * channels;
  for (let x = 0; x < width; x++) applyTaps(down, rows, x * channels, stride, out, x * channels, stride, channels);
  return { width, height, channels, data: out };
}

/** For each output index, the source indices it reads (`index[start[i]..start[i+1]]`) and their weights. */
export interface AxisTaps {
  start: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/** The taps that map an axis of `source` pixels onto `target` pixels. */
export function axisTaps(source: number, target: number): AxisTaps {
  const taps: Array<[number, number]> = [];
  const start = new Int32Array(target + 1);
  const scale = source / target;
  for (let i = 0; i < target; i++) {
    start[i] = taps.length;
    if (target === source) {
      taps.push([i, 1]);
    } else if (target < source) {
      // Output pixel i covers source interval [from, to); each source pixel counts by its overlap.
      const from = i * scale;
      const to = (i + 1) * scale;
      for (let j = Math.floor(from); j < Math.min(source, Math.ceil(to)); j++) {
        const overlap = Math.min(to, j + 1) - Math.max(from, j);
        if (overlap > 0) taps.push([j, overlap / scale]);
      }
    } else {
      // The output pixel's centre, in source coordinates, clamped so the edges repeat.
      const x = Math.min(source - 1, Math.max(0, (i + 0.5) * scale - 0.5));
      const j = Math.floor(x);
      const f = x - j;
      taps.push([j, 1 - f]);
      if (f > 0) taps.push([j + 1, f]);
    }
  }
  start[target] = taps.length;
  return { start, index: Int32Array.from(taps, (t) => t[0]), weight: Float64Array.from(taps, (t) => t[1]) };
}

/** One line along an axis: `out[outAt + i·outStride + lane] = Σ weight · data[at + index·stride + lane]` for each of `lanes` channels. */
function applyTaps(taps: AxisTaps, data: ArrayLike<number>, at: number, stride: number, out: Float32Array, outAt: number, outStride: number, lanes: number): void {
  const targets = taps.start.length - 1;
  for (let i = 0; i < targets; i++) {
    const end = taps.start[i + 1] as number;
    for (let lane = 0; lane < lanes; lane++) {
      let sum = 0;
      for (let t = taps.start[i] as number; t < end; t++) sum += (taps.weight[t] as number) * (data[at + (taps.index[t] as number) * stride + lane] as number);
      out[outAt + i * outStride + lane] = sum;
    }
  }
}
