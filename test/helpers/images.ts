import { zipSync, zlibSync } from 'fflate';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';

/** A small image: row-major `height × width × channels` values in 0..255 (channels 1, 3 or 4). */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: ArrayLike<number>;
}

/** A gray image from rows of values. */
export function gray(rows: number[][]): RawImage {
  return { width: rows[0]!.length, height: rows.length, channels: 1, data: rows.flat() };
}

function toRgba(image: RawImage): Buffer {
  const rgba = Buffer.alloc(image.width * image.height * 4);
  for (let p = 0; p < image.width * image.height; p++) {
    for (let k = 0; k < 4; k++) {
      const c = image.channels === 1 ? 0 : k;
      rgba[4 * p + k] = k === 3 && image.channels !== 4 ? 255 : image.data[p * image.channels + c]!;
    }
  }
  return rgba;
}

/** Encodes a PNG: grayscale (colour type 0), RGB (2) or RGBA (6) after the image's channels. */
export function png(image: RawImage): Uint8Array {
  const colorType = image.channels === 1 ? 0 : image.channels === 3 ? 2 : 6;
  const p = new PNG({ width: image.width, height: image.height });
  p.data = toRgba(image);
  return new Uint8Array(PNG.sync.write(p, { colorType }));
}

/** A 16-bit grayscale PNG from 16-bit values. */
export function png16(width: number, height: number, values: number[]): Uint8Array {
  const p = new PNG({ width, height, bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  p.data = Buffer.from(new Uint16Array(values).buffer);
  return new Uint8Array(PNG.sync.write(p, { bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}

/** A palette PNG (colour type 3, 8-bit indices), written chunk by chunk since pngjs cannot write one. */
export function palettePng(width: number, height: number, palette: Array<[number, number, number]>, indices: number[]): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 3, 0, 0, 0], 8);
  const scanlines = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) scanlines.set(indices.slice(y * width, (y + 1) * width), y * (width + 1) + 1);
  return concat([
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('PLTE', Uint8Array.from(palette.flat())),
    chunk('IDAT', zlibSync(scanlines)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A PNG that is only a signature and an IHDR claiming `width × height`, to test size checks without the pixels. */
export function pngHeaderOnly(width: number, height: number): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 0, 0, 0, 0], 8);
  return concat([Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header)]);
}

/** Encodes a baseline JPEG at `quality`. */
export function jpeg(image: RawImage, quality = 95): Uint8Array {
  return new Uint8Array(encodeJpeg({ width: image.width, height: image.height, data: toRgba(image) }, quality).data);
}

/** A zip of `files` (path → bytes), deflated. */
export function zip(files: Record<string, Uint8Array>): Uint8Array {
  return zipSync(files, { level: 6 });
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Array.from(type, (c) => c.charCodeAt(0)), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A blank grayscale PNG of `side × side` pixels, written without pngjs (which would build the whole bitmap): 16 KB at 4096. */
export function blankPng(side: number): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, side);
  view.setUint32(4, side);
  header.set([8, 0, 0, 0, 0], 8);
  // One filter byte (0) and `side` zero pixels per row.
  const scanlines = new Uint8Array(side * (side + 1));
  return concat([Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', zlibSync(scanlines, { level: 9 })), chunk('IEND', new Uint8Array(0))]);
}
