/**
 * Raises a 'stuck' event (job_events, log line) once for each job running past
 * 2x its estimate. Every worker runs it; mark_stuck_jobs() marks each job once,
 * and again if its notification could not be sent.
 */
import { Ticker } from '../shared/ticker';
import type { Runtime } from './runtime';

export interface StuckJob {
  id: string;
  job_type: string;
  api_provider: string;
  workflow_id: string;
  started_at: Date;
}

export function startStuckWatch(
  runtime: Pick<Runtime, 'database' | 'log'>,
  opts: { everyMs?: number; onStuck?: (job: StuckJob) => Promise<unknown> } = {},
) {
  const ticker = new Ticker(
    async () => {
      const { rows } = await runtime.database.pool.query<StuckJob>(
        'SELECT id, job_type, api_provider, workflow_id, started_at FROM mark_stuck_jobs()',
      );
      for (const job of rows) {
        runtime.log.warn(
          { jobId: job.id, provider: job.api_provider, workflowId: job.workflow_id, startedAt: job.started_at },
          'job is stuck: running longer than 2x its estimated duration',
        );
        await opts.onStuck?.(job).catch(async (err: unknown) => {
          // Marked (stuck_since) before the notification left: unmarked, the next round marks it again and tells the team
          // then. Left marked, nobody was ever told (Temporal restarting, the process exiting).
          runtime.log.warn({ err, jobId: job.id }, 'could not start the stuck notification; trying again next round');
          await runtime.database.pool
            .query('UPDATE automation_queue SET stuck_since = NULL WHERE id = $1', [job.id])
            .catch((dbErr: unknown) => runtime.log.warn({ err: dbErr, jobId: job.id }, 'could not unmark the stuck job'));
        });
      }
    },
    { everyMs: opts.everyMs ?? 5_000, onError: (err) => runtime.log.warn({ err }, 'stuck check failed; retrying') },
  );
  ticker.start();
  return { stop: () => ticker.stop() };
}
