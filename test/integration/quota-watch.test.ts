/**
 * The quota watch against real PostgreSQL: a quota the provider said is spent is told to the team once a park (KIE's
 * credits, re-checked every 5 minutes, are one message, not one every 5 minutes), again when it is spent anew after
 * it came back, and at the next round when its message could not be started (Temporal away), not never.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import { parkedText, parkKey, startQuotaWatch, type SpentQuota } from '../../src/workers/quota-watch';
import { createTestDatabase, enqueueVeo3Job, type TestDatabase } from '../helpers/test-db';
import { waitUntil } from '../helpers/wait';
import { quiet, toldAfterOneFailure } from '../helpers/told';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

it('tells a spent quota once a park, again when spent anew, and at the next round when its message failed', async () => {
  const { pool } = t.database;
  const jobId = await enqueueVeo3Job(pool, 'wf-credits-gone');
  const park = () =>
    pool.query(`SELECT * FROM park_quota_for_job($1, now() + interval '5 minutes', 'insufficient credits (code 402)')`, [jobId]);
  const { told, tell } = toldAfterOneFailure<SpentQuota>();
  const watch = startQuotaWatch(
    { database: t.database, log: pino({ level: 'silent' }) },
    {
      everyMs: 100,
      onParked: tell,
    },
  );
  try {
    const { rows: parked } = await park();
    const quotas = parked.map((r: { quota: string }) => r.quota).sort();
    // KIE's 402 parks every quota pricing the render (the daily and the monthly credit budgets): one message for them.
    expect(quotas.length).toBeGreaterThan(1);
    // Its first message failed to start: told at a later round, once.
    await waitUntil(() => told.length >= 1, { what: 'the park told', timeoutMs: 10_000 });
    await quiet();
    expect(told).toHaveLength(1);
    const first = told[0]!;
    expect([...first.quotas].sort()).toEqual(quotas);
    expect(first).toMatchObject({ provider: 'veo3', reason: 'insufficient credits (code 402)', waiting: 1 });
    // Its key names the park and its quotas: the same read twice is one message, a quota more is another.
    expect(parkKey({ ...first, quotas: [...first.quotas].reverse() })).toBe(parkKey(first));
    expect(parkKey({ ...first, quotas: first.quotas.slice(1) })).not.toBe(parkKey(first));
    expect(parkedText(first)).toMatch(/^insufficient credits \(code 402\)\. Parked until .*: veo3_.*; 1 open job wait meanwhile/);

    // Re-checked at the park's end and still spent: the same park, not told again.
    await pool.query(`UPDATE provider_quotas SET parked_until = now() - interval '1 second' WHERE name = ANY($1)`, [quotas]);
    await park();
    await quiet();
    expect(told).toHaveLength(1);

    // Back for hours, then spent again: a new park, told again.
    await pool.query(`UPDATE provider_quotas SET parked_until = now() - interval '2 hours' WHERE name = ANY($1)`, [quotas]);
    await park();
    await waitUntil(() => told.length >= 2, { what: 'the new park told', timeoutMs: 10_000 });
    await quiet();
    expect(told).toHaveLength(2);
    expect(told[1]!.since.getTime()).toBeGreaterThan(first.since.getTime());
  } finally {
    watch.stop();
  }
});

it('tells a park again when the worker telling it died before its message started (not marked told first)', async () => {
  const { pool } = t.database;
  const jobId = await enqueueVeo3Job(pool, 'wf-credits-gone-crash');
  await pool.query(`UPDATE provider_quotas SET parked_until = NULL, parked_since = NULL, park_told_at = NULL`);
  await pool.query(`SELECT * FROM park_quota_for_job($1, now() + interval '5 minutes', 'insufficient credits (code 402)')`, [jobId]);
  const log = pino({ level: 'silent' });
  // The first worker reads the park and dies while its message is being started (its start never answers).
  let reached = false;
  const dying = startQuotaWatch(
    { database: t.database, log },
    {
      everyMs: 100,
      onParked: () => {
        reached = true;
        return new Promise(() => {});
      },
    },
  );
  await waitUntil(() => reached, { what: 'the first worker starting the message', timeoutMs: 10_000 });
  dying.stop();
  const told: SpentQuota[] = [];
  const next = startQuotaWatch({ database: t.database, log }, { everyMs: 100, onParked: async (p) => void told.push(p) });
  try {
    await waitUntil(() => told.length >= 1, { what: 'the park told by the next worker', timeoutMs: 10_000 });
    expect(told[0]).toMatchObject({ provider: 'veo3', reason: 'insufficient credits (code 402)' });
  } finally {
    next.stop();
  }
});
