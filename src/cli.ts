// Only what every command needs is imported here: the client commands (src/cli/) start in a
// fraction of the time it takes to load the service, which the other commands import below.
import { CLIENT_COMMANDS, CLIENT_USAGE, runClient } from './cli/index.ts';
import { createLogger, errorMessage } from './log.ts';
import type { Role } from './main.ts';

const usage = (adminUsage: string) => `usage: maas <command>

  start    api + coordinator, and one worker in a child process (one machine; starts redis-server if none answers)
  api      api + coordinator only
  worker   one more worker (a supervisor process and its worker child, restarted when it exits);
           needs REDIS_URL and DATABASE_URL of the deployment it joins
  migrate  apply database migrations and exit
  serve    a prediction server without Redis, queue or training (maas predict, KServe v2, TF Serving):
           serve --model FILE.maas.zip [--model FILE2 …] serves exported archives (maas models export) under
           project default; serve --from serves the registry at DATABASE_URL with its API keys, following alias moves
${adminUsage}

Client commands (talk to a running api over HTTP):
${CLIENT_USAGE}

Configuration comes from the environment; see README.md.`;

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'start';
  if (CLIENT_COMMANDS.has(command)) {
    process.exitCode = await runClient(argv);
    return;
  }
  const { ADMIN_USAGE, adminCommand, UsageError } = await import('./admin-cli.ts');
  const USAGE = usage(ADMIN_USAGE);
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return;
  }
  const [{ loadConfig }, { run }, { migrate }, { underSupervisor }] = await Promise.all([import('./config.ts'), import('./main.ts'), import('./storage/index.ts'), import('./workers/supervisor.ts')]);
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, { role: command });
  if (command === 'migrate') {
    const applied = await migrate(config.DATABASE_URL);
    log.info('migrations applied', { applied });
    return;
  }
  if (command === 'keys' || command === 'projects') {
    try {
      await adminCommand(config.DATABASE_URL, command, argv.slice(1));
    } catch (err) {
      if (!(err instanceof UsageError) && !(err instanceof TypeError && 'code' in err)) throw err;
      console.error(`maas ${command}: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    return;
  }
  if (command === 'serve') {
    const serving = await import('./serve/index.ts');
    let from: ReturnType<typeof serving.parseServeArgs>;
    try {
      from = serving.parseServeArgs(argv.slice(1), config.DATABASE_URL);
    } catch (err) {
      if (!(err instanceof serving.ServeUsageError)) throw err;
      console.error(`maas serve: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (from === 'help') {
      console.log(USAGE);
      return;
    }
    const server = await serving.startStandalone({ from, config, log });
    return stopOnSignals(server.stop, log);
  }
  if (!['start', 'api', 'worker'].includes(command)) {
    console.error(`maas: unknown command '${command}'\n\n${USAGE}`);
    process.exit(2);
  }
  const child = command === 'worker' && underSupervisor();
  if (command === 'worker' && !child) return supervise(log, config.WORKER_GRACE_MS);
  // A supervised worker is stopped by its supervisor's SIGTERM; the terminal's Ctrl-C reaches both, and
  // taken here too it would count as a second signal and end the worker before its trials are handed back.
  if (child) process.on('SIGINT', () => undefined);
  const stop = await run(command as Role, config, log);
  stopOnSignals(stop, log, child ? ['SIGTERM'] : ['SIGINT', 'SIGTERM']);
}

/** Stops cleanly on the first signal, at once on a second. */
function stopOnSignals(stop: () => Promise<void>, log: ReturnType<typeof createLogger>, signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): void {
  let stopping = false;
  for (const signal of signals) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info('stopping', { signal });
      void stop().then(() => process.exit(0));
    });
  }
}

/** `maas worker`: keeps one worker child process running until SIGINT or SIGTERM. */
async function supervise(log: ReturnType<typeof createLogger>, graceMs: number): Promise<void> {
  const { superviseWorker } = await import('./workers/supervisor.ts');
  const supervisor = superviseWorker({ log, graceMs });
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info('stopping', { signal });
      void supervisor.stop().then(() => process.exit(0));
    });
  }
  await supervisor.ready.catch((err: Error & { exitCode?: number }) => {
    if (stopping) return;
    console.error(`maas: ${errorMessage(err)}`);
    process.exit(err.exitCode ?? 1);
  });
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`maas: ${errorMessage(err)}`);
  process.exit(1);
});
