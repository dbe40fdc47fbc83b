import { afterAll, describe, expect, it } from 'vitest';
import { prepareDataset, prepareImageZip } from '../../src/data/index.ts';
import { checkDecodedPixels, readImageHeader } from '../../src/data/zip-images/header.ts';
import { PayloadTooLargeError, ServiceBusyError, ValidationError } from '../../src/errors.ts';
import { createPreparer } from '../../src/preparation/index.ts';
import { expectInvalid } from '../helpers/expect-invalid.ts';
import { gray, jpeg, png, pngHeaderOnly, zip } from '../helpers/images.ts';

const square = (side: number, value: number) => gray(Array.from({ length: side }, () => Array<number>(side).fill(value)));

describe('image headers: decoding work is bounded before it starts', () => {
  it('reads the size from a PNG IHDR and a JPEG start-of-frame', () => {
    expect(readImageHeader(png(gray([[1, 2, 3], [4, 5, 6]])))).toEqual({ format: 'png', width: 3, height: 2 });
    expect(readImageHeader(jpeg({ width: 5, height: 7, channels: 1, data: new Array(35).fill(9) }))).toEqual({ format: 'jpeg', width: 5, height: 7 });
    expect(readImageHeader(new TextEncoder().encode('not an image'))).toBeUndefined();
  });

  it('refuses one image over the per-image cap, naming it, its pixels and the limit', () => {
    const images = [{ path: 'cat/big.png', bytes: pngHeaderOnly(3000, 3000) }];
    const error = expectInvalid(() => checkDecodedPixels(images, { maxImagePixels: 2 ** 20, maxDecodedPixels: 2 ** 40 }, 'pets.zip'), 'file', '"cat/big.png"', '3000×3000', '9000000 pixels', `at most ${2 ** 20}`);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
  });

  it('refuses a zip of blank 4096×4096 images by their headers, before any is decoded', () => {
    // Header-only PNGs would fail to decode: a 413 about the total shows nothing was decoded.
    const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${i % 2 ? 'a' : 'b'}/${i}.png`, pngHeaderOnly(4096, 4096)]));
    const error = expectInvalid(() => prepareImageZip(zip(files), { seed: 0, fileName: 'blank.zip', shape: [28, 28] }), 'file', '"blank.zip"', '40 images', `${40 * 4096 * 4096} pixels in all`, `${2 ** 29} pixels`);
    expect(error.status).toBe(413);
  });
});

describe('the preparation pool', () => {
  const preparer = createPreparer({ threads: 1, queue: 1, timeoutMs: 300 });
  afterAll(() => preparer.close());
  const csv = 'x,y,label\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n9,1,a\n2,3,b\n';
  const bytes = () => new TextEncoder().encode(csv);
  const blame = { field: 'file', value: 'data.csv' };

  it('prepares in a thread exactly what preparing in place gives, the bytes moved rather than copied', async () => {
    const input = { kind: 'tabular' as const, target: 'label', seed: 3 };
    const upload = bytes();
    const prepared = await preparer.run({ type: 'table', bytes: upload, input }, { blame, transfer: [upload.buffer as ArrayBuffer] });
    expect(upload.byteLength).toBe(0);
    const local = prepareDataset({ ...input, csv });
    expect(prepared.summary).toEqual(local.summary);
    expect(prepared.encoded.features).toEqual(local.encoded.features);
    expect(prepared.encoded.labels).toEqual(local.encoded.labels);
    expect(prepared.preprocessing).toEqual(local.preprocessing);
  });

  it('rebuilds a ValidationError thrown in the thread with its status, field, value and rule', async () => {
    const error = await preparer.run({ type: 'table', bytes: bytes(), input: { kind: 'tabular', target: 'nope', seed: 0 } }, { blame }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 400, field: 'target', value: 'nope' });
    expect((error as ValidationError).rule).toContain('is not a column of the file');
    const zipped = zip({ 'a/1.png': png(square(2, 1)), 'a/2.png': png(square(2, 1)), 'b/1.png': png(square(2, 9)), 'b/2.png': png(square(2, 9)) });
    const tooMany = await preparer.run({ type: 'image-zip', bytes: zipped, options: { seed: 0, fileName: 'x.zip', limits: { maxEntries: 2 } } }, { blame }).catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(PayloadTooLargeError);
    expect(tooMany).toMatchObject({ status: 413, field: 'file', value: 'x.zip' });
  });

  it('stops a job over its time limit with a 413 naming the blamed field and the limit, and keeps working after', async () => {
    // 8,000 MNIST digits take seconds to build and encode, far past 0.3 s.
    const error = await preparer.run({ type: 'mnist', count: 8_000, seed: 0 }, { blame: { field: 'count', value: 8_000 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ field: 'count', value: 8_000 });
    expect((error as Error).message).toContain('0.3 s preparation limit (PREPARE_TIMEOUT_MS)');
    const after = await preparer.run({ type: 'table', bytes: bytes(), input: { kind: 'tabular', target: 'label', seed: 0 } }, { blame });
    expect(after.encoded.rows).toBe(6);
  });

  it('refuses a job with 503 and Retry-After when every thread is busy and the queue is full', () => {
    const running = preparer.hold();
    const waiting = preparer.hold();
    let busy: unknown;
    try {
      preparer.hold();
    } catch (error) {
      busy = error;
    }
    expect(busy).toBeInstanceOf(ServiceBusyError);
    expect((busy as ServiceBusyError).retryAfterSeconds).toBeGreaterThan(0);
    expect((busy as Error).message).toContain('PREPARE_QUEUE');
    running.release();
    running.release();
    preparer.hold().release();
    waiting.release();
  });
});
