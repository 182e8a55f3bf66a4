/** Builds what workers and activities share in one process: database, gate, providers, limits. */
import { effectiveLimits, effectiveQuotas, type Env } from '../config/env';
import { SlotGate } from '../gate/slot-gate';
import { connectDatabase, SERVER_POOL_IDLE_MS, type Database } from '../db/client';
import { migrateDatabase } from '../db/migrate';
import { createLogger, type Logger } from '../logger';
import { createProviders } from '../providers';
import type { Providers } from '../providers/types';
import { WORKER_SHUTDOWN, type ActivityDeps } from '../activities/deps';

export interface RuntimeOptions {
  env: Env;
  log?: Logger;
  /** Swap in other provider clients (tests). */
  providers?: Providers;
  /** Apply migrations and the limits table before serving (default true). */
  migrate?: boolean;
}

export interface Runtime extends ActivityDeps {
  shuttingDown: AbortSignal;
  /** Call before shutting the workers down: running provider jobs hand over now (see ActivityDeps.shuttingDown). */
  beginShutdown(): void;
  close(): Promise<void>;
}

export async function createRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { env } = opts;
  const log = opts.log ?? createLogger(env.LOG_LEVEL);
  const limits = effectiveLimits(env);
  if (opts.migrate !== false) await migrateDatabase(env.DATABASE_URL, limits, effectiveQuotas(env));
  // 10,000 waiting jobs filling their lines kept 20 connections busy enough that 5 s waits failed analyses (bench).
  const database = connectDatabase(env.DATABASE_URL, { max: 20, acquireTimeoutMs: 30_000, idleMs: SERVER_POOL_IDLE_MS });
  await warnWithoutAutovacuum(database, log);
  const gate = new SlotGate(database.pool, env.DATABASE_URL, log);
  await gate.start();
  const providers = opts.providers ?? createProviders(env);
  const shutdown = new AbortController();
  return {
    database,
    gate,
    providers,
    limits,
    env,
    log,
    shuttingDown: shutdown.signal,
    beginShutdown: () => shutdown.abort(new Error(WORKER_SHUTDOWN)),
    async close() {
      await gate.stop();
      await database.close();
    },
  };
}

/**
 * The line's tables count on autovacuum (drizzle/0023): without it every row version a fill leaves behind stays in
 * the indexes that the once-a-second reads of a waiting backlog walk (bench backlog, 10,000 waiting: 26 ms a read
 * instead of about 1). A server may run without it (some CI images turn it off); say so once, at start.
 */
export async function warnWithoutAutovacuum(database: Pick<Database, 'pool'>, log: Logger): Promise<boolean> {
  const { rows } = await database.pool.query<{ on: boolean }>(`SELECT current_setting('autovacuum')::boolean AS on`);
  if (rows[0]?.on) return false;
  log.warn(
    'PostgreSQL runs with autovacuum off: the job tables keep every dead row version, ' +
      'and a waiting backlog gets slower to serve as they pile up. ' +
      'Turn it on (autovacuum = on in postgresql.conf) or VACUUM automation_queue after large fills.',
  );
  return true;
}
