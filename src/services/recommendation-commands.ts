/**
 * What changes a recommendation: enqueue, start, cancel, reprioritise.
 *
 * insertRecommendation is the one way a recommendation row is written (by
 * `reelflow enqueue`, the API, the daily bargains and the competitor engine),
 * so every idea passes the same validation and the same schedule-window rule.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { deadlineFor, temporalPriorityKey, type Priority } from '../config/priorities';
import type { Db } from '../db/client';
import { clearApprovalWaitingIn, closeWorkflowJobs, getRecommendation } from '../db/queries';
import { competitiveRecommendations, type Recommendation } from '../db/schema';
import { BadInputError, ConflictError, NotFoundError } from '../shared/errors';
import {
  approvalUpdate,
  cancelReasonText,
  cancelReasonSignal,
  reprioritiseUpdate,
  SEARCH_ATTRIBUTES,
  type ApprovalReview,
  type ApprovalStage,
  type RecommendationState,
} from '../shared/messages';
import { parseRecommendationWorkflowId, RECOMMENDATION_WORKFLOW, recommendationWorkflowId, isRepublishOf } from '../shared/workflow-ids';
import { recommendationWorkflowMetadata } from '../shared/workflow-metadata';
import { isFinalRecommendationStatus } from '../shared/statuses';
import { mapLimit } from '../shared/map-limit';
import { enqueueRecommendationSchema, parseInput, prioritySchema, uuidSchema } from '../validation';
import { UNSTORABLE, unstorableText } from '../shared/storable-text';
import { sqlStateOf } from '../shared/connection-errors';
import type { recommendationWorkflow } from '../workflows/recommendation';
import type { ServiceDeps } from './recommendations';

export interface EnqueueResult {
  recommendation: Recommendation;
  workflowId: string;
  /** False when the recommendation already had a workflow (duplicate enqueue). */
  started: boolean;
}

export interface InsertResult {
  recommendation: Recommendation;
  /** False when a recommendation with the same dedupe key already existed (it is handed back unchanged). */
  created: boolean;
}

/**
 * Validates an enqueue input (EnqueueRecommendationInput), applies the
 * schedule-window rule and inserts the row; an existing dedupe key hands back
 * that row instead. Throws BadInputError naming the field; writes nothing then.
 */
export async function insertRecommendation(db: Db, input: unknown, now: Date): Promise<InsertResult> {
  const data = parseInput(enqueueRecommendationSchema, input, 'enqueue');
  // A scheduled idea's window opens when it may start: a P0 for tomorrow's match has 24 h from then.
  const opens = data.scheduleAfter && data.scheduleAfter > now ? data.scheduleAfter : now;
  const deadline = data.deadline ?? deadlineFor(data.priority, opens);
  if (deadline && deadline <= now) throw new BadInputError('enqueue: deadline must be in the future');
  if (deadline && data.scheduleAfter && deadline <= data.scheduleAfter) {
    throw new BadInputError('enqueue: deadline must be after scheduleAfter, or the video could never be made in time');
  }
  const [inserted] = await db
    .insert(competitiveRecommendations)
    .values({
      title: data.title,
      recommendationType: data.type,
      priority: data.priority,
      source: data.source,
      targetPlayer: data.targetPlayer ?? null,
      ourData: data.ourData,
      jobConfig: data.jobConfig,
      sourceVideoId: data.sourceVideoId ?? null,
      urgencyDeadline: deadline,
      scheduleAfter: data.scheduleAfter ?? null,
      dedupeKey: data.dedupeKey ?? null,
      createdAt: now,
    })
    .onConflictDoNothing({ target: competitiveRecommendations.dedupeKey })
    .returning()
    .catch((err: unknown) => {
      // The only foreign key an enqueue sets: a video id nobody saved (it was a 500 with a stack in the log).
      if (sqlStateOf(err) === '23503')
        throw new BadInputError(`enqueue: sourceVideoId ${data.sourceVideoId} is no competitor video we have`);
      throw err;
    });
  if (inserted) return { recommendation: inserted, created: true };
  // Only a dedupe key can conflict, so there is one.
  const [existing] = await db.select().from(competitiveRecommendations).where(eq(competitiveRecommendations.dedupeKey, data.dedupeKey!));
  return { recommendation: existing!, created: false };
}

/**
 * How a recommendation's workflow is started (enqueue, start, retry): its id, queue, priority, search attributes and
 * the summary the Web UI shows; `policies` says what an earlier run of the same id allows.
 */
export function recommendationStartOptions(
  rec: Recommendation,
  taskQueue: string,
  args: Parameters<typeof recommendationWorkflow>,
  policies: Pick<WorkflowStartOptions, 'workflowIdConflictPolicy' | 'workflowIdReusePolicy'>,
): WorkflowStartOptions<typeof recommendationWorkflow> {
  const priority = rec.priority as Priority;
  return {
    taskQueue,
    workflowId: recommendationWorkflowId(rec.id),
    args,
    ...recommendationWorkflowMetadata(rec),
    ...policies,
    priority: { priorityKey: temporalPriorityKey(priority) },
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.priority, value: priority },
      { key: SEARCH_ATTRIBUTES.recommendationId, value: rec.id },
    ],
  };
}

function assertOpen(rec: Recommendation, action: string): void {
  if (isFinalRecommendationStatus(rec.status))
    throw new ConflictError(`recommendation ${rec.id} is already ${rec.status}: nothing to ${action}`);
}

/** Cancel requests to Temporal in flight at once in cancelMany. */
const CANCEL_CALLS = 20;
export interface CancelOutcome {
  ref: string;
  recommendationId?: string;
  cancelled: boolean;
  error?: string;
}

export function createRecommendationCommands(deps: ServiceDeps, resolve: (ref: string) => Promise<Recommendation>) {
  const { db } = deps.database;
  const now = deps.now ?? (() => new Date());

  /**
   * Takes every open job of these ideas out of its line now, with the text the workflow's own clean-up would write
   * (which then finds nothing left to close).
   */
  function closeJobsOf(recs: readonly Recommendation[], reason: string | undefined): Promise<void> {
    const workflowIds = recs.map((r) => recommendationWorkflowId(r.id));
    return closeWorkflowJobs(deps.database.pool, workflowIds, cancelReasonText(reason, reason ? 'signal' : 'temporal'));
  }

  /**
   * Asks the idea's workflow to cancel: its clean-up closes the idea itself. A reason goes first, by signal, and
   * Temporal's cancel request after it, so the run ends CANCELLED either way (not FAILED: the Web UI's filters).
   */
  async function requestCancel(rec: Recommendation, reason: string | undefined): Promise<void> {
    const handle = deps.client.workflow.getHandle(recommendationWorkflowId(rec.id));
    try {
      if (reason) await handle.signal(cancelReasonSignal, { reason });
      await handle.cancel();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`recommendation ${rec.id} has no running workflow`);
      throw err;
    }
  }

  async function startWorkflow(rec: Recommendation): Promise<{ workflowId: string; started: boolean }> {
    const workflowId = recommendationWorkflowId(rec.id);
    // Temporal only remembers a closed workflow for its retention period; the row remembers for good.
    // Without this, the same idea generated again after that would start a workflow that fails at once.
    if (isFinalRecommendationStatus(rec.status)) return { workflowId, started: false };
    try {
      await deps.client.workflow.start<typeof recommendationWorkflow>(
        RECOMMENDATION_WORKFLOW,
        recommendationStartOptions(rec, deps.taskQueue, [{ recommendationId: rec.id }], {
          // Same recommendation twice -> one workflow; a finished one is never re-run (it was paid for).
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
      return { workflowId, started: rec.workflowId === null };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
      throw err;
    }
  }

  return {
    async enqueue(input: unknown): Promise<EnqueueResult> {
      const { recommendation: rec, created } = await insertRecommendation(db, input, now());
      if (!created) {
        // Same dedupe key as an existing idea: hand back that one (and make sure it runs).
        const { workflowId } = await startWorkflow(rec);
        return { recommendation: rec, workflowId, started: false };
      }
      try {
        const { workflowId } = await startWorkflow(rec);
        const [updated] = await db
          .update(competitiveRecommendations)
          .set({ workflowId })
          .where(eq(competitiveRecommendations.id, rec.id))
          .returning();
        return { recommendation: updated!, workflowId, started: true };
      } catch (err) {
        // No workflow, no row: nothing half-enqueued is left behind.
        await db.delete(competitiveRecommendations).where(eq(competitiveRecommendations.id, rec.id));
        throw err;
      }
    },

    /** Starts (or finds) the workflow of an existing recommendation. */
    async start(ref: string): Promise<EnqueueResult> {
      // The id or its workflow id (recommendation-<uuid>), as everywhere else.
      const recommendationId = parseInput(uuidSchema, parseRecommendationWorkflowId(ref), 'recommendation id');
      const rec = await getRecommendation(db, recommendationId);
      if (!rec) throw new NotFoundError(`recommendation ${recommendationId} does not exist`);
      const { workflowId, started } = await startWorkflow(rec);
      if (rec.workflowId !== workflowId) {
        await db.update(competitiveRecommendations).set({ workflowId }).where(eq(competitiveRecommendations.id, rec.id));
      }
      return { recommendation: { ...rec, workflowId }, workflowId, started };
    },

    async cancel(ref: string, reason?: string): Promise<Recommendation> {
      const rec = await resolve(ref);
      // Temporal accepts a cancel request for a workflow that has already closed, so ask the row.
      assertOpen(rec, 'cancel');
      await closeJobsOf([rec], reason);
      await requestCancel(rec, reason);
      return rec;
    },

    /**
     * Many at once (`reelflow cancel <id> <id> ...`): every job of every open one leaves its line (a transaction
     * per hundred ideas), then each workflow is asked to cancel (CANCEL_CALLS at a time). A line of a thousand is empty
     * as soon as that statement commits, not after a thousand workflow clean-ups. Refs that name nothing, or an
     * idea already closed, are reported per ref, and do not stop the others.
     */
    async cancelMany(refs: readonly string[], reason?: string): Promise<CancelOutcome[]> {
      // Looked up CANCEL_CALLS at a time: one by one, 3,000 refs took seconds before the first job left its line.
      const found = await mapLimit(refs, CANCEL_CALLS, async (ref): Promise<{ outcome: CancelOutcome; rec?: Recommendation }> => {
        try {
          const rec = await resolve(ref);
          assertOpen(rec, 'cancel');
          return { outcome: { ref, recommendationId: rec.id, cancelled: true }, rec };
        } catch (err) {
          if (!(err instanceof NotFoundError || err instanceof ConflictError || err instanceof BadInputError)) throw err;
          return { outcome: { ref, cancelled: false, error: err.message } };
        }
      });
      const outcomes = found.map((f) => f.outcome);
      const open = found.flatMap((f) => (f.rec ? [f.rec] : []));
      await closeJobsOf(open, reason);
      const failed = new Map<string, string>();
      await mapLimit(open, CANCEL_CALLS, (rec) => requestCancel(rec, reason).catch((err: Error) => void failed.set(rec.id, err.message)));
      return outcomes.map((o) =>
        o.recommendationId && failed.has(o.recommendationId) ? { ...o, cancelled: false, error: failed.get(o.recommendationId)! } : o,
      );
    },

    /**
     * An editor's decision on what waits for approval. Refused (ConflictError) when nothing waits, when `stage`
     * names a step already decided, or when `reviewId` names a review another replaced; the workflow records it
     * (database, audit log). Answers the state it led to and the workflow that took it (the idea's, or a republish's).
     */
    async decide(
      ref: string,
      decision: 'approve' | 'reject',
      opts: { by: string; note?: string; stage?: ApprovalStage; reviewId?: string },
    ): Promise<RecommendationState & { workflowId: string }> {
      if (opts.note !== undefined && opts.note.length > 2_000) throw new BadInputError('note must be at most 2000 characters');
      if (opts.note !== undefined && unstorableText(opts.note)) throw new BadInputError(`note ${UNSTORABLE}`);
      if (opts.stage !== undefined && opts.stage !== 'render' && opts.stage !== 'publish') {
        throw new BadInputError(`stage must be render or publish (got ${JSON.stringify(opts.stage)})`);
      }
      if (opts.reviewId !== undefined && (opts.reviewId.trim() === '' || opts.reviewId.trim().length > 100)) {
        throw new BadInputError(
          "reviewId (the CLI's --review) must be the id of the review decided on, as reelflow status shows it: at most 100 characters",
        );
      }
      const rec = await resolve(ref);
      // A republish of a closed idea may be the one waiting (a platform no editor approved the video for): the decision
      // goes to it. Only one of this idea's republishes is taken at its word.
      const republish = (rec.approval as { waiting?: ApprovalReview | null } | null)?.waiting?.workflowId;
      const waitingIn = republish && isRepublishOf(rec.id, republish) ? republish : null;
      if (!waitingIn) assertOpen(rec, decision);
      const workflowId = waitingIn ?? recommendationWorkflowId(rec.id);
      const handle = deps.client.workflow.getHandle(workflowId);
      try {
        const state = await handle.executeUpdate(approvalUpdate, {
          args: [
            {
              decision,
              by: opts.by,
              ...(opts.note ? { note: opts.note } : {}),
              ...(opts.stage ? { stage: opts.stage } : {}),
              ...(opts.reviewId !== undefined ? { reviewId: opts.reviewId.trim() } : {}),
            },
          ],
        });
        return { ...state, workflowId };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          if (!waitingIn) throw new NotFoundError(`recommendation ${rec.id} has no running workflow`);
          // Ended without its clean-up (terminated): its card would offer buttons nobody listens to, for ever.
          await closeWorkflowJobs(deps.database.pool, [waitingIn], `${waitingIn} ended while it waited for approval`);
          await clearApprovalWaitingIn(deps.database.pool, rec.id, waitingIn);
          throw new NotFoundError(`${waitingIn} is no longer running: nothing waits for approval any more`);
        }
        // The workflow's validator refused it (nothing waits, or another stage): a conflict with its state, not a crash.
        if (err instanceof WorkflowUpdateFailedError) throw new ConflictError(updateFailureMessage(err));
        throw err;
      }
    },

    async reprioritise(ref: string, priority: string): Promise<RecommendationState> {
      const p = parseInput(prioritySchema, priority, 'priority');
      const rec = await resolve(ref);
      assertOpen(rec, 'reprioritise');
      const handle = deps.client.workflow.getHandle(recommendationWorkflowId(rec.id));
      try {
        return await handle.executeUpdate(reprioritiseUpdate, { args: [{ priority: p }] });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`recommendation ${rec.id} has no running workflow`);
        throw err;
      }
    },
  };
}

/** The validator's own words ("nothing waits for approval (phase generating)"), not the SDK's wrapper. */
function updateFailureMessage(err: WorkflowUpdateFailedError): string {
  let e: unknown = err;
  while (e && (e as { cause?: unknown }).cause) e = (e as { cause?: unknown }).cause;
  return e instanceof Error ? e.message : err.message;
}
