/**
 * Raises a 'stuck' event (job_events, log line) once for each job running past
 * 2x its estimate. Every worker runs it; mark_stuck_jobs() marks each job once.
 */
import type { Runtime } from './runtime';

export function startStuckWatch(runtime: Pick<Runtime, 'database' | 'log'>, everyMs = 5_000) {
  const timer = setInterval(async () => {
    try {
      const { rows } = await runtime.database.pool.query<{ id: string; job_type: string; api_provider: string; workflow_id: string; started_at: Date }>(
        'SELECT id, job_type, api_provider, workflow_id, started_at FROM mark_stuck_jobs()',
      );
      for (const job of rows) {
        runtime.log.warn(
          { jobId: job.id, provider: job.api_provider, workflowId: job.workflow_id, startedAt: job.started_at },
          'job is stuck: running longer than 2x its estimated duration',
        );
      }
    } catch (err) {
      runtime.log.warn({ err }, 'stuck check failed; retrying');
    }
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
