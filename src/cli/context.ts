import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createMaasClient, type MaasClient } from '../client/index.ts';

/** A mistake on the command line (unknown command or flag, missing argument, unreadable input): exit code 2. */
export class UsageError extends Error {}

/** Where a command reads and writes; the process's own streams unless a test gives others. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  /** Interrupts a watch cleanly. @defaultValue SIGINT and SIGTERM of the process, caught only while a watch runs */
  signal?: AbortSignal;
}

type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

/** What every command runs with. */
export interface Context {
  client: MaasClient;
  io: CliIo;
  /** --json: print the api's JSON instead of tables. */
  json: boolean;
  /** Writes one line (or lines) to stdout. */
  print(text: string): void;
}

/** One command of the client CLI, e.g. `datasets upload`. */
export interface Command {
  /** Words that select it, e.g. ['datasets', 'upload']. */
  words: string[];
  /** Its arguments and options as the usage shows them. */
  synopsis: string;
  summary: string;
  /** Names of the positional arguments, all required. @defaultValue none */
  positionals?: string[];
  /** Its own options, beside the global ones. @defaultValue none */
  options?: Options;
  run(ctx: Context, positionals: string[], values: Values): Promise<number>;
}

export const GLOBAL_OPTIONS: Options = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const DEFAULT_URL = 'http://127.0.0.1:3000';

/**
 * Parses a command's arguments (everything after its words); unknown flags, a missing flag
 * value, and a wrong number of positionals are usage errors.
 */
export function parseCommand(command: Command, args: string[]): { positionals: string[]; values: Values } {
  let parsed: { positionals: string[]; values: Values };
  try {
    parsed = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    // parseArgs's messages name the flag; its hint about positionals that start with '-' is noise here.
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/\n/g, ' '));
  }
  if (parsed.values.help) return parsed;
  const wanted = command.positionals ?? [];
  if (parsed.positionals.length < wanted.length) throw new UsageError(`${wanted.slice(parsed.positionals.length).join(' ')} is required`);
  if (parsed.positionals.length > wanted.length) throw new UsageError(`unexpected argument '${parsed.positionals[wanted.length]}'`);
  return parsed;
}

/** The context of a parsed command: the api's address and key from flags, else the environment. */
export function contextOf(values: Values, io: CliIo): Context {
  const url = stringOf(values, 'url') ?? (io.env.MAAS_URL || DEFAULT_URL);
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url '${url}' must be an http:// or https:// URL, e.g. ${DEFAULT_URL}`);
  const key = stringOf(values, 'key') ?? (io.env.MAAS_API_KEY || undefined);
  const client = createMaasClient({ url, ...(key ? { key } : {}) });
  return { client, io, json: values.json === true, print: (text) => io.stdout.write(`${text}\n`) };
}

export function stringOf(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A flag that must be a positive integer. */
export function positiveInt(values: Values, name: string): number | undefined {
  const text = stringOf(values, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} '${text}' must be a positive integer`);
  return n;
}

/** A flag that must be given. */
export function required(values: Values, name: string): string {
  const text = stringOf(values, name);
  if (text === undefined) throw new UsageError(`--${name} is required`);
  return text;
}

/** A file's text, or stdin's for `-`; an unreadable file is a usage error naming it. */
export async function readText(io: CliIo, path: string): Promise<string> {
  if (path === '-') {
    let text = '';
    for await (const chunk of io.stdin) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return text;
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** JSON from a file or stdin; text that does not parse is a usage error naming the file. */
export async function readJson(io: CliIo, path: string): Promise<unknown> {
  const text = await readText(io, path);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path === '-' ? 'stdin' : path} is not valid JSON: ${(err as Error).message}`);
  }
}
