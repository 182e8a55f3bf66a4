/**
 * Provider events: a provider telling us a task ended (KIE's callBackUrl).
 * The API turns a callback into a NOTIFY; the worker polling that task
 * (SlotGate.nap) reads its status at once instead of at its next poll, so a
 * finished render frees its paid slot within milliseconds, not pollInterval/2
 * on average (5 s at VEO3's 10 s poll). The provider's status endpoint stays
 * the authority: an event only says "look now", and a lost one costs one poll.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export const PROVIDER_EVENTS_CHANNEL = 'reelflow_provider_events';

/**
 * A paid submit's callback key: the job and a nonce of this submit (`<job id>.<8 hex>`). The callback URL carries it,
 * so the task a submit created can be told from any earlier one of the same job (a task discarded after it expired).
 */
export function newSubmitKey(jobId: string): string {
  return `${jobId}.${randomUUID().slice(0, 8)}`;
}

export const SUBMIT_KEY_PATTERN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[0-9a-f]{8}$/;

/** What an attempt waiting for its predecessor's callback naps on. */
export function submitKeyEvent(key: string): string {
  return `submit:${key}`;
}

/**
 * A provider's callback for `taskId`, in one round trip (it is on the path from a render's end to the next render's
 * start): wakes the task's poller and records a `callback` event on its job. With `key` (the submit the callback
 * URL names): when that submit is still the job's latest and never got its answer (the worker died inside the
 * request), the task it created becomes the job's (a `task_from_callback` event), and the attempt waiting for it
 * is woken. Returns how many jobs the callback names, and whether one learned its task from it.
 */
export async function hearCallback(
  pool: pg.Pool,
  provider: string,
  taskId: string,
  key: string | null,
  detail: Record<string, unknown>,
): Promise<{ jobs: number; learned: boolean }> {
  const jobId = (key && SUBMIT_KEY_PATTERN.exec(key)?.[1]) ?? null;
  // One statement sees one snapshot: a job that learns its task here is not yet found by provider_task_id, so the
  // 'callback' event reaches it through `learned`.
  const { rows } = await pool.query<{ jobs: number; learned: number }>(
    `WITH learned AS (
       UPDATE automation_queue q SET provider_task_id = $2, updated_at = now()
        WHERE q.id = $3::uuid AND q.api_provider = $1 AND q.provider_task_id IS NULL AND q.submit_attempted_at IS NOT NULL
          AND q.status IN ('queued', 'processing')
          AND (SELECT e.detail->>'key' FROM job_events e WHERE e.job_id = q.id AND e.event = 'submit_key' ORDER BY e.id DESC LIMIT 1) = $4
       RETURNING q.id
     ), told AS (
       SELECT log_job_event(id, 'task_from_callback', jsonb_build_object('providerTaskId', $2::text, 'key', $4::text)),
              pg_notify($6, $8) FROM learned
     ), heard AS (
       SELECT log_job_event(id, 'callback', $5::jsonb) FROM automation_queue WHERE api_provider = $1 AND provider_task_id = $2
       UNION ALL
       SELECT log_job_event(id, 'callback', $5::jsonb) FROM learned
     )
     SELECT (SELECT count(*) FROM heard)::int AS jobs, (SELECT count(*) FROM told)::int AS learned, pg_notify($6, $7)`,
    [
      provider,
      taskId,
      jobId,
      key,
      JSON.stringify(detail),
      PROVIDER_EVENTS_CHANNEL,
      providerEventKey(provider, taskId),
      key ? submitKeyEvent(key) : null,
    ],
  );
  return { jobs: rows[0]!.jobs, learned: rows[0]!.learned > 0 };
}

export function providerEventKey(provider: string, taskId: string): string {
  return `${provider}:${taskId}`;
}
