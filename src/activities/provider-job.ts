/**
 * runProviderJob: the life of one automation_queue job inside an activity.
 *
 *   take a slot (src/gate/job-slot.ts: priority order, global cap, deadline)
 *   -> run the provider work (submit once, poll with heartbeats)
 *   -> complete_job / fail_job (retry bookkeeping) -> slot handed on at once
 *
 * This file is the Temporal side: heartbeats, cancellation and shutdown,
 * failure classification, and each job transition as its SQL function.
 *
 * Pay once: a submit is recorded (heartbeat details and database) before any
 * polling, and a retried attempt resumes from it instead of submitting again.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { sql } from 'drizzle-orm';
import { isPublishPlatform, type Provider } from '../config/providers';
import { ProviderError } from '../providers/errors';
import type { Job } from '../db/schema';
import { WORKER_SHUTDOWN, type ActivityDeps } from './deps';
import { classifyFailure, markLoggedByTheJob } from './failures';
import { startHeartbeats } from './heartbeats';
import { RunLimit } from './run-limit';
import { getJob } from '../db/queries';
import { FAILURE_TYPES, slotGrantedSignal } from '../shared/messages';
import { RECOMMENDATION_WORKFLOW } from '../shared/workflow-ids';
import { withDbRetry } from '../db/retry';
import {
  DeadlineExpiredError,
  JobClosedError,
  ReturnedToLineError,
  SubmitOutcomeUnknownError,
  SupersededAttemptError,
} from '../shared/errors';
import { takeSlot, type JobSlot } from '../gate/job-slot';
import { attemptToken, supersededOr } from '../gate/slot-gate';
import { QUOTA_RECHECK_MS } from '../gate/quotas';
import { newSubmitKey, submitKeyEvent } from '../gate/provider-events';

/** The provider said a quota is spent; the quota is parked and the job is back in its line. */
class BackInLine extends Error {}

/** How long a failed attempt's running paid task keeps its slot for the next attempt (Temporal retries within a minute). */
const RESUME_HOLD_MS = 2 * 60_000;

/**
 * Whether a failed submit request left nothing at the provider (asked only where a second submit could pay twice or
 * post twice). Yes when nothing was sent (our video host dropped the download the upload would have sent), when the
 * failing request could not make anything (YouTube's upload session, before any byte), or when the provider answered.
 * No when no answer came (the request may have arrived), for a gateway's 504 (a proxy that timed out waiting, after
 * the provider may have acted: a render made, a TikTok PULL_FROM_URL post fetching its video) and for a 200 we could
 * not read (the provider said it made the task or the post; its id missing or malformed): both cleared the mark, and
 * the next attempt paid for a second render or posted a second time. An error status otherwise (KIE's docs say to
 * retry its 500; a 502 is a proxy that did not reach it) or the provider's own error code still clears it.
 */
function createdNothing(err: ProviderError): boolean {
  if (err.details.unsent || err.details.madeNothing) return true;
  const status = err.details.status;
  if (status === undefined) return false;
  if (status >= 200 && status < 300) return err.details.code !== undefined;
  return status !== 504;
}

/**
 * A quota refusal is not the job's failure: park every quota of that provider
 * and account pricing the job until its reset (the provider's, else a
 * re-check in QUOTA_RECHECK_MS), give the job's units back and put it back in line, where it waits
 * like any job that does not fit. False when no quota prices the job (it then
 * fails as a rate limit would: a quota nobody configured cannot be waited for).
 */
async function parkForQuota(
  deps: ActivityDeps,
  jobId: string,
  err: ProviderError,
  log: ActivityDeps['log'],
  fence: string | null,
): Promise<boolean> {
  // No reset given (a balance to top up, a window we cannot see into): look again later, not a whole window later.
  const until = err.details.resetAt ?? new Date(Date.now() + QUOTA_RECHECK_MS).toISOString();
  // Parked and back in line in one transaction: nobody reads the quota parked while its job still holds the slot.
  const rows = await withDbRetry(() =>
    deps.database.db.transaction(async (tx) => {
      const parked = await tx.execute<{ quota: string; parked_until: Date }>(
        sql`SELECT * FROM park_quota_for_job(${jobId}, ${until}, ${err.message})`,
      );
      if (parked.rows.length) {
        // Only while the row names this attempt: one Temporal gave up on must not take its retry out of line (0059).
        // Not left because a later attempt has the job: RF409 rolls the park back (a closed job keeps it, as before).
        const left = await tx.execute<{ left: boolean }>(sql`SELECT leave_line(${jobId}, ${fence}) AS left`);
        if (!left.rows[0]?.left) await tx.execute(sql`SELECT refuse_stale_attempt(${jobId}, ${fence})`);
      }
      return parked.rows;
    }),
  ).catch((dbErr: unknown) => {
    throw supersededOr(dbErr);
  });
  if (!rows.length) return false;
  log.warn({ quotas: rows, err: err.message }, 'the provider says a quota is spent: quota parked, job back in line');
  return true;
}

interface HeartbeatDetails {
  providerTaskId?: string;
  state?: string;
}

export interface JobContext {
  job: Job;
  attempt: number;
  /** Aborted when Temporal cancels the activity (workflow cancelled) or the run-time limit hits. */
  signal: AbortSignal;
  /** A provider call that counts as a start: waits for the provider's start spacing, then calls. */
  call<R>(fn: () => Promise<R>): Promise<R>;
  /**
   * Submit once: returns the recorded provider handle, or calls `submit` (spaced) and records its result first.
   * `submit` gets this submit's callback key (newSubmitKey). With `fromCallback`, a submit whose worker died inside
   * the request is not a dead end: the next attempt waits (up to the task's expected end) for the provider's
   * callback naming that key, and resumes the task it names.
   */
  submitOnce(submit: (key: string) => Promise<string>, opts?: { cost?: number; fromCallback?: boolean }): Promise<string>;
  /**
   * Polls `read` every pollIntervalMs (heartbeating) until `done` says so. With
   * wakeKey (providerEventKey), a provider callback for the task cuts the wait short.
   */
  poll<S extends { state: string }>(read: () => Promise<S>, done: (s: S) => boolean, opts?: { wakeKey?: string }): Promise<S>;
  /** Forgets the provider handle (it expired on the provider side) so the next attempt starts a new one. */
  discardProviderTask(): Promise<void>;
  /** A provider handle is known (recorded, or in the last heartbeat): submitOnce will resume it, not submit. */
  hasTask(): boolean;
}

export interface JobOutcome<T> {
  value: T;
  cost?: number;
  /**
   * The job that continues this one on the same provider (a chained reel's next segment): it gets
   * this job's slot at once when it would be first in line (drizzle/0013), instead of the line's head.
   */
  handOverTo?: string;
}

export interface ProviderJobOptions {
  /**
   * The work's first provider call is its paid submit (submitOnce), with a callback key: the attempt is armed with
   * that key, so a grant while it waits hot claims the submit's start in the same transaction (drizzle/0033).
   */
  armSubmit?: boolean;
}

export async function runProviderJob<T>(
  deps: ActivityDeps,
  jobId: string,
  line: Provider | ((job: Job) => Provider),
  work: (ctx: JobContext) => Promise<JobOutcome<T>>,
  opts: ProviderJobOptions = {},
): Promise<T> {
  const activity = Context.current();
  const { attempt } = activity.info;
  const pool = deps.database.pool;
  const jobLog = deps.log.child({ jobId, workflowId: activity.info.workflowExecution?.workflowId, attempt });

  const loadJob = () => withDbRetry(() => getJob(deps.database.db, jobId));
  const armedKey = opts.armSubmit ? newSubmitKey(jobId) : null;
  // If this process dies, another one fails this attempt at once (src/gate/presence.ts); unrecorded, a loss is still
  // found, by the heartbeat timeout. Before the first read: the row names this attempt from here on, so an earlier
  // attempt Temporal gave up on (alive in its process until its next heartbeat) can no longer submit or leave the line,
  // and what it marked before is in the row read next (drizzle/0054).
  const marked = await withDbRetry(() => deps.gate.markActivity(jobId, activity.info.taskToken, armedKey)).then(
    () => true,
    (err: unknown) => {
      jobLog.warn({ err }, 'could not record this attempt (the lost-worker watch, its submit); it goes on');
      return false;
    },
  );
  // What this attempt writes to the row as it ends (complete, fail, a quota park) is written only while the row names
  // it (drizzle/0059): a later attempt Temporal started meanwhile owns the job. Unmarked, the row names an earlier one.
  const fence = marked ? attemptToken(activity.info.taskToken) : null;
  const job = await loadJob();
  if (armedKey && (!job || job.status === 'completed')) deps.gate.disarm(jobId, armedKey);
  if (!job) throw classifyFailure(new JobClosedError(`job ${jobId} does not exist`)).failure;
  // A line given as a function of the row is the one the job was enqueued in (readPostMetrics: a read enqueued
  // before reads had lines of their own waits in its publishing platform's), read once with the rest of the row.
  const provider = typeof line === 'function' ? line(job) : line;
  const limits = deps.limits[provider];
  const log = jobLog.child({ provider });
  /**
   * The attempt stops without having sent its armed submit (stopped, refused by the credit guard, failed first):
   * a start the grant claimed for it must not stay marked as a submit that left, or the next attempt would wait
   * for a callback that cannot come. A no-op unless the grant claimed with this attempt's key.
   */
  const giveBackUnusedClaim = async () => {
    if (!armedKey || !deps.gate.disarm(jobId, armedKey) || job.providerTaskId || job.submitAttemptedAt) return;
    await withDbRetry(() => pool.query('SELECT release_unused_claim($1, $2)', [jobId, armedKey])).catch((err: unknown) =>
      log.error({ err }, 'could not give back the start claimed for a submit that never left'),
    );
  };
  // The previous attempt finished the work but died before Temporal heard of it.
  if (job.status === 'completed') return job.result as T;

  let details: HeartbeatDetails = (activity.info.heartbeatDetails as HeartbeatDetails | undefined) ?? {};
  const heartbeats = startHeartbeats(Math.min(1_000, limits.heartbeatTimeoutMs / 4), () => details);
  const beat = heartbeats.beat;

  // Cancellation, or this worker shutting down (which hands the job over rather than cancelling it).
  const stopping = deps.shuttingDown ? AbortSignal.any([activity.cancellationSignal, deps.shuttingDown]) : activity.cancellationSignal;
  // A poll interrupted by the workflow's cancel, kept so the task can be followed to its end.
  const interrupted: {
    poll: { read: () => Promise<{ state: string }>; done: (s: { state: string }) => boolean; wakeKey?: string } | null;
  } = { poll: null };
  let slot: JobSlot | null = null;
  try {
    slot = await withDbRetry(() =>
      takeSlot(deps.gate, jobId, provider, { attempt, signal: stopping, deadline: job!.deadline, attemptToken: activity.info.taskToken }),
    );
    const held = slot;
    // The row loaded above still holds what the work needs (handles, estimate, deadline);
    // not reloading it keeps a freed slot's hand-over to one database round trip.
    log.info({ resumed: held.resumed, priority: job.priority }, 'job holds a slot');
    // A job that held its slot when its activity began (granted in its line, handed over, or resumed after a crash)
    // was announced by the line, or by the attempt before: only a wait that ended here changes the workflow's phase,
    // and only once its first provider call has answered (the signal's work stays out of the hand-over).
    let unannounced = !held.resumed;

    // The 2x-estimate bound applies to the work, not the time spent in line nor waiting for a start (RunLimit).
    const limitMs = 2 * job.estimatedDurationSeconds * 1_000;
    const runLimit = new RunLimit(
      limitMs,
      () => new ProviderError(provider, 'transient', `still running after 2x its estimate (${limitMs} ms)`),
    );
    const signal = AbortSignal.any([stopping, runLimit.signal]);
    const current = job;
    const call = async <R>(fn: () => Promise<R>, claim: { markSubmit?: boolean; submitKey?: string } = {}): Promise<R> => {
      // The clock stops until the gate lets the call leave (`fn` runs), and starts again if it never does.
      const resume = runLimit.pause();
      try {
        return await held.call(
          () => {
            resume();
            return fn();
          },
          // A paid submit leaves only while the row names this attempt (drizzle/0054).
          { signal, attemptToken: activity.info.taskToken, ...claim },
        );
      } finally {
        resume();
        if (unannounced) {
          unannounced = false;
          announceSlot(activity, jobId, log);
        }
      }
    };
    const ctx: JobContext = {
      job: current,
      attempt,
      signal,
      call,
      async submitOnce(submit, opts = {}) {
        let known = current.providerTaskId ?? details.providerTaskId;
        // Heartbeats are throttled, so the last one sent may still carry a handle that an earlier
        // attempt discarded (it expired at the provider): the 'discarded' event says not to resume it.
        if (known && !current.providerTaskId && (await wasDiscarded(deps, jobId, known))) known = undefined;
        if (known) {
          if (!current.providerTaskId) await recordProviderTask(deps, jobId, known, opts.cost);
          log.info({ providerTaskId: known }, 'resuming the submitted provider task');
          return known;
        }
        if (current.submitAttemptedAt && !limits.submitRepeatable) {
          const learned = opts.fromCallback ? await taskFromCallback(current.submitAttemptedAt) : null;
          if (!learned) {
            throw new SubmitOutcomeUnknownError(
              `${provider}: a previous attempt died during the submit request, so ${madeWhat(provider)}` +
                `${opts.fromCallback ? ', and no callback named a task by its expected end' : ''}; not submitting again. ` +
                whatNext(provider, current.recommendationId ?? jobId),
            );
          }
          details = { providerTaskId: learned, state: 'submitted' };
          beat();
          await recordProviderTask(deps, jobId, learned, opts.cost);
          log.info({ providerTaskId: learned }, 'resuming the task the unanswered submit created, named by its callback');
          return learned;
        }
        // Armed: the key the grant may have claimed this start with (the gate then sends without claiming again).
        const key = armedKey ?? newSubmitKey(jobId);
        let handle: string;
        try {
          // claim_start records submit_attempted_at (and, with callbacks, the key the callback will name) with the start.
          handle = await call(() => submit(key), { markSubmit: true, ...(opts.fromCallback || armedKey ? { submitKey: key } : {}) });
        } catch (err) {
          // Nothing created, nothing paid: safe to submit again later. Otherwise the mark stays, and the next attempt
          // learns the task from its callback or stops asking the operator: it never pays again.
          if (err instanceof ProviderError && createdNothing(err)) {
            await pool.query('SELECT clear_submit_attempt($1, $2)', [jobId, err.details.status ?? null]);
          }
          throw err;
        }
        details = { providerTaskId: handle, state: 'submitted' };
        beat();
        await recordProviderTask(deps, jobId, handle, opts.cost);
        log.info({ providerTaskId: handle }, 'provider task submitted');
        return handle;
      },
      async poll(read, done, opts = {}) {
        try {
          return await held.pollUntil(read, done, {
            intervalMs: limits.pollIntervalMs,
            signal,
            wakeKey: opts.wakeKey,
            onStatus: (state) => {
              details = { ...details, state };
              beat();
            },
          });
        } catch (err) {
          interrupted.poll = { read, done: done as (s: { state: string }) => boolean, wakeKey: opts.wakeKey };
          throw err;
        }
      },
      hasTask() {
        return Boolean(current.providerTaskId ?? details.providerTaskId);
      },
      async discardProviderTask() {
        const handle = current.providerTaskId ?? details.providerTaskId;
        details = {};
        beat();
        await withDbRetry(() => pool.query('SELECT discard_provider_task($1, $2)', [jobId, handle ?? null]));
      },
    };
    /**
     * The task an unanswered submit created, once the callback naming its key arrives (hearCallback records
     * it): waits until the render's expected end after that submit (2x its estimate), then gives up (null).
     */
    const taskFromCallback = async (submittedAt: Date): Promise<string | null> => {
      const { rows } = await withDbRetry(() => pool.query<{ key: string }>('SELECT latest_submit_key($1) AS key', [jobId]));
      const key = rows[0]?.key;
      if (!key) return null;
      const until = submittedAt.getTime() + 2 * job.estimatedDurationSeconds * 1_000;
      await logJobEvent(deps, jobId, 'awaiting_callback', { key, until: new Date(until).toISOString() });
      log.info({ key, until: new Date(until) }, 'the last submit died unanswered; waiting for the callback that names its task');
      for (;;) {
        const taskId = (await loadJob())?.providerTaskId;
        if (taskId) return taskId;
        const left = until - Date.now();
        if (left <= 0) return null;
        await deps.gate.nap(submitKeyEvent(key), Math.min(left, limits.pollIntervalMs), signal);
      }
    };
    let outcome: JobOutcome<T>;
    try {
      outcome = await work(ctx);
    } catch (err) {
      if (runLimit.signal.aborted && !activity.cancellationSignal.aborted) throw runLimit.signal.reason;
      if (err instanceof ProviderError && err.kind === 'quota_exhausted' && !signal.aborted) {
        if (await parkForQuota(deps, jobId, err, log, fence)) throw new BackInLine();
      }
      // Nothing reached the provider (our video host, signing): the units this attempt took were not spent.
      if (err instanceof ProviderError && err.details.unsent) {
        await withDbRetry(() => pool.query('SELECT refund_quota($1, true)', [jobId])).catch((dbErr: unknown) =>
          log.warn({ err: dbErr }, 'could not give back the quota units of an attempt that reached nothing'),
        );
      }
      throw err;
    } finally {
      runLimit.end();
    }
    const result = [jobId, JSON.stringify(outcome.value ?? null), outcome.cost ?? null];
    const { rows: done } = await withDbRetry(() =>
      outcome.handOverTo
        ? pool.query<{ status: string }>('SELECT status FROM complete_job_handing_over($1, $2::jsonb, $3, $4, $5, $6)', [
            ...result,
            outcome.handOverTo,
            deps.gate.lease.leaseTtlMs,
            fence,
          ])
        : pool.query<{ status: string }>('SELECT status FROM complete_job($1, $2::jsonb, $3, $4)', [...result, fence]),
    ).catch((dbErr: unknown) => {
      throw supersededOr(dbErr);
    });
    // Cancelled while the task ran to its end before the cancel reached this activity
    // (heartbeats are throttled): the slot the cancel kept for the task is free now.
    if (done[0]?.status === 'cancelled') await withDbRetry(() => slot!.taskEnded('succeeded'));
    slot.leave();
    return outcome.value;
  } catch (err) {
    await giveBackUnusedClaim();
    if (err instanceof BackInLine) {
      // Parked quota: the job waits in line again (no attempt spent) until the quota is back.
      slot?.leave();
      heartbeats.stop();
      return runProviderJob(deps, jobId, provider, work, opts);
    }
    // The SDK cancels activities with WORKER_SHUTDOWN after its grace time; our own signal comes first.
    const shutdownCancel = (activity.cancellationSignal.reason as Error | undefined)?.message === WORKER_SHUTDOWN;
    if (activity.cancellationSignal.aborted && !shutdownCancel) {
      // The workflow's cancel path records the cancellation (and frees the slot). A paid task the
      // provider cannot cancel runs on: its slot stays counted until the task ends, not for the
      // 2x-estimate hold the cancel writes, which only bounds it when nobody follows the task.
      const followed = interrupted.poll;
      if (slot && followed && !limits.cancellable && !deps.shuttingDown?.aborted) {
        const startedAt = (await loadJob().catch(() => job))?.startedAt ?? new Date();
        const until = new Date(startedAt.getTime() + 2 * job.estimatedDurationSeconds * 1_000);
        log.info({ until }, 'cancelled while its provider task runs on; following the task to free its slot at its end');
        const ended = await slot.followToEnd(followed.read, followed.done, {
          intervalMs: limits.pollIntervalMs,
          wakeKey: followed.wakeKey,
          until,
          signal: deps.shuttingDown,
          onStatus: (state) => {
            details = { ...details, state };
            beat();
          },
        });
        log.info({ ended }, ended ? 'cancelled task ended; slot freed' : 'stopped following the cancelled task; its hold bounds the slot');
      } else {
        slot?.leave();
      }
      throw err instanceof CancelledFailure ? err : new CancelledFailure('activity cancelled');
    }
    slot?.leave();
    if (shutdownCancel || deps.shuttingDown?.aborted) {
      // A deploy or a scale-in. The render goes on at the provider and the row keeps its slot and
      // task id: fail the attempt retryably so another worker resumes it now, marked so the
      // workflow does not count it against the job.
      log.info('worker shutting down; the job resumes on another worker');
      throw ApplicationFailure.retryable('the worker shut down while the job ran; another worker resumes it', FAILURE_TYPES.workerShutdown);
    }
    const { failure, retryable } = classifyFailure(err);
    // Never started: the workflow records the expiry (job cancelled, recommendation expired), or parks the job again.
    // Superseded: the job is a later attempt's now, and this one writes nothing to its row.
    if (
      err instanceof DeadlineExpiredError ||
      err instanceof JobClosedError ||
      err instanceof ReturnedToLineError ||
      err instanceof SupersededAttemptError
    )
      throw failure;
    const final = !retryable || attempt >= job.maxAttempts;
    const now = await loadJob().catch(() => job);
    // A paid task may still be running at the provider: keep its slot counted until its expected end, and at least until
    // the next attempt can take it back. An attempt stopped at its 2x bound is past that end already (its bound starts
    // after the grant, and stops for the spacing): its slot was freed, granted to the next job while the task still
    // ran at the provider, and the cap was broken. So is a submit whose answer never came (a gateway's 504, a dropped
    // connection; its mark kept): the task it may have made runs as well, and the next render was made beside it.
    // For a provider that cannot cancel its task (a render; a post's slot goes as before), and through the final
    // failure such a submit ends in (SubmitOutcomeUnknown, without callbacks): the render runs on just the same. A task
    // the provider said is over was discarded (discard_provider_task), or its end heard (task_ended_at).
    const expectedEnd = now?.startedAt ? now.startedAt.getTime() + 2 * now.estimatedDurationSeconds * 1_000 : 0;
    const unanswered = Boolean(now?.submitAttemptedAt && !limits.submitRepeatable && !limits.cancellable);
    const mayRun = !now?.taskEndedAt && Boolean(now?.providerTaskId || unanswered);
    const holdUntil =
      mayRun && now?.startedAt && (retryable || (unanswered && err instanceof SubmitOutcomeUnknownError))
        ? new Date(final ? expectedEnd : Math.max(expectedEnd, Date.now() + RESUME_HOLD_MS))
        : null;
    await withDbRetry(async () => {
      const { rows } = await pool.query<{ status: string }>('SELECT status FROM fail_job($1, $2, $3, $4, $5)', [
        jobId,
        failure.message,
        final,
        holdUntil,
        fence,
      ]);
      // Cancelled meanwhile, and the provider said the task is over: nothing runs in the slot any more.
      if (rows[0]?.status === 'cancelled' && slot && err instanceof ProviderError && err.kind === 'permanent')
        await slot.taskEnded('failed');
    }).catch((dbErr: unknown) =>
      supersededOr(dbErr) instanceof SupersededAttemptError
        ? log.info('a later attempt runs the job: this one records nothing')
        : log.error({ err: dbErr }, 'could not record the failure; Temporal retries the job'),
    );
    log.warn({ err: failure.message, final, retryable }, 'job attempt failed');
    throw markLoggedByTheJob(failure);
  } finally {
    heartbeats.stop();
    await giveBackUnusedClaim();
  }
}

/**
 * Tells a recommendation workflow its job left the line: its ReelflowPhase says
 * `waiting` until then, and only the activity knows when the grant came. Best
 * effort: a lost signal leaves the phase at waiting, never the job.
 */
function announceSlot(activity: Context, jobId: string, log: ActivityDeps['log']): void {
  const { workflowType, workflowExecution } = activity.info;
  if (workflowType !== RECOMMENDATION_WORKFLOW || !workflowExecution) return;
  try {
    void activity.client.workflow
      .getHandle(workflowExecution.workflowId, workflowExecution.runId)
      .signal(slotGrantedSignal, { jobId })
      // A workflow ended meanwhile (cancelled while its submit was out) has no phase left to tell.
      .catch((err: unknown) =>
        err instanceof WorkflowNotFoundError
          ? log.debug({ err }, 'the workflow ended before its job held a slot')
          : log.warn({ err }, 'could not tell the workflow its job holds a slot'),
      );
  } catch (err) {
    log.warn({ err }, 'no Temporal client in this activity context; the workflow keeps its waiting phase');
  }
}

async function wasDiscarded(deps: ActivityDeps, jobId: string, handle: string): Promise<boolean> {
  const { rows } = await withDbRetry(() =>
    deps.database.pool.query(
      `SELECT 1 FROM job_events WHERE job_id = $1 AND event = 'discarded' AND detail->>'providerTaskId' = $2 LIMIT 1`,
      [jobId, handle],
    ),
  );
  return rows.length > 0;
}

async function recordProviderTask(deps: ActivityDeps, jobId: string, handle: string, cost?: number): Promise<void> {
  // Losing a paid task id costs money: insist (the heartbeat carries it meanwhile).
  await withDbRetry(() => deps.database.pool.query('SELECT record_provider_task($1, $2, $3)', [jobId, handle, cost ?? null]));
}

async function logJobEvent(deps: ActivityDeps, jobId: string, event: string, detail: Record<string, unknown>): Promise<void> {
  await withDbRetry(() => deps.database.pool.query('SELECT log_job_event($1, $2, $3::jsonb)', [jobId, event, JSON.stringify(detail)]));
}

/** What a submit that died unanswered may have done at the provider. */
export function madeWhat(provider: Provider): string {
  return isPublishPlatform(provider) ? `${provider} may have made the post` : 'the provider may have accepted (and billed) it';
}

/**
 * Where an operator goes from a submit whose outcome is unknown: what the provider made is adopted, or made anew.
 * `postId`: the post's id is known (a YouTube upload stored whole), so it is named rather than looked for.
 */
export function whatNext(provider: Provider, id: string, postId?: string): string {
  if (isPublishPlatform(provider)) {
    return (
      `Look on ${provider}${postId ? ` for ${postId}` : ''}: the post is there, ` +
      `\`reelflow republish ${id} --platform ${provider} --post ${postId ?? '<postId>'}\` records it ` +
      `without posting again; it is not, \`reelflow republish ${id} --platform ${provider}\` posts it.`
    );
  }
  return (
    `Look on the provider dashboard: found it, \`reelflow retry ${id} --task <taskId>\` follows it without paying again; ` +
    'nothing there, `--resubmit` pays for a new one.'
  );
}
