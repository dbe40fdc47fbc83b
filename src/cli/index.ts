/**
 * The client commands of the `maas` binary (datasets, studies, models, predict): they talk to
 * a running api over HTTP through the typed client, unlike `maas keys`/`projects`, which open
 * the database. Exit codes: 0 done, 1 the api refused or failed (or a watched study did not
 * complete), 2 a usage error.
 */
import { MaasApiError } from '../client/index.ts';
import { contextOf, DEFAULT_URL, parseCommand, UsageError, type CliIo, type Command } from './context.ts';
import { datasetCommands } from './datasets.ts';
import { modelCommands } from './models.ts';
import { studyCommands } from './studies.ts';

const COMMANDS: Command[] = [...datasetCommands, ...studyCommands, ...modelCommands];

/** First words of the client commands, for the entry point's dispatch. */
export const CLIENT_COMMANDS: ReadonlySet<string> = new Set(COMMANDS.map((c) => c.words[0] as string));

const line = (c: Command) => `  ${[...c.words, c.synopsis].join(' ')}\n           ${c.summary}`;

export const CLIENT_USAGE = `${COMMANDS.map(line).join('\n')}
  options of every client command: --url URL (default $MAAS_URL or ${DEFAULT_URL}), --key KEY (default $MAAS_API_KEY),
           --json (the api's JSON instead of tables), -h/--help`;

/** The command that `argv` names, and the words it used. */
function find(argv: string[]): { command: Command; rest: string[] } | undefined {
  // Longest match first, so `predict MODEL` and `studies list` both resolve.
  const sorted = [...COMMANDS].sort((a, b) => b.words.length - a.words.length);
  for (const command of sorted) {
    if (command.words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(command.words.length) };
  }
  return undefined;
}

/** `maas: cannot reach …` instead of fetch's bare "fetch failed". */
function describeFailure(err: unknown, url: string): string {
  if (err instanceof MaasApiError) return `${err.message} (HTTP ${err.status} ${err.code})`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (err instanceof TypeError && cause) return `cannot reach ${url}: ${cause.code ?? cause.message}; is the api running there? (set --url or MAAS_URL)`;
  return (err as Error).message ?? String(err);
}

/**
 * Runs one client command and returns its exit code; nothing here calls process.exit, so a
 * test can run it in-process.
 */
export async function runClient(argv: string[], io: CliIo = processIo()): Promise<number> {
  const group = argv[0] ?? '';
  const found = find(argv);
  const usageOf = (commands: Command[]) => `usage:\n${commands.map((c) => line(c).replace(/^ {2}/, '  maas ')).join('\n')}`;
  if (!found) {
    const ofGroup = COMMANDS.filter((c) => c.words[0] === group);
    const asked = argv[1];
    if (asked === '-h' || asked === '--help') {
      io.stdout.write(`${usageOf(ofGroup)}\n`);
      return 0;
    }
    io.stderr.write(`maas ${group}: ${asked === undefined ? 'which command?' : `unknown command '${asked}'`}\n\n${usageOf(ofGroup)}\n`);
    return 2;
  }
  const { command, rest } = found;
  const name = `maas ${command.words.join(' ')}`;
  let url = DEFAULT_URL;
  try {
    const { positionals, values } = parseCommand(command, rest);
    if (values.help) {
      io.stdout.write(`${usageOf([command])}\n`);
      return 0;
    }
    const ctx = contextOf(values, io);
    url = ctx.client.connection.url;
    return await command.run(ctx, positionals, values);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${name}: ${err.message}\n\n${usageOf([command])}\n`);
      return 2;
    }
    io.stderr.write(`${name}: ${describeFailure(err, url)}\n`);
    return 1;
  }
}

/**
 * The process's streams. No signal handler: Ctrl-C ends an upload or a prediction as usual; a
 * watch catches SIGINT and SIGTERM itself while it runs (see watch.ts).
 */
function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}
