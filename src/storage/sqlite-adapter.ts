import type { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';

type Adapter = Awaited<ReturnType<PrismaBetterSqlite3['connect']>>;
type Transaction = Awaited<ReturnType<Adapter['startTransaction']>>;

/** A FIFO lock: `acquire` resolves with the function that releases it. */
class Lock {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return acquired;
  }
}

/**
 * Prisma's better-sqlite3 adapter gives a process one connection and keeps it for an
 * interactive transaction across awaits, while the process's other requests go on using it.
 * Their statements then ran inside that transaction: a write was rolled back with it after its
 * caller had been told it succeeded, and a read put the transaction on a snapshot, so its next
 * write failed at once (SQLITE_BUSY_SNAPSHOT) if another process had written meanwhile. This
 * wrapper holds every other statement of the process until the open transaction ends. (A second
 * connection for transactions would not do: SQLite's lock wait is synchronous, so a statement
 * waiting there would block the event loop that the transaction needs in order to commit.)
 */
export function exclusiveTransactions(factory: PrismaBetterSqlite3): PrismaBetterSqlite3 {
  const connect = async (): Promise<Adapter> => {
    const adapter = await factory.connect();
    const lock = new Lock();
    const exclusive = async <T>(run: () => Promise<T>): Promise<T> => {
      const release = await lock.acquire();
      try {
        return await run();
      } finally {
        release();
      }
    };
    return new Proxy(adapter, {
      get(target, prop) {
        if (prop === 'queryRaw') return (query: Parameters<Adapter['queryRaw']>[0]) => exclusive(() => target.queryRaw(query));
        if (prop === 'executeRaw') return (query: Parameters<Adapter['executeRaw']>[0]) => exclusive(() => target.executeRaw(query));
        if (prop === 'executeScript') return (script: string) => exclusive(() => target.executeScript(script));
        if (prop === 'startTransaction') {
          return async (isolationLevel?: Parameters<Adapter['startTransaction']>[0]): Promise<Transaction> => {
            const release = await lock.acquire();
            try {
              return releasingOnEnd(await target.startTransaction(isolationLevel), release);
            } catch (err) {
              release();
              throw err;
            }
          };
        }
        // The adapter's methods use private fields, so they run on the adapter itself.
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return { provider: factory.provider, adapterName: factory.adapterName, connect, connectToShadowDb: () => factory.connectToShadowDb() } as PrismaBetterSqlite3;
}

/** The transaction, releasing `release` once it commits or rolls back. */
function releasingOnEnd(tx: Transaction, release: () => void): Transaction {
  return new Proxy(tx, {
    get(target, prop) {
      if (prop === 'commit' || prop === 'rollback') {
        return async () => {
          try {
            await target[prop]();
          } finally {
            release();
          }
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
