/**
 * Provider events: a provider telling us a task ended (KIE's callBackUrl).
 * The API frees the task's slot for the next job at once (the next render
 * starts without waiting for this one's poller) and turns the callback into a
 * NOTIFY; the worker polling that task (SlotGate.nap) reads its status at once
 * instead of at its next poll (5 s late on average at VEO3's 10 s poll). The
 * provider's status endpoint stays the authority on the result: a lost
 * callback costs one poll (and the slot waits for it, as before).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { retryDeadlock } from '../db/retry';

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
 * A provider's callback for `taskId`, in one round trip (hear_callback, drizzle/0019: it is on the path from a
 * render's end to the next render's start): records a `callback` event on its job, frees the task's slot for the
 * next job (release_heard_slot: only for the task the key's submit created) and wakes the task's poller, which reads
 * the status and completes the job. With `key` (the submit the callback URL names): when that submit is still the
 * job's latest and never got its answer (the worker died inside the request), the task it created becomes the job's
 * (a `task_from_callback` event), and the attempt waiting for it is woken. Returns how many jobs the callback
 * names, whether one learned its task from it, and the job whose slot it freed.
 */
export async function hearCallback(
  pool: pg.Pool,
  provider: string,
  taskId: string,
  key: string | null,
  detail: { code: number; msg: string | null },
): Promise<{ jobs: number; learned: boolean; freed: string | null }> {
  // Under load it can be a deadlock's victim (1,000 renders at cap 20 beside their pollers' complete_job): answered
  // with a 500, the callback may never come again (KIE's retry policy is unconfirmed), and a submit whose answer was
  // lost learns its task only from it. Run again in place.
  const { rows } = await retryDeadlock(() =>
    pool.query<{ jobs: number; learned: boolean; freed: string | null }>(
      'SELECT jobs, learned, freed FROM hear_callback($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)',
      [
        provider,
        taskId,
        key,
        detail.code,
        JSON.stringify(detail),
        PROVIDER_EVENTS_CHANNEL,
        providerEventKey(provider, taskId),
        providerEventKey(provider, taskId) + SLOT_FREED_SUFFIX,
        key ? submitKeyEvent(key) : null,
      ],
    ),
  );
  return rows[0]!;
}

/**
 * Marks a provider event whose task's slot the callback already freed: its poller has nothing urgent left (the next
 * job is starting), so it wakes FREED_WAKE_DELAY_MS later, out of that start's way (same CPUs, same database).
 */
export const SLOT_FREED_SUFFIX = '#slot-freed';
export const FREED_WAKE_DELAY_MS = 50;

export function providerEventKey(provider: string, taskId: string): string {
  return `${provider}:${taskId}`;
}
