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
 * A callback that names its submit (key): when that submit is still the job's latest and never got its answer
 * (the worker died inside the request), the task it created becomes the job's (a `task_from_callback` event),
 * and the attempt waiting for it is woken. Returns whether the job learned its task from this callback.
 */
export async function learnTaskFromCallback(pool: pg.Pool, provider: string, key: string, taskId: string): Promise<boolean> {
  const jobId = SUBMIT_KEY_PATTERN.exec(key)?.[1];
  if (!jobId) return false;
  const { rows } = await pool.query<{ id: string }>(
    `WITH learned AS (
       UPDATE automation_queue q SET provider_task_id = $3, updated_at = now()
        WHERE q.id = $1 AND q.api_provider = $2 AND q.provider_task_id IS NULL AND q.submit_attempted_at IS NOT NULL
          AND q.status IN ('queued', 'processing')
          AND (SELECT e.detail->>'key' FROM job_events e WHERE e.job_id = q.id AND e.event = 'submit_key' ORDER BY e.id DESC LIMIT 1) = $4
       RETURNING q.id
     )
     SELECT id, log_job_event(id, 'task_from_callback', jsonb_build_object('providerTaskId', $3::text, 'key', $4::text)),
            pg_notify($5, $6) FROM learned`,
    [jobId, provider, taskId, key, PROVIDER_EVENTS_CHANNEL, submitKeyEvent(key)],
  );
  return rows.length > 0;
}

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
