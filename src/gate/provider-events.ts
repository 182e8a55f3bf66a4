/**
 * Provider events: a provider telling us a task ended (KIE's callBackUrl).
 * The API turns a callback into a NOTIFY; the worker polling that task
 * (SlotGate.nap) reads its status at once instead of at its next poll, so a
 * finished render frees its paid slot within milliseconds, not pollInterval/2
 * on average (5 s at VEO3's 10 s poll). The provider's status endpoint stays
 * the authority: an event only says "look now", and a lost one costs one poll.
 */
import type pg from 'pg';

export const PROVIDER_EVENTS_CHANNEL = 'reelflow_provider_events';

export function providerEventKey(provider: string, taskId: string): string {
  return `${provider}:${taskId}`;
}

/** Wakes the poller of the task and records a `callback` event on its job. Returns how many jobs it names. */
export async function notifyProviderEvent(
  pool: pg.Pool,
  provider: string,
  taskId: string,
  detail: Record<string, unknown>,
): Promise<number> {
  const { rows } = await pool.query<{ jobs: number }>(
    `WITH j AS (
       SELECT log_job_event(id, 'callback', $3::jsonb) FROM automation_queue WHERE api_provider = $1 AND provider_task_id = $2
     )
     SELECT (SELECT count(*) FROM j)::int AS jobs, pg_notify($4, $5)`,
    [provider, taskId, JSON.stringify(detail), PROVIDER_EVENTS_CHANNEL, providerEventKey(provider, taskId)],
  );
  return rows[0]!.jobs;
}
