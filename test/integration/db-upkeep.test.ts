/**
 * Keeping PostgreSQL quick over a long run: the job tables are vacuumed long before PostgreSQL's default
 * (drizzle/0023), a worker started on a server without autovacuum says so, and the pools of long-running processes
 * keep their sessions (and the plans those sessions cached) instead of reopening them after 10 s idle.
 * Real PostgreSQL; the server's own autovacuum setting is read, not assumed.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, SERVER_POOL_IDLE_MS } from '../../src/db/client';
import { warnWithoutAutovacuum } from '../../src/workers/runtime';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

/** Dead row versions PostgreSQL's autovacuum lets a table of `rows` rows keep before it vacuums it. */
async function deadBeforeVacuum(table: string, rows: number): Promise<number> {
  const { rows: found } = await t.database.pool.query<{ opts: string[] | null; threshold: string; scale: string }>(
    `SELECT c.reloptions AS opts, current_setting('autovacuum_vacuum_threshold') AS threshold,
            current_setting('autovacuum_vacuum_scale_factor') AS scale
       FROM pg_class c WHERE c.relname = $1 AND c.relkind = 'r'`,
    [table],
  );
  const opts = new Map((found[0]!.opts ?? []).map((o) => o.split('=') as [string, string]));
  const threshold = Number(opts.get('autovacuum_vacuum_threshold') ?? found[0]!.threshold);
  const scale = Number(opts.get('autovacuum_vacuum_scale_factor') ?? found[0]!.scale);
  return threshold + scale * rows;
}

function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('vacuuming the job tables (0023)', () => {
  it('vacuums the queue at a few hundred dead versions per 10,000 ideas, not 20 % of it', async () => {
    // 10,000 ideas: about 50,000 rows (analyse, render, three posts).
    expect(await deadBeforeVacuum('automation_queue', 50_000)).toBeLessThanOrEqual(1_000);
    for (const small of ['provider_slots', 'provider_limits', 'provider_quotas']) {
      expect(await deadBeforeVacuum(small, 10)).toBeLessThanOrEqual(100);
    }
    // Untouched tables keep the server's default (0.2 x rows + 50 unless the server says otherwise).
    expect(await deadBeforeVacuum('job_events', 50_000)).toBeGreaterThan(1_000);
  });

  it('a worker warns at start when the server runs without autovacuum, and only then', async () => {
    const { rows } = await t.database.pool.query<{ on: boolean }>(`SELECT current_setting('autovacuum')::boolean AS on`);
    const real = capture();
    expect(await warnWithoutAutovacuum(t.database, real.log)).toBe(!rows[0]!.on);
    expect(real.lines.filter((l) => l.level === 40 && /autovacuum off/.test(l.msg))).toHaveLength(rows[0]!.on ? 0 : 1);

    // Both answers, whatever this server runs with.
    for (const on of [true, false]) {
      const { log, lines } = capture();
      const pool = { query: async () => ({ rows: [{ on }] }) } as unknown as TestDatabase['database']['pool'];
      expect(await warnWithoutAutovacuum({ pool }, log)).toBe(!on);
      expect(lines.map((l) => l.msg).join('\n')).toMatch(on ? /^$/ : /autovacuum off.*VACUUM automation_queue/);
    }
  });
});

describe('pools of long-running processes', () => {
  it('keep an idle session (and its cached plans) where a short-lived pool lets it go', async () => {
    const backend = async (pool: TestDatabase['database']['pool']) =>
      (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const server = connectDatabase(t.url, { max: 1, idleMs: SERVER_POOL_IDLE_MS });
    const brief = connectDatabase(t.url, { max: 1, idleMs: 200 });
    try {
      const [serverPid, briefPid] = [await backend(server.pool), await backend(brief.pool)];
      await new Promise((r) => setTimeout(r, 700));
      expect(server.pool.totalCount).toBe(1);
      expect(await backend(server.pool)).toBe(serverPid);
      expect(brief.pool.totalCount).toBe(0);
      expect(await backend(brief.pool)).not.toBe(briefPid);
    } finally {
      await Promise.all([server.close(), brief.close()]);
    }
  });
});
