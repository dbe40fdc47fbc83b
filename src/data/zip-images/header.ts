/**
 * An image's size as its header declares it, read without decoding, so a zip's decoding work
 * (which grows with width × height, not with the file's bytes: a blank 4096×4096 PNG is 16 KB
 * and takes about half a second to decode) is bounded before any of it starts.
 */
import { PayloadTooLargeError } from '../../errors.ts';
import type { ImageZipLimits } from './limits.ts';

export interface ImageHeader {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The size a PNG's IHDR or a JPEG's start-of-frame declares; undefined when neither is found (the decoder then says why). */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 24 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
    // IHDR is always the first chunk: length, "IHDR", width, height.
    return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let at = 2;
  while (at + 9 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] as number;
    // Fill bytes, and markers that carry no length.
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2;
      continue;
    }
    // Every start-of-frame (baseline, progressive, lossless, arithmetic), not DHT (C4), JPG (C8) or DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { format: 'jpeg', height: view.getUint16(at + 5), width: view.getUint16(at + 7) };
    }
    // Image data starts with no frame header before it: not a JPEG this can size.
    if (marker === 0xda) return undefined;
    at += 2 + view.getUint16(at + 2);
  }
  return undefined;
}

/**
 * Refuses an image over `maxImagePixels`, or a zip whose images add up to more than
 * `maxDecodedPixels`, by their headers and before any image is decoded.
 * @throws PayloadTooLargeError on field `file`, naming the image or the zip, the number and the limit.
 */
export function checkDecodedPixels(
  images: ReadonlyArray<{ path: string; bytes: Uint8Array }>,
  limits: Pick<ImageZipLimits, 'maxImagePixels' | 'maxDecodedPixels'>,
  fileName: string,
): void {
  let total = 0;
  for (const image of images) {
    const header = readImageHeader(image.bytes);
    if (header === undefined) continue;
    const pixels = header.width * header.height;
    if (pixels > limits.maxImagePixels) {
      throw new PayloadTooLargeError('file', image.path, `is ${header.width}×${header.height}, ${pixels} pixels; an image may have at most ${limits.maxImagePixels} pixels`);
    }
    total += pixels;
  }
  if (total > limits.maxDecodedPixels) {
    throw new PayloadTooLargeError(
      'file',
      fileName,
      `holds ${images.length} images of ${total} pixels in all, more than the ${limits.maxDecodedPixels} pixels an image zip may decode; resize the images before zipping them`,
    );
  }
}
