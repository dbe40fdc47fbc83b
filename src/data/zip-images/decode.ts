/**
 * PNG and JPEG decoding into 8-bit pixels with alpha dropped, in pure JavaScript
 * (pngjs, jpeg-js), so the service needs no native image library.
 */
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { ValidationError } from '../../errors.ts';
import { readImageHeader } from './header.ts';

/** One decoded image. */
export interface DecodedImage {
  width: number;
  height: number;
  /** 1 when every pixel is gray (red = green = blue), whatever the file's colour type; else 3. */
  channels: 1 | 3;
  /** Row-major `height × width × channels` values in 0..255. */
  data: Uint8Array;
  /** Detected from the content, not the file's extension. */
  format: 'png' | 'jpeg';
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

/**
 * Decodes a PNG (any bit depth and colour type, palette and 16-bit included) or a JPEG
 * (what jpeg-js reads: baseline and progressive, grayscale, YCbCr, CMYK). Alpha is dropped.
 * @throws ValidationError on field `file` naming `path`, for an undecodable image or one with a side over `maxSide` pixels.
 */
export function decodeImage(path: string, bytes: Uint8Array, maxSide: number): DecodedImage {
  const format = startsWith(bytes, PNG_SIGNATURE) ? 'png' : startsWith(bytes, JPEG_SIGNATURE) ? 'jpeg' : undefined;
  if (format === undefined) throw new ValidationError('file', path, 'is not a PNG or JPEG image: its content starts with neither signature');
  // Checking the size the header declares keeps the decoder from allocating a huge bitmap.
  const header = readImageHeader(bytes);
  if (header !== undefined) checkSize(path, header.width, header.height, maxSide);
  let rgba: { width: number; height: number; data: Uint8Array };
  try {
    rgba =
      format === 'png'
        ? PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
        : decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: (maxSide * maxSide) / 1e6 });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ValidationError('file', path, `could not be decoded as ${format.toUpperCase()} (${reason}); the image is corrupt or unsupported`);
  }
  const { width, height } = rgba;
  checkSize(path, width, height, maxSide);
  if (rgba.data.length < width * height * 4) {
    throw new ValidationError('file', path, `decoded to ${rgba.data.length} bytes, fewer than its ${width}×${height} size needs; the image is corrupt`);
  }
  return { width, height, format, ...dropAlpha(rgba.data, width * height) };
}

function checkSize(path: string, width: number, height: number, maxSide: number): void {
  if (width < 1 || height < 1 || width > maxSide || height > maxSide) {
    throw new ValidationError('file', path, `is ${width}×${height} pixels; images must be 1 to ${maxSide} pixels on each side`);
  }
}

/** RGBA to gray (one value per pixel) when every pixel is gray, else RGB. */
function dropAlpha(rgba: Uint8Array, pixels: number): { channels: 1 | 3; data: Uint8Array } {
  let gray = true;
  for (let p = 0; p < pixels && gray; p++) {
    const r = rgba[4 * p];
    gray = r === rgba[4 * p + 1] && r === rgba[4 * p + 2];
  }
  const channels = gray ? 1 : 3;
  const data = new Uint8Array(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < channels; k++) data[p * channels + k] = rgba[4 * p + k] as number;
  }
  return { channels, data };
}

function startsWith(bytes: Uint8Array, signature: number[]): boolean {
  return signature.every((b, i) => bytes[i] === b);
}
