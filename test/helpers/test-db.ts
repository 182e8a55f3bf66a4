/** A throwaway database per test file: created, migrated, dropped. Real data is never touched. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { effectiveLimits } from '../../src/config/env';
import { connectDatabase, type Database } from '../../src/db/client';
import { migrateDatabase } from '../../src/db/migrate';
import type { Provider, ProviderLimits } from '../../src/config/providers';

/** The server's maintenance database, for creating and dropping throwaway ones (and the bench's server settings). */
export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  database: Database;
  drop(): Promise<void>;
}

function testDatabaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** `idleMs`: as connectDatabase's (the bench passes a server's, standing in for the API's pool). */
export async function createTestDatabase(
  limits: Record<Provider, ProviderLimits> = effectiveLimits({}),
  pool: { idleMs?: number } = {},
): Promise<TestDatabase> {
  const name = `reelflow_t_${randomBytes(5).toString('hex')}`;
  const url = testDatabaseUrl(name);
  await migrateDatabase(url, limits);
  const database = connectDatabase(url, { max: 10, ...pool });
  return {
    url,
    name,
    database,
    async drop() {
      await database.close();
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A VEO3 generate job of `workflowId` (P2, 300 s estimate), straight into the queue: the gate's SQL without Temporal. */
export async function enqueueVeo3Job(pool: pg.Pool, workflowId: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM enqueue_job($1, 'generate', 'veo3_chollo', 'veo3', 'P2', '{}'::jsonb, NULL, NULL, NULL, 300, 3)`,
    [workflowId],
  );
  return rows[0]!.id;
}
