/** One pg pool + drizzle per process. */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema';

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export interface Database {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * `acquireTimeoutMs`: how long a query may wait for a connection, from the pool or a new one. pg-pool counts the
 * wait for a busy pool's free connection in it too, so a worker under load (hundreds of jobs sharing 20
 * connections) needs far more than a connect needs: there a wait is back-pressure, not an outage.
 */
export function connectDatabase(url: string, opts: { max?: number; acquireTimeoutMs?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: opts.acquireTimeoutMs ?? 5_000 });
  // A dropped idle connection (database restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = drizzle(pool, { schema }) as Db;
  return { db, pool, close: () => pool.end() };
}
