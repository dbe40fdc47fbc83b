import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as SqliteClient } from './generated/sqlite/client.ts';
import { PrismaClient as PostgresClient } from './generated/postgresql/client.ts';
import { exclusiveTransactions } from './sqlite-adapter.ts';
import { providerOf, sqlitePath } from './url.ts';

/**
 * Both generated clients come from the same models (prisma/models.prisma), so
 * their APIs are identical; the SQLite client's type stands for both.
 */
export type Db = SqliteClient;

export function openDatabase(url: string): Db {
  if (providerOf(url) === 'sqlite') {
    // A generous busy timeout: extra worker processes may share the file.
    return new SqliteClient({ adapter: exclusiveTransactions(new PrismaBetterSqlite3({ url: sqlitePath(url), timeout: 30_000 })) });
  }
  const client = new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) });
  return client as unknown as Db;
}
