/**
 * A year of history: what the reads on the live path cost once the database holds this studio's past, not the
 * empty one every other scenario starts from. The same reads are timed on the bench's database as it is, then with
 * 200,000 finished jobs added (about a year: 55 ideas a day, 10 jobs each), five events each:
 * - the dashboard's poll (every 1.5 s per open tab): src/api/stats.ts dashboardSnapshot;
 * - a KIE callback finding its task (it holds VEO3's lock meanwhile: every grant and completion waits);
 * - the report read (`GET /api/stats`, `/metrics`: all-time totals, which do read every job).
 * The history's rows are deleted at the end.
 */
import type pg from 'pg';
import { fmtFineMs, percentile } from '../measure';
import { atMost, type Scenario } from '../scenario';
import { dashboardSnapshot, providerPanels } from '../../src/api/stats';
import { hearCallback } from '../../src/gate/provider-events';

const HISTORY_JOBS = Number(process.env.BENCH_HISTORY_JOBS ?? 200_000);
const EVENTS_PER_JOB = 5;
const RUNS = 15;
const TARGETS = { dashboardMs: 100, callbackMs: 5 };
const CALLBACK = { code: 200, msg: null };
/** The providers a finished job ran on, in the studio's proportions (analysis, render, three posts, archive...). */
const MIX = ['openai', 'veo3', 'veo3', 'instagram', 'tiktok', 'youtube', 'assembly', 'openai', 'veo3', 'instagram'];

/** p50 of `fn`'s wall time over RUNS calls, after one warm-up call. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return percentile(ms, 50);
}

async function measure(pool: pg.Pool) {
  // Each call names another VEO3 task of the history (once added), as KIE's callbacks do: found through the index,
  // logged on its job; on the empty database it finds none.
  let n = 0;
  return {
    dashboard: await timed(() => dashboardSnapshot(pool)),
    callback: await timed(() => hearCallback(pool, 'veo3', `history-task-${MIX.indexOf('veo3') + MIX.length * n++}`, null, CALLBACK)),
    report: await timed(() => providerPanels(pool)),
  };
}

export const history: Scenario = {
  name: 'history',
  summary: `the dashboard's poll, a KIE callback and the report read, empty and with ${HISTORY_JOBS} finished jobs`,
  async run(bench, rec) {
    await bench.prepare({});
    const pool = bench.db.database.pool;
    const empty = await measure(pool);

    rec.log(`adding ${HISTORY_JOBS} finished jobs and ${HISTORY_JOBS * EVENTS_PER_JOB} events ...`);
    const t0 = Date.now();
    // Spread over the last year (none in the last day), each with its run, cost and task.
    await bench.q(
      `INSERT INTO automation_queue (priority, job_type, api_provider, estimated_duration_seconds, workflow_id, step, status,
                                     cost, provider_task_id, created_at, started_at, completed_at)
       SELECT (ARRAY['P0','P1','P2','P3'])[1 + g % 4], p || '_history', p, 60, 'history-' || g, 'generate', 'completed', 1,
              'history-task-' || g, at - interval '10 minutes', at - interval '5 minutes', at
         FROM generate_series(1, $1::int) g,
              LATERAL (SELECT ($2::text[])[1 + g % cardinality($2::text[])] AS p,
                              now() - make_interval(days => 1 + g % 365, secs => g % 86400) AS at) x`,
      [HISTORY_JOBS, MIX],
    );
    await bench.q(
      `INSERT INTO job_events (job_id, event, detail, created_at)
       SELECT q.id, e, '{}'::jsonb, q.completed_at
         FROM automation_queue q, unnest(ARRAY['enqueued','started','provider_call','callback','completed']) e
        WHERE q.workflow_id LIKE 'history-%'`,
    );
    // As autovacuum would by now (the bench's server may run without it).
    await bench.q('ANALYZE');
    rec.log(`  added in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    try {
      const full = await measure(pool);
      const row = (what: string, target: number | null, pick: (m: typeof empty) => number) =>
        rec.figure({
          metric: `${what}: empty database / ${HISTORY_JOBS} finished jobs, p50 of ${RUNS}`,
          value: `${fmtFineMs(pick(empty))} / ${fmtFineMs(pick(full))}`,
          target: target === null ? '-' : `<= ${target} ms`,
          bullmq: '-',
          met: target === null || atMost(pick(full), target),
        });
      row("the dashboard's poll (open jobs, last 24 h, ETAs)", TARGETS.dashboardMs, (m) => m.dashboard);
      row('a KIE callback finding its task (holding the provider lock)', TARGETS.callbackMs, (m) => m.callback);
      row('the report read (all-time totals: GET /api/stats, /metrics)', null, (m) => m.report);
      rec.note(
        `${HISTORY_JOBS} finished jobs over the last year (providers ${[...new Set(MIX)].join(', ')}), ` +
          `${EVENTS_PER_JOB} events each; the report read sums every job by design (it runs per scrape, not per poll)`,
      );
    } finally {
      await bench.q(`DELETE FROM automation_queue WHERE workflow_id LIKE 'history-%'`);
    }
  },
};
