/**
 * The bench measures the engine as production runs it, and production PostgreSQL vacuums (autovacuum is on by
 * default, and drizzle/0023 tunes it for the job tables). Some machines' servers run without it (a CI image's
 * conf.d here says `autovacuum = off`): then every dead row version of a fill stays in the line's indexes, and the
 * backlog's idle figures measure that instead (docs/bench-history.md, "Backlog"). So the bench turns it on for its run and
 * puts the server back as it found it. BENCH_AUTOVACUUM=as-is leaves the server alone (to measure the worst case).
 */
import pg from 'pg';
import { ADMIN_URL } from '../test/helpers/test-db';

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Turns autovacuum on if it is off (and allowed); returns what to call at the end, and a line for the log. */
export async function autovacuumForRun(): Promise<{ note: string; restore: () => Promise<void> }> {
  const nothing = async () => undefined;
  const { setting, source } = await admin(
    async (c) =>
      (
        await c.query<{ setting: string; source: string }>(
          `SELECT setting, sourcefile AS source FROM pg_settings WHERE name = 'autovacuum'`,
        )
      ).rows[0]!,
  );
  if (setting === 'on') return { note: 'autovacuum on (as the server runs)', restore: nothing };
  if (process.env.BENCH_AUTOVACUUM === 'as-is') return { note: 'autovacuum OFF (BENCH_AUTOVACUUM=as-is)', restore: nothing };
  try {
    await admin(async (c) => {
      await c.query('ALTER SYSTEM SET autovacuum = on');
      await c.query('SELECT pg_reload_conf()');
    });
  } catch (err) {
    return { note: `autovacuum OFF: could not turn it on (${(err as Error).message})`, restore: nothing };
  }
  // Set in postgresql.auto.conf before: put that value back; else remove ours, and the server's own file rules again.
  const back = source?.endsWith('postgresql.auto.conf') ? 'ALTER SYSTEM SET autovacuum = off' : 'ALTER SYSTEM RESET autovacuum';
  return {
    note: `autovacuum turned on for the run (the server had it off${source ? `, in ${source}` : ''}; put back at the end)`,
    restore: () =>
      admin(async (c) => {
        await c.query(back);
        await c.query('SELECT pg_reload_conf()');
      }),
  };
}
