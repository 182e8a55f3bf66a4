/** One pg pool + drizzle per process. */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema';

/** How long the pools of long-running processes (workers, API) keep an unused connection (connectDatabase). */
export const SERVER_POOL_IDLE_MS = 5 * 60_000;

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };
/** A transaction of `Db` (what db.transaction hands its callback). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  /** The connection string it was opened with (a process that needs a session of its own opens it again). */
  url: string;
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * `acquireTimeoutMs`: how long a query may wait for a connection, from the pool or a new one. pg-pool counts the
 * wait for a busy pool's free connection in it too, so a worker under load (hundreds of jobs sharing 20
 * connections) needs far more than a connect needs: there a wait is back-pressure, not an outage.
 *
 * `idleMs`: how long an unused connection stays open (pg-pool's default, 10 s, unless given). Long-running processes
 * keep theirs for minutes: a new session starts a PostgreSQL process that must compile each of our PL/pgSQL
 * functions and plan each statement in them again on first use, and under bursty load (a fill of thousands of
 * ideas) a 10 s idle timeout closed and reopened connections all along (the bench's 10,000 fill: 60 new sessions in
 * its first two and a half minutes, with 25-30 open at any time). A short-lived command keeps the default, so a
 * pool it forgets to close does not keep it alive.
 */
export function connectDatabase(url: string, opts: { max?: number; acquireTimeoutMs?: number; idleMs?: number } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.acquireTimeoutMs ?? 5_000,
    ...(opts.idleMs !== undefined ? { idleTimeoutMillis: opts.idleMs } : {}),
  });
  // A dropped idle connection (database restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Nor one dropped while checked out (a transaction, a session held across a call): pg emits 'error' on the client
  // and pg-pool listens only while it is idle, so the process died (CI, the PostgreSQL outage test: a worker exited
  // with "Connection terminated unexpectedly"). The work on it fails with that error; the pool drops it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = drizzle(pool, { schema }) as Db;
  return { url, db, pool, close: () => pool.end() };
}
