import { loadConfig } from './config.ts';
import { createLogger, errorMessage } from './log.ts';
import { run, type Role } from './main.ts';
import { migrate } from './storage/index.ts';

const USAGE = `usage: maas <command>

  start    api + coordinator + one worker (one machine; starts redis-server if none answers)
  api      api + coordinator only
  worker   one more worker; needs REDIS_URL and DATABASE_URL of the deployment it joins
  migrate  apply database migrations and exit

Configuration comes from the environment; see README.md.`;

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'start';
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return;
  }
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, { role: command });
  if (command === 'migrate') {
    const applied = await migrate(config.DATABASE_URL);
    log.info('migrations applied', { applied });
    return;
  }
  if (!['start', 'api', 'worker'].includes(command)) {
    console.error(`maas: unknown command '${command}'\n\n${USAGE}`);
    process.exit(2);
  }
  const stop = await run(command as Role, config, log);
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info('stopping', { signal });
      void stop().then(() => process.exit(0));
    });
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`maas: ${errorMessage(err)}`);
  process.exit(1);
});
