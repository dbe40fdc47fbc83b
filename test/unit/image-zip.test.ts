import { describe, expect, it } from 'vitest';
import { encodeInstances, isZipArchive, prepareDataset, prepareImageZip, preprocessingSchema, type ImageZipOptions } from '../../src/data/index.ts';
import { axisTaps, resizeImage } from '../../src/data/zip-images/resize.ts';
import { PayloadTooLargeError } from '../../src/errors.ts';
import { expectInvalid } from '../helpers/expect-invalid.ts';
import { gray, jpeg, palettePng, png, png16, pngHeaderOnly, zip, type RawImage } from '../helpers/images.ts';

const uniform = (side: number, value: number): RawImage => gray(Array.from({ length: side }, () => Array<number>(side).fill(value)));
const rgb = (side: number, [r, g, b]: [number, number, number]): RawImage => ({
  width: side,
  height: side,
  channels: 3,
  data: Array.from({ length: side * side }, () => [r, g, b]).flat(),
});
const prepare = (bytes: Uint8Array, options: Partial<ImageZipOptions> = {}) => prepareImageZip(bytes, { seed: 1, fileName: 'pets.zip', ...options });
/** Row `r` of the encoded features back in 0..255. */
const row = (features: Float32Array, r: number, width: number) => Array.from(features.subarray(r * width, (r + 1) * width), (v) => Math.round(v * 255));

/** Three 2×2 uniform gray images per class; each image's value is unique, so a row tells which image it is. */
const values = { cat: [10, 20, 30], dog: [200, 210, 220] } as const;
const pets = zip(Object.fromEntries(Object.entries(values).flatMap(([label, vs]) => vs.map((v, i) => [`${label}/${i}.png`, png(uniform(2, v))]))));

describe('prepareImageZip: layout and encoding', () => {
  it('takes classes from the folder names and encodes images like a pixel CSV', () => {
    const prepared = prepare(pets);
    expect(prepared.kind).toBe('image');
    expect(prepared.task).toBe('classification');
    expect(prepared.spec).toEqual({ kind: 'image', task: 'classification', inputShape: [2, 2, 1], outputs: 2 });
    expect(preprocessingSchema.parse(prepared.preprocessing)).toEqual({
      kind: 'image',
      task: 'classification',
      target: 'label',
      pixels: { count: 4, scale: 255 },
      shape: [2, 2, 1],
      classes: ['cat', 'dog'],
    });
    const { encoded, summary } = prepared;
    expect(encoded.rows).toBe(6);
    expect(encoded.trainRows).toBe(4);
    expect(summary.classes).toEqual([{ label: 'cat', count: 3 }, { label: 'dog', count: 3 }]);
    expect(summary.split).toMatchObject({ method: 'stratified', train: 4, validation: 2 });
    expect(summary.images).toEqual({
      format: 'zip',
      perClass: { cat: 3, dog: 3 },
      formats: { png: 6, jpeg: 0 },
      ignored: 0,
      sizes: { minWidth: 2, maxWidth: 2, minHeight: 2, maxHeight: 2 },
      resized: 0,
      converted: { toGrayscale: 0, toRgb: 0 },
    });
    const seen = Array.from({ length: 6 }, (_, r) => {
      const pixels = row(encoded.features, r, 4);
      expect(new Set(pixels).size).toBe(1);
      expect(encoded.labels[r]).toBe(pixels[0]! < 100 ? 0 : 1);
      return pixels[0];
    });
    expect(seen.sort((a, b) => a! - b!)).toEqual([10, 20, 30, 200, 210, 220]);
  });

  it('gives the same split, features, labels and preprocessing as the same images in a pixel CSV', () => {
    // Path order (cat/0, cat/1, …, dog/2) is the CSV's row order.
    const lines = Object.entries(values).flatMap(([label, vs]) => vs.map((v) => `${label},${[v, v, v, v].join(',')}`));
    const csv = ['label,p0,p1,p2,p3', ...lines].join('\n');
    const fromCsv = prepareDataset({ csv, kind: 'image', target: 'label', shape: [2, 2, 1], seed: 7 });
    const fromZip = prepare(pets, { seed: 7 });
    expect(fromZip.encoded).toEqual(fromCsv.encoded);
    expect(fromZip.preprocessing).toEqual(fromCsv.preprocessing);
    expect(fromZip.spec).toEqual(fromCsv.spec);
    const { images, ...summary } = fromZip.summary;
    expect(images?.format).toBe('zip');
    expect(summary).toEqual(fromCsv.summary);
  });

  it('encodes predict instances (raw 0..255 pixels) exactly as the training rows', () => {
    const prepared = prepare(pets);
    const first = row(prepared.encoded.features, 0, 4);
    expect(Array.from(encodeInstances(prepared.preprocessing, [first]))).toEqual(Array.from(prepared.encoded.features.subarray(0, 4)));
  });

  it('unwraps one top-level folder and ignores __MACOSX, dotfiles, Thumbs.db and folder entries', () => {
    const image = png(uniform(2, 50));
    const bytes = zip({
      'dataset/': new Uint8Array(0),
      'dataset/cat/': new Uint8Array(0),
      'dataset/cat/1.png': image,
      'dataset/cat/2.png': image,
      'dataset/dog/1.png': image,
      'dataset/dog/2.png': image,
      'dataset/dog/Thumbs.db': new Uint8Array([1, 2, 3]),
      'dataset/.DS_Store': new Uint8Array([1, 2, 3]),
      '__MACOSX/dataset/cat/._1.png': new Uint8Array([1, 2, 3]),
    });
    const prepared = prepare(bytes, { target: 'animal' });
    expect(prepared.preprocessing.classes).toEqual(['cat', 'dog']);
    expect(prepared.preprocessing.target).toBe('animal');
    expect(prepared.summary.images).toMatchObject({ root: 'dataset', ignored: 3, perClass: { cat: 2, dog: 2 } });
  });

  it('orders numeric folder names numerically and accepts .PNG, .JPG and .jpeg alike, by content', () => {
    const bytes = zip({
      '10/a.PNG': png(uniform(2, 0)),
      '10/b.JPG': jpeg(uniform(2, 0)),
      '2/a.jpeg': jpeg(uniform(2, 255)),
      '2/b.Jpg': png(uniform(2, 255)), // a PNG named .jpg is read as the PNG it is
    });
    const prepared = prepare(bytes);
    expect(prepared.preprocessing.classes).toEqual(['2', '10']);
    expect(prepared.summary.images?.formats).toEqual({ png: 2, jpeg: 2 });
  });
});

describe('prepareImageZip: colour and size', () => {
  // Two gray and two colour images; an RGB file whose pixels are all gray counts as gray.
  const mixed = zip({
    'g/1.png': png(uniform(2, 100)),
    'g/2.png': png(rgb(2, [90, 90, 90])),
    'c/1.png': png(rgb(2, [200, 0, 0])),
    'c/2.jpg': jpeg(rgb(2, [0, 0, 200]), 100),
  });

  it('infers RGB when any image has colour, copying gray images into every channel', () => {
    const prepared = prepare(mixed);
    expect(prepared.preprocessing.shape).toEqual([2, 2, 3]);
    expect(prepared.summary.images?.converted).toEqual({ toGrayscale: 0, toRgb: 2 });
    const rows = Array.from({ length: 4 }, (_, r) => row(prepared.encoded.features, r, 12));
    expect(rows).toContainEqual(Array(12).fill(100));
    expect(rows).toContainEqual(Array(12).fill(90));
    expect(rows).toContainEqual(Array.from({ length: 4 }, () => [200, 0, 0]).flat());
  });

  it('copies gray images into R, G and B when the shape says three channels', () => {
    const prepared = prepare(mixed, { shape: [2, 2, 3] });
    expect(prepared.summary.images?.converted).toEqual({ toGrayscale: 0, toRgb: 2 });
    expect(Array.from({ length: 4 }, (_, r) => row(prepared.encoded.features, r, 12))).toContainEqual(Array(12).fill(100));
  });

  it('infers grayscale when every image is gray', () => {
    const bytes = zip({ 'a/1.png': png(uniform(2, 1)), 'a/2.png': png(rgb(2, [7, 7, 7])), 'b/1.jpg': jpeg(uniform(2, 9)), 'b/2.png': png(uniform(2, 3)) });
    expect(prepare(bytes).preprocessing.shape).toEqual([2, 2, 1]);
  });

  it('converts colour to luma (0.299 R + 0.587 G + 0.114 B) when the shape says one channel', () => {
    const prepared = prepare(mixed, { shape: [2, 2, 1] });
    expect(prepared.summary.images?.converted).toEqual({ toGrayscale: 2, toRgb: 0 });
    const firsts = Array.from({ length: 4 }, (_, r) => row(prepared.encoded.features, r, 4)[0]);
    expect(firsts).toContain(Math.round(0.299 * 200)); // pure red 200 → 60
    expect(firsts).toContain(Math.round(0.114 * 200)); // pure blue 200 → 23 (from a JPEG)
  });

  it('area-averages when shrinking: 4×4 → 2×2 gives the mean of each 2×2 block', () => {
    const image = png(gray([[0, 4, 8, 12], [4, 8, 12, 16], [100, 100, 0, 0], [100, 100, 0, 40]]));
    const prepared = prepare(zip({ 'a/1.png': image, 'a/2.png': image, 'b/1.png': image, 'b/2.png': image }), { shape: [2, 2] });
    expect(prepared.preprocessing.shape).toEqual([2, 2, 1]);
    for (let r = 0; r < 4; r++) expect(row(prepared.encoded.features, r, 4)).toEqual([4, 12, 100, 10]);
    expect(prepared.summary.images).toMatchObject({ resized: 4, sizes: { minWidth: 4, maxWidth: 4, minHeight: 4, maxHeight: 4 } });
  });

  it('interpolates bilinearly when enlarging: 2×2 → 4×4 with pixel centres aligned', () => {
    const image = png(gray([[0, 80], [160, 240]]));
    const prepared = prepare(zip({ 'a/1.png': image, 'a/2.png': image, 'b/1.png': image, 'b/2.png': image }), { shape: [4, 4, 1] });
    const expected = [0, 20, 60, 80, 40, 60, 100, 120, 120, 140, 180, 200, 160, 180, 220, 240];
    for (let r = 0; r < 4; r++) expect(row(prepared.encoded.features, r, 16)).toEqual(expected);
  });

  it('weighs partial source pixels by their overlap when the ratio is not whole', () => {
    // 3 → 2: output 0 covers [0, 1.5), output 1 covers [1.5, 3).
    const out = resizeImage({ width: 3, height: 1, channels: 1, data: [0, 30, 60] }, 1, 2);
    expect(Array.from(out.data, (v) => Math.round(v * 1e6) / 1e6)).toEqual([10, 50]);
    // Each axis on its own: width shrinks (area) while height grows (bilinear).
    const both = resizeImage({ width: 2, height: 1, channels: 2, data: [10, 1, 30, 3] }, 2, 1);
    expect(Array.from(both.data)).toEqual([20, 2, 20, 2]);
    const taps = axisTaps(4, 2);
    expect(Array.from(taps.weight)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('takes the first image in path order as the size when no shape is given, resizing the rest', () => {
    const bytes = zip({ 'b/1.png': png(uniform(4, 40)), 'a/2.png': png(uniform(2, 20)), 'a/1.png': png(uniform(3, 30)), 'b/2.png': png(uniform(3, 30)) });
    const prepared = prepare(bytes);
    expect(prepared.preprocessing.shape).toEqual([3, 3, 1]);
    expect(prepared.summary.images).toMatchObject({ resized: 2, sizes: { minWidth: 2, maxWidth: 4, minHeight: 2, maxHeight: 4 } });
  });

  it('reads 16-bit and palette PNGs, and drops alpha', () => {
    const sixteen = png16(2, 2, [0, 65535, 128 * 257, 257]);
    const palette = palettePng(2, 2, [[0, 0, 0], [255, 0, 0], [0, 0, 255]], [0, 1, 2, 1]);
    const alpha: RawImage = { width: 2, height: 2, channels: 4, data: [10, 20, 30, 0, 10, 20, 30, 128, 10, 20, 30, 255, 10, 20, 30, 7] };
    const prepared = prepare(zip({ 'a/16.png': sixteen, 'a/p.png': palette, 'b/alpha.png': png(alpha), 'b/x.png': png(alpha) }));
    expect(prepared.preprocessing.shape).toEqual([2, 2, 3]);
    const rows = Array.from({ length: 4 }, (_, r) => row(prepared.encoded.features, r, 12));
    expect(rows).toContainEqual([0, 0, 0, 255, 255, 255, 128, 128, 128, 1, 1, 1]);
    expect(rows).toContainEqual([0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 0, 0]);
    expect(rows).toContainEqual(Array.from({ length: 4 }, () => [10, 20, 30]).flat());
  });
});

describe('prepareImageZip: refusals name the field, the value and the rule', () => {
  const image = png(uniform(2, 50));

  it('recognizes zip archives by their first bytes, empty ones included', () => {
    expect(isZipArchive(pets)).toBe(true);
    expect(isZipArchive(zip({}))).toBe(true);
    expect(isZipArchive(new TextEncoder().encode('label,p0\n1,2\n'))).toBe(false);
  });

  it('refuses bytes that are not a zip, an empty zip and a zip of clutter only', () => {
    expectInvalid(() => prepare(new TextEncoder().encode('label,p0\n1,2\n')), 'file', '"pets.zip"', 'not a readable zip archive');
    expectInvalid(() => prepare(zip({})), 'file', '"pets.zip"', 'empty zip archive');
    expectInvalid(() => prepare(zip({ '__MACOSX/a/._1.png': image, '.DS_Store': image })), 'file', '"pets.zip"', 'holds no images, only 2 ignored');
  });

  it('refuses a single class, and a class folder with one image', () => {
    expectInvalid(() => prepare(zip({ 'cat/1.png': image, 'cat/2.png': image })), 'file', '"cat/"', 'only class folder', 'at least 2 classes');
    expectInvalid(() => prepare(zip({ 'cat/1.png': image, 'cat/2.png': image, 'dog/1.png': image })), 'file', '"dog/"', 'holds 1 image', 'at least 2');
  });

  it('refuses other file types, images outside class folders and images nested too deeply, naming the path', () => {
    const classes = { 'cat/1.png': image, 'cat/2.png': image, 'dog/1.png': image, 'dog/2.png': image };
    expectInvalid(() => prepare(zip({ ...classes, 'dog/notes.txt': image })), 'file', '"dog/notes.txt"', 'not a PNG or JPEG file');
    expectInvalid(() => prepare(zip({ ...classes, 'cat/anim.gif': image })), 'file', '"cat/anim.gif"', '.png, .jpg, .jpeg');
    expectInvalid(() => prepare(zip({ ...classes, 'stray.png': image })), 'file', '"stray.png"', 'top level of the zip', 'folder named after its class');
    expectInvalid(() => prepare(zip({ 'data/cat/1.png': image, 'data/cat/2.png': image, 'data/x.png': image })), 'file', '"data/x.png"', 'directly inside the top-level folder "data"');
    expectInvalid(() => prepare(zip({ ...classes, 'dog/puppies/3.png': image })), 'file', '"dog/puppies/3.png"', 'nested too deeply');
  });

  it('refuses a corrupt image, naming its path', () => {
    const classes = { 'cat/1.png': image, 'cat/2.png': image, 'dog/1.png': image };
    expectInvalid(() => prepare(zip({ ...classes, 'dog/2.png': image.slice(0, 40) })), 'file', '"dog/2.png"', 'could not be decoded as PNG');
    expectInvalid(() => prepare(zip({ ...classes, 'dog/2.jpg': new TextEncoder().encode('not really a jpeg') })), 'file', '"dog/2.jpg"', 'neither signature');
    const broken = jpeg(uniform(8, 90));
    expectInvalid(() => prepare(zip({ ...classes, 'dog/2.jpg': broken.slice(0, 20) })), 'file', '"dog/2.jpg"', 'could not be decoded as JPEG');
  });

  it('refuses images and shapes over the size limits', () => {
    const classes = { 'cat/1.png': image, 'cat/2.png': image, 'dog/1.png': image };
    expectInvalid(() => prepare(zip({ ...classes, 'dog/huge.png': pngHeaderOnly(5000, 10) })), 'file', '"dog/huge.png"', '5000×10', '1 to 4096 pixels on each side');
    expectInvalid(() => prepare(pets, { shape: [5000, 10] }), 'shape', '[5000,10]', 'at most 4096');
    expectInvalid(() => prepare(pets, { shape: [28, 28, 4] }), 'shape', '1 channel (grayscale) or 3 (RGB)');
    // 6 images of 4096×4096×3 exceed the 2^27 pixel values a dataset may hold: refused before decoding.
    const budget = expectInvalid(() => prepare(pets, { shape: [4096, 4096, 3] }), 'file', '"pets.zip"', '6 images of 4096×4096×3', 'declare a smaller shape');
    expect(budget).toBeInstanceOf(PayloadTooLargeError);
  });

  it('refuses zip bombs from the central directory, before inflating anything', () => {
    const bomb = zip({ 'cat/1.png': image, 'cat/2.png': image, 'dog/1.png': image, 'dog/2.png': image });
    patchDeclaredSizes(bomb, () => 200 * 1024 * 1024);
    const error = expectInvalid(() => prepare(bomb), 'file', '"pets.zip"', `more than ${512 * 1024 * 1024} bytes`);
    expect(error.status).toBe(413);
    const many = expectInvalid(() => prepare(pets, { limits: { maxEntries: 5 } }), 'file', 'more than 5 entries');
    expect(many.status).toBe(413);
  });

  it('truncates a file whose declared size is smaller than its data, so it fails to decode', () => {
    const lying = zip({ 'cat/1.png': image, 'cat/2.png': image, 'dog/1.png': image, 'dog/2.png': image });
    let entry = 0;
    patchDeclaredSizes(lying, (size) => (entry++ === 3 ? 20 : size));
    expectInvalid(() => prepare(lying), 'file', '"dog/2.png"');
  });

  it('refuses regression, a non-integer seed and a validation fraction outside (0, 1)', () => {
    expectInvalid(() => prepare(pets, { task: 'regression' }), 'task', 'classification only');
    expectInvalid(() => prepare(pets, { seed: 1.5 }), 'seed', 'integer');
    expectInvalid(() => prepare(pets, { validationFraction: 1 }), 'validationFraction', 'less than 1');
    expectInvalid(() => prepare(pets, { target: ' ' }), 'target', 'non-empty');
  });
});

/** Rewrites the uncompressed size that each central-directory entry declares (what the reader trusts). */
function patchDeclaredSizes(bytes: Uint8Array, size: (declared: number) => number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 46 <= bytes.length; at++) {
    if (view.getUint32(at, true) === 0x02014b50) view.setUint32(at + 24, size(view.getUint32(at + 24, true)), true);
  }
}
