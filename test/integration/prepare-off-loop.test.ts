import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareImageZip } from '../../src/data/index.ts';
import { createPreparer, type Preparer, type PreparerOptions } from '../../src/preparation/index.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { PROVIDERS } from '../helpers/databases.ts';
import { blankPng, png, zip, type RawImage } from '../helpers/images.ts';

/**
 * Dataset preparation runs in worker threads: while a large CSV and a zip of many images are
 * prepared, /healthz keeps answering; errors thrown in a thread arrive as the same 4xx; a job
 * over its time limit is answered 413 and the pool goes on; a full pool is answered 503.
 */

/** A real pool that can tell whether a job is being prepared right now. */
function watched(options: PreparerOptions = {}) {
  const pool = createPreparer(options);
  let running = 0;
  const preparer: Preparer = {
    hold: () => pool.hold(),
    run: async (job, o) => {
      running++;
      try {
        return await pool.run(job, o);
      } finally {
        running--;
      }
    },
    close: () => pool.close(),
  };
  return { preparer, preparing: () => running > 0 };
}

/** About `megabytes` MB of tabular CSV: two numeric columns, a categorical one and a numeric target (a regression). */
function bigCsv(megabytes: number): string {
  const colours = ['red', 'green', 'blue', 'cyan', 'magenta'];
  const rows = ['x,y,colour,label'];
  let size = 0;
  for (let i = 0; size < megabytes * 1e6; i++) {
    const row = `${(i % 1000) / 10},${(i * 7919) % 10007},${colours[i % 5]},${((i * 31) % 997) / 10}`;
    rows.push(row);
    size += row.length + 1;
  }
  return rows.join('\n');
}

/** `count` small noisy RGB images in two class folders. */
function imagesZip(count: number): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) {
    const image: RawImage = { width: 24, height: 24, channels: 3, data: Array.from({ length: 24 * 24 * 3 }, (_, k) => (i * 37 + k * 11) % 256) };
    files[`${i % 2 ? 'odd' : 'even'}/${i}.png`] = png(image);
  }
  return zip(files);
}

function fileForm(bytes: Uint8Array, name: string, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.set('file', new File([new Uint8Array(bytes)], name));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return form;
}

describe.each(PROVIDERS)('dataset preparation off the event loop on %s', (provider) => {
  let t: TestApp;
  let preparing: () => boolean;
  beforeAll(async () => {
    const w = watched({ threads: 1, queue: 4 });
    preparing = w.preparing;
    t = await startTestApp(provider, { preparer: w.preparer });
  });
  afterAll(async () => t?.close());

  const json = async (path: string, init: RequestInit = {}) => {
    const res = await t.app.request(path, init);
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };

  /** Asks /healthz again and again until `work` settles; counts the answers, and those that came while a job was being prepared. */
  async function healthDuring<T>(work: Promise<T>) {
    let settled = false;
    const result = work.finally(() => {
      settled = true;
    });
    let answers = 0;
    let whilePreparing = 0;
    while (!settled) {
      const res = await t.app.request('/healthz');
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      answers++;
      if (preparing()) whilePreparing++;
      await sleep(10);
    }
    return { result: await result, answers, whilePreparing };
  }

  it('answers /healthz while a 25 MB CSV and a zip of 400 images are prepared, and stores both', async () => {
    const csv = bigCsv(25);
    const zipped = imagesZip(400);
    const uploads = Promise.all([
      json('/v1/datasets', { method: 'POST', body: uploadForm(csv, { name: 'big', kind: 'tabular', target: 'label' }, 'big.csv') }),
      json('/v1/datasets', { method: 'POST', body: fileForm(zipped, 'images.zip', { name: 'images', kind: 'image' }) }),
    ]);
    const { result, whilePreparing } = await healthDuring(uploads);
    const [table, images] = result;
    expect(table.status).toBe(201);
    expect(table.body.rows).toBe(csv.split('\n').length - 1);
    expect(table.body.task).toBe('regression');
    expect(table.body.summary.columns.map((c: { name: string }) => c.name)).toEqual(['x', 'y', 'colour', 'label']);
    expect(images.status).toBe(201);
    expect(images.body.rows).toBe(400);
    // The sync path would answer none of these: the loop would be busy preparing.
    expect(whilePreparing).toBeGreaterThan(0);

    // What the thread prepared is what preparing in place gives.
    const local = prepareImageZip(zipped, { seed: 0, fileName: 'images.zip' });
    const stored = await t.repo.datasets.data(images.body.id);
    expect(stored?.features).toEqual(local.encoded.features);
    expect(stored?.labels).toEqual(local.encoded.labels);
    expect(images.body.summary).toEqual(JSON.parse(JSON.stringify(local.summary)));
  });

  it('answers a ValidationError thrown in the thread as a 400 with its field, value and rule, and stores nothing', async () => {
    const before = (await json('/v1/datasets')).body.datasets.length;
    const { status, body } = await json('/v1/datasets', { method: 'POST', body: uploadForm('a,b\n1,2\n3,4\n', { name: 'bad', kind: 'tabular', target: 'nope' }) });
    expect(status).toBe(400);
    expect(body.error.issues).toEqual([{ field: 'target', value: 'nope', rule: expect.stringContaining('is not a column of the file; columns are: a, b') }]);
    expect((await json('/v1/datasets')).body.datasets.length).toBe(before);
  });

  it('refuses a tiny zip of blank 4096×4096 images by their headers with a 413 naming the pixels and the limit', async () => {
    const blank = blankPng(4096);
    const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${i % 2 ? 'a' : 'b'}/${i}.png`, blank]));
    const zipped = zip(files);
    expect(zipped.length).toBeLessThan(64 * 1024);
    const { status, body } = await json('/v1/datasets', { method: 'POST', body: fileForm(zipped, 'blank.zip', { name: 'blank', kind: 'image', shape: '28,28' }) });
    expect(status).toBe(413);
    expect(body.error.issues[0]).toMatchObject({ field: 'file', value: 'blank.zip' });
    expect(body.error.message).toContain(`40 images of ${40 * 4096 * 4096} pixels in all, more than the ${2 ** 29} pixels an image zip may decode`);
  });
});

describe('dataset preparation limits', () => {
  it('answers a job over the time limit 413 naming the field and the limit, and the pool keeps working', async () => {
    const t = await startTestApp('sqlite', { prepare: { timeoutMs: 300 } });
    try {
      // 8,000 MNIST digits take seconds to build and encode.
      const slow = await t.app.request('/v1/datasets/samples/mnist', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 8_000 }) });
      expect(slow.status).toBe(413);
      const body = (await slow.json()) as any;
      expect(body.error.issues[0]).toMatchObject({ field: 'count', value: 8_000 });
      expect(body.error.message).toContain('took longer than the 0.3 s preparation limit (PREPARE_TIMEOUT_MS)');
      const after = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm('x,label\n1,a\n2,b\n3,a\n4,b\n', { name: 'small', kind: 'tabular', target: 'label' }) });
      expect(after.status).toBe(201);
    } finally {
      await t.close();
    }
  });

  it('answers a multipart body cut short 400 naming the body, and gives its place back', async () => {
    const t = await startTestApp('sqlite', { prepare: { threads: 1, queue: 0 } });
    try {
      const cut = '--abc\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nx,label\n1,a';
      const res = await t.app.request('/v1/datasets', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=abc' }, body: cut });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.issues[0]).toMatchObject({ field: 'body', rule: expect.stringContaining('is not valid multipart/form-data') });
      // The only place in the pool is free again.
      const after = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm('x,label\n1,a\n2,b\n3,a\n4,b\n', { name: 'small', kind: 'tabular', target: 'label' }) });
      expect(after.status).toBe(201);
    } finally {
      await t.close();
    }
  });

  it('answers 503 with Retry-After while every place in the pool is taken, and takes uploads again once one is free', async () => {
    const preparer = createPreparer({ threads: 1, queue: 0 });
    const t = await startTestApp('sqlite', { preparer });
    try {
      const upload = () => t.app.request('/v1/datasets', { method: 'POST', body: uploadForm('x,label\n1,a\n2,b\n3,a\n4,b\n', { name: 'small', kind: 'tabular', target: 'label' }) });
      const taken = preparer.hold();
      const busy = await upload();
      expect(busy.status).toBe(503);
      expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await busy.json()) as any).error.message).toContain('PREPARE_QUEUE');
      taken.release();
      expect((await upload()).status).toBe(201);
    } finally {
      await t.close();
    }
  });
});
