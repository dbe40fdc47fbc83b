import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { unwrap, type Model } from '../client/index.ts';
import { positiveInt, readText, stringOf, UsageError, type Command, type Context } from './context.ts';
import { fields, number, pairs, table, time } from './output.ts';

function aliasesOf(aliases: Record<string, number>): string {
  return Object.entries(aliases).map(([alias, version]) => `${alias}→v${version}`).join(' ') || '-';
}

function showModel(ctx: Context, m: Model): void {
  if (ctx.json) return ctx.print(JSON.stringify(m, null, 2));
  ctx.print(fields([['model', m.name], ['aliases', aliasesOf(m.aliases)]]));
  ctx.print('');
  ctx.print(table(['VERSION', 'FAMILY', 'ALIASES', 'METRICS', 'STUDY', 'CREATED (UTC)'], m.versions.map((v) => [`v${v.version}`, v.family, v.aliases.join(' ') || '-', pairs(v.metrics), v.studyId, time(v.createdAt)])));
  if (m.nextCursor) ctx.print(`more: --cursor ${m.nextCursor}`);
}

const list: Command = {
  words: ['models', 'list'],
  synopsis: '[--limit N] [--cursor C]',
  summary: "the project's models with their versions and aliases",
  options: { limit: { type: 'string' }, cursor: { type: 'string' } },
  async run(ctx, _, values) {
    const limit = positiveInt(values, 'limit');
    const cursor = stringOf(values, 'cursor');
    const page = await unwrap(ctx.client.GET('/v1/models', { params: { query: { ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) } } }));
    if (ctx.json) {
      ctx.print(JSON.stringify(page, null, 2));
      return 0;
    }
    ctx.print(table(['NAME', 'VERSIONS', 'LATEST', 'ALIASES', 'UPDATED (UTC)'], page.models.map((m) => [m.name, m.versions, `v${m.latestVersion}`, aliasesOf(m.aliases), time(m.updatedAt)])));
    if (page.nextCursor) ctx.print(`more: --cursor ${page.nextCursor}`);
    return 0;
  },
};

const show: Command = {
  words: ['models', 'show'],
  synopsis: 'NAME [--limit N] [--cursor C]',
  summary: 'a model: its versions with their metrics, and its aliases',
  positionals: ['NAME'],
  options: { limit: { type: 'string' }, cursor: { type: 'string' } },
  async run(ctx, [name], values) {
    const limit = positiveInt(values, 'limit');
    const cursor = stringOf(values, 'cursor');
    showModel(ctx, await unwrap(ctx.client.GET('/v1/models/{name}', { params: { path: { name: name as string }, query: { ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) } } })));
    return 0;
  },
};

const promote: Command = {
  words: ['models', 'promote'],
  synopsis: 'NAME --version N [--alias ALIAS]',
  summary: "point an alias (default champion) at a version; predict serves the champion",
  positionals: ['NAME'],
  options: { version: { type: 'string' }, alias: { type: 'string' } },
  async run(ctx, [name], values) {
    const version = positiveInt(values, 'version');
    if (version === undefined) throw new UsageError('--version is required');
    const alias = stringOf(values, 'alias');
    const model = await unwrap(ctx.client.POST('/v1/models/{name}/promote', { params: { path: { name: name as string } }, body: { version, ...(alias ? { alias } : {}) } }));
    if (ctx.json) ctx.print(JSON.stringify(model, null, 2));
    else ctx.print(`${model.name}: ${alias ?? 'champion'} → v${version}`);
    return 0;
  },
};

/** `--canary 4:0.1,5:0.05` or `--shadow 6:0.5`: VERSION:NUMBER pairs, the numbers checked by the api (which names the field). */
function versionShares(text: string, option: string): { version: number; share: number }[] {
  return text.split(',').map((pair) => {
    const m = /^\s*(\d+)\s*:\s*([^:,\s]+)\s*$/.exec(pair);
    if (!m || !Number.isFinite(Number(m[2]))) throw new UsageError(`--${option} '${text}' must be VERSION:NUMBER pairs separated by commas, e.g. 4:0.1`);
    return { version: Number(m[1]), share: Number(m[2]) };
  });
}

const route: Command = {
  words: ['models', 'route'],
  synopsis: 'NAME ALIAS --version N [--canary V:WEIGHT,...] [--shadow V:SHARE]',
  summary: "point an alias at a version, split its requests with canary versions by weight, mirror a share to a shadow version (replaces the alias's routing)",
  positionals: ['NAME', 'ALIAS'],
  options: { version: { type: 'string' }, canary: { type: 'string' }, shadow: { type: 'string' } },
  async run(ctx, [name, alias], values) {
    const version = positiveInt(values, 'version');
    if (version === undefined) throw new UsageError('--version is required');
    const canaryText = stringOf(values, 'canary');
    const shadowText = stringOf(values, 'shadow');
    const canary = canaryText === undefined ? [] : versionShares(canaryText, 'canary').map(({ version: v, share }) => ({ version: v, weight: share }));
    const shadows = shadowText === undefined ? [] : versionShares(shadowText, 'shadow');
    if (shadows.length > 1) throw new UsageError(`--shadow '${shadowText}' must name one version`);
    const body = { version, canary, shadow: shadows[0] ?? null };
    const set = await unwrap(ctx.client.PUT('/v1/models/{name}/aliases/{alias}', { params: { path: { name: name as string, alias: alias as string } }, body }));
    if (ctx.json) {
      ctx.print(JSON.stringify(set, null, 2));
      return 0;
    }
    const parts = [...set.canary.map((c) => `canary v${c.version} ${c.weight * 100}%`), ...(set.shadow ? [`shadow v${set.shadow.version} ${set.shadow.share * 100}%`] : [])];
    ctx.print(`${set.model}: ${set.alias} → v${set.version}${parts.length ? ` (${parts.join(', ')})` : ''}`);
    return 0;
  },
};

/** The instances of a predict file: `{"instances": [...]}`, a JSON array, or JSON Lines (one instance a line). */
export function instancesOf(text: string, source: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    try {
      return lines.map((l) => JSON.parse(l) as unknown);
    } catch (err) {
      throw new UsageError(`${source} is neither JSON nor JSON Lines: ${(err as Error).message}`);
    }
  }
  if (Array.isArray(parsed)) return parsed;
  if (parsed !== null && typeof parsed === 'object' && 'instances' in parsed && Array.isArray(parsed.instances)) return parsed.instances as unknown[];
  // One bare instance (an object of column values) is a batch of one.
  return [parsed];
}

/** A prediction in a few characters: the label and its probability, the value, or the forecast. */
function predictionText(p: unknown): string {
  if (p === null || typeof p !== 'object') return JSON.stringify(p);
  const o = p as { label?: unknown; probabilities?: Record<string, number>; value?: number; forecast?: number[] };
  if (o.label !== undefined) {
    const prob = o.probabilities?.[String(o.label)];
    return `${String(o.label)}${prob === undefined ? '' : ` (p=${number(prob)})`}`;
  }
  if (typeof o.value === 'number') return number(o.value);
  if (Array.isArray(o.forecast)) return o.forecast.map((v) => number(v)).join(', ');
  return JSON.stringify(p);
}

const predict: Command = {
  words: ['predict'],
  synopsis: 'MODEL --file ROWS.json|- [--alias ALIAS]',
  summary: 'predict with a model\'s champion (or ALIAS); rows as {"instances": [...]}, a JSON array, or JSON Lines; - reads stdin',
  positionals: ['MODEL'],
  options: { file: { type: 'string', short: 'f' }, alias: { type: 'string' } },
  async run(ctx, [name], values) {
    const file = stringOf(values, 'file');
    if (file === undefined) throw new UsageError('--file is required (a JSON file, or - for stdin)');
    const instances = instancesOf(await readText(ctx.io, file), file === '-' ? 'stdin' : file);
    const alias = stringOf(values, 'alias');
    const answer = await unwrap(ctx.client.POST('/v1/models/{name}/predict', { params: { path: { name: name as string }, query: alias ? { alias } : {} }, body: { instances } }));
    if (ctx.json) {
      ctx.print(JSON.stringify(answer, null, 2));
      return 0;
    }
    ctx.print(`${answer.model.name} v${answer.model.version} (${answer.model.alias})`);
    ctx.print(table(['#', 'PREDICTION'], answer.predictions.map((p, i) => [i, predictionText(p)])));
    return 0;
  },
};

const exportVersion: Command = {
  words: ['models', 'export'],
  synopsis: 'NAME --version N [-o FILE|-]',
  summary: 'download a version as one archive (model, preprocessing, model card, checksums) for maas serve --model; FILE defaults to NAME-vN.maas.zip, - writes to stdout',
  positionals: ['NAME'],
  options: { version: { type: 'string' }, output: { type: 'string', short: 'o' } },
  async run(ctx, [name], values) {
    const version = positiveInt(values, 'version');
    if (version === undefined) throw new UsageError('--version is required');
    const call = ctx.client.GET('/v1/models/{name}/versions/{version}/artifact', { params: { path: { name: name as string, version } }, parseAs: 'arrayBuffer' });
    const { response } = await call;
    const bytes = new Uint8Array((await unwrap(call)) as unknown as ArrayBuffer);
    // The api sends the zip's SHA-256 (RFC 9530), so a download cut short or damaged on the way is never saved as good.
    const digest = /sha-256=:([A-Za-z0-9+/=]+):/.exec(response.headers.get('repr-digest') ?? '')?.[1];
    const actual = createHash('sha256').update(bytes).digest('base64');
    if (digest !== undefined && digest !== actual) throw new Error(`the download's SHA-256 is ${actual}, but the api sent ${digest}; nothing was saved, try again`);
    const checksum = response.headers.get('x-maas-checksum') ?? 'unknown';
    const output = stringOf(values, 'output') ?? `${name}-v${version}.maas.zip`;
    if (output === '-') {
      ctx.io.stdout.write(bytes);
      return 0;
    }
    await writeFile(output, bytes);
    if (ctx.json) ctx.print(JSON.stringify({ file: output, bytes: bytes.length, checksum }, null, 2));
    else ctx.print(`${name} v${version} → ${output} (${bytes.length} bytes, ${checksum})`);
    return 0;
  },
};

export const modelCommands: Command[] = [list, show, promote, route, exportVersion, predict];
