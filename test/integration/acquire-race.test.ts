/**
 * SlotGate.acquire against real PostgreSQL, with a grant made by another process at the worst moment: after the
 * job joined its line, before this process registered its waiter (the grant's NOTIFY finds nobody to wake).
 * No Temporal involved.
 */
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOT_LEASE } from '../../src/config/providers';
import { SlotGate } from '../../src/gate/slot-gate';
import { sleep } from '../../src/shared/sleep';
import { createTestDatabase, enqueueVeo3Job, type TestDatabase } from '../helpers/test-db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

describe('SlotGate.acquire', () => {
  it('wakes at once when another process granted the job between its join and its waiter', async () => {
    const jobId = await enqueueVeo3Job(t.database.pool, 'wf-race');
    let heard = false;
    const pool = {
      query: async (text: string, params: unknown[]) => {
        const result = await t.database.pool.query(text, params);
        if (text.includes('wait_for_slot')) {
          // Another process's release or sweep grants the free slot, and its NOTIFY reaches this process now.
          const { rows } = await t.database.pool.query<{ r: { granted: string[] } }>(`SELECT grant_slots('veo3', 12000) AS r`);
          heard = rows[0]!.r.granted.includes(jobId);
          await sleep(300);
        }
        return result;
      },
    } as unknown as pg.Pool;
    // No sweep and no heartbeat within the test: only acquire itself can notice the grant it missed.
    const gate = new SlotGate(pool, t.url, pino({ level: 'silent' }), { ...SLOT_LEASE, sweepMs: 600_000, leaseRenewMs: 600_000 });
    await gate.start();
    try {
      const started = Date.now();
      const outcome = await Promise.race([gate.acquire(jobId, 'veo3', { attempt: 1 }), sleep(5_000).then(() => 'still waiting' as const)]);
      expect(heard).toBe(true);
      expect(outcome).toEqual({ resumed: false });
      // The 300 ms the NOTIFY was given, and a round trip.
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await gate.stop();
    }
  });
});
