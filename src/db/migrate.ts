/**
 * Creates the database if it is missing, applies drizzle/ migrations (a second
 * run is a no-op: drizzle records applied migrations) and writes the limits
 * table into provider_limits (and the quotas into provider_quotas, quota_costs)
 * so the SQL gate and reports use the same numbers.
 */
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { PROVIDERS, START_MARGIN_MS, type Provider, type ProviderLimits, type QuotaDefinition } from '../config/providers';
import { effectiveQuotas } from '../config/env';
import type { Db } from './client';
import { connectDatabase } from './client';
import { providerLimits, providerQuotas, quotaCosts } from './schema';

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

/**
 * Writes each quota's definition and costs; what the gate learnt at run time
 * (parked until, the provider's reported figures, units spent) is kept.
 */
async function syncProviderQuotas(db: Db, quotas: Record<string, QuotaDefinition>): Promise<void> {
  for (const [name, q] of Object.entries(quotas)) {
    const row = {
      provider: q.provider,
      account: q.account,
      windowKind: q.window.kind,
      windowSeconds: q.window.seconds === 'month' ? null : q.window.seconds,
      timeZone: q.window.kind === 'calendar' ? q.window.timeZone : 'UTC',
      quotaLimit: q.limit,
      lowPriorityShare: q.lowPriorityShare,
      unit: q.unit,
      reason: q.reason,
    };
    await db.transaction(async (tx) => {
      await tx
        .insert(providerQuotas)
        .values({ name, ...row })
        .onConflictDoUpdate({ target: providerQuotas.name, set: { ...row, updatedAt: sql`now()` } });
      await tx.delete(quotaCosts).where(sql`${quotaCosts.quota} = ${name}`);
      const costs = Object.entries(q.costs).map(([jobType, units]) => ({ quota: name, jobType, units: units! }));
      if (costs.length) await tx.insert(quotaCosts).values(costs);
    });
  }
}

export async function migrateDatabase(
  url: string,
  limits: Record<Provider, ProviderLimits>,
  quotas: Record<string, QuotaDefinition> = effectiveQuotas({}),
): Promise<void> {
  await ensureDatabase(url);
  const database = connectDatabase(url, { max: 1 });
  try {
    // Serialise concurrent migrators (two workers starting at once).
    await database.db.execute(sql`SELECT pg_advisory_lock(hashtext('reelflow.migrate'))`);
    await migrate(database.db, { migrationsFolder: MIGRATIONS_FOLDER });
    await syncProviderLimits(database.db, limits);
    await syncProviderQuotas(database.db, quotas);
  } finally {
    await database.close();
  }
}
