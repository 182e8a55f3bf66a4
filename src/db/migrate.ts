/**
 * Creates the database if it is missing, applies drizzle/ migrations (a second
 * run is a no-op: drizzle records applied migrations) and writes the limits
 * table into provider_limits so the SQL gate and reports use the same numbers.
 */
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { PROVIDERS, START_MARGIN_MS, type Provider, type ProviderLimits } from '../config/providers';
import type { Db } from './client';
import { connectDatabase } from './client';
import { providerLimits } from './schema';

const MIGRATIONS_FOLDER = path.resolve(__dirname, '../../drizzle');

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`database name "${name}" in DATABASE_URL is not a plain identifier`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}

async function syncProviderLimits(db: Db, limits: Record<Provider, ProviderLimits>): Promise<void> {
  for (const provider of PROVIDERS) {
    const l = limits[provider];
    const row = {
      maxConcurrent: l.maxConcurrent,
      minStartIntervalMs: l.minStartIntervalMs,
      startMarginMs: START_MARGIN_MS,
      cancellable: l.cancellable,
      submitRepeatable: l.submitRepeatable,
    };
    await db
      .insert(providerLimits)
      .values({ provider, ...row })
      .onConflictDoUpdate({ target: providerLimits.provider, set: { ...row, updatedAt: sql`now()` } });
  }
}

export async function migrateDatabase(url: string, limits: Record<Provider, ProviderLimits>): Promise<void> {
  await ensureDatabase(url);
  const database = connectDatabase(url, { max: 1 });
  try {
    // Serialise concurrent migrators (two workers starting at once).
    await database.db.execute(sql`SELECT pg_advisory_lock(hashtext('reelflow.migrate'))`);
    await migrate(database.db, { migrationsFolder: MIGRATIONS_FOLDER });
    await syncProviderLimits(database.db, limits);
  } finally {
    await database.close();
  }
}
