/**
 * The approval step as a workflow waits on it: the `approval` update (validated, answered once the decision is
 * recorded), what waits (requestApproval: the dashboard, the API and `reelflow status` read it), the editors'
 * notification, and the decision recorded (database and audit log) before the workflow goes on.
 *
 * The recommendation workflow waits on it before the paid render and before posting where the policy asks; a
 * republish before posting on a platform whose video no editor approved (src/workflows/republish.ts).
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import { UNSTORABLE, unstorableText } from '../shared/storable-text';
import { PATCHES, type Patched } from './patches';
import type { createApprovalActivities } from '../activities/approval';
import {
  approvalUpdate,
  FAILURE_TYPES,
  type ApprovalDecisionInput,
  type ApprovalReview,
  type ApprovalStage,
  type RecommendationState,
} from '../shared/messages';

type Approvals = ReturnType<typeof createApprovalActivities>;

// Recording what waits for approval, and the decision, must survive a database outage like the sync.
const approvals = wf.proxyActivities<Approvals>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Longest note an editor may attach to a decision. */
const MAX_NOTE_LENGTH = 2_000;

/** The review waiting, as a refused decision names it: what to look at before deciding again. */
function waitingNow(review: ApprovalReview): string {
  return `${review.stage} approval waiting now is ${review.id}, requested at ${review.requestedAt}`;
}

/** A job or an idea an editor said no to: its error. */
export function rejectedText(stage: ApprovalStage): string {
  return `rejected at the ${stage} approval`;
}

export type ApprovalVerdict = 'approve' | 'reject' | 'timeout';

export interface ApprovalStepOptions {
  recommendationId: string;
  workflowId: string;
  /** The workflow's state: what the update answers once the decision is recorded, its `approval` what waits. */
  state: () => RecommendationState;
  /** A review starts waiting (the workflow's phase says so); state().approval is set already. */
  onWaiting: (review: ApprovalReview) => void;
  /** Tells the editors what waits (the text says what to review and how to decide). */
  notify: (review: ApprovalReview, text: string) => Promise<void>;
  /** The workflow's patch decisions (src/workflows/patches.ts); wf.patched where it takes none at its start. */
  patched?: Patched;
}

/** Registers the approval update on the calling workflow; `wait` is the step itself. Once per workflow. */
export function approvalStep(opts: ApprovalStepOptions) {
  const { recommendationId, workflowId } = opts;
  const patched = opts.patched ?? wf.patched;
  /** The decision the update delivered, until the waiting step records it. */
  let pendingDecision: (ApprovalDecisionInput & { at: string }) | undefined;
  let decisionsRecorded = 0;
  /** Reviews this run asked: each one's id. */
  let reviewsAsked = 0;
  /** Steps that ended (cancelled) with a decision delivered and not recorded: its update is answered, not left waiting. */
  let decisionsDropped = 0;

  wf.setHandler(
    approvalUpdate,
    async (arg) => {
      const recorded = decisionsRecorded;
      const dropped = decisionsDropped;
      pendingDecision = { ...arg, at: new Date(Date.now()).toISOString() };
      // Answer once the decision is in the database and the audit log, with the state it led to.
      await wf.condition(() => decisionsRecorded > recorded || decisionsDropped > dropped);
      if (decisionsRecorded === recorded) {
        throw ApplicationFailure.nonRetryable(`${recommendationId} was cancelled while this decision was recorded: it was not acted on`);
      }
      return opts.state();
    },
    { validator: validateDecision },
  );

  /** Synchronous and side-effect free (update validators must be): refused updates leave no trace in history. */
  function validateDecision(arg: ApprovalDecisionInput): void {
    const refuse = (message: string) => {
      throw ApplicationFailure.nonRetryable(message, FAILURE_TYPES.badInput);
    };
    if (!arg || (arg.decision !== 'approve' && arg.decision !== 'reject')) {
      refuse(`decision must be approve or reject (got ${JSON.stringify(arg?.decision)})`);
    }
    const waiting = opts.state().approval;
    if (!waiting) refuse(`nothing waits for approval (phase ${opts.state().phase})`);
    if (arg.stage !== undefined && arg.stage !== waiting!.stage) {
      refuse(`the ${arg.stage} approval is not the one waiting (waiting: ${waiting!.stage})`);
    }
    if (arg.reviewId !== undefined && arg.reviewId !== waiting!.id) {
      refuse(
        typeof arg.reviewId !== 'string' || !waiting!.id
          ? `reviewId must be the id of the review waiting (${waiting!.id ?? 'this one has none: decide without it'})`
          : `the review decided on (${arg.reviewId.slice(0, 100)}) is not the one waiting: ` +
              `the ${waitingNow(waiting!)}; look at it before deciding`,
      );
    }
    // A decision naming neither the review nor its stage is taken for the only review asked. Once this run asked a
    // second, it may be meant for the one before: an editor who read the brief's review typed a bare approve while
    // another approved the brief, and it approved the finished video nobody had seen. It must say which.
    if (arg.reviewId === undefined && arg.stage === undefined && reviewsAsked > 1) {
      refuse(
        `this idea was asked for approval before: say which review this decides. The ${waitingNow(waiting!)}; look at it, then ` +
          `decide with its id (--review ${waiting!.id}; the API's reviewId) or its stage (--stage ${waiting!.stage}; stage)`,
      );
    }
    if (pendingDecision) refuse('a decision for this step is already being recorded');
    if (arg.note !== undefined && (typeof arg.note !== 'string' || arg.note.length > MAX_NOTE_LENGTH)) {
      refuse(`note must be text of at most ${MAX_NOTE_LENGTH} characters`);
    }
    // Accepted, it failed its record's write for ever: the idea stuck, every later decision refused as pending.
    for (const [field, text] of [
      ['note', arg.note],
      ['by', arg.by],
    ] as const)
      if (unstorableText(text ?? null)) refuse(`${field} ${UNSTORABLE}`);
    if (arg.by !== undefined && (typeof arg.by !== 'string' || arg.by.length > 200)) refuse('by must be text of at most 200 characters');
  }

  const setWaiting = (review: ApprovalReview | null) => {
    opts.state().approval = review;
    if (review) opts.onWaiting(review);
  };

  return {
    /**
     * Waits for an editor's decision on `review`, until `deadline` when there is one ('timeout'). Records the decision
     * (database and audit log) before returning it.
     */
    async wait(review: ApprovalReview, deadline: string | null): Promise<ApprovalVerdict> {
      let verdict: ApprovalVerdict | undefined;
      try {
        verdict = await waitFor(review, deadline);
        return verdict;
      } finally {
        if (verdict === undefined) {
          // Ended without a verdict (cancelled, failed): nothing waits any more, so the validator refuses a decision
          // from now on. Accepted while the cancel's records were written, it waited for a step that never comes.
          setWaiting(null);
          // A decision delivered already: its update waited for a record that never comes, and the workflow's end
          // waits for its handlers (a cancelled idea's workflow ran for ever, the editor's call never answered).
          if (pendingDecision !== undefined && patched(PATCHES.approvalAnswersDroppedDecision)) {
            pendingDecision = undefined;
            decisionsDropped += 1;
          }
        }
      }
    },
  };

  async function waitFor(asked: ApprovalReview, deadline: string | null): Promise<ApprovalVerdict> {
    // Counted, not read off the clock: a replay gives each review the id it had (a clock read may differ there).
    const review = { ...asked, id: `${wf.workflowInfo().runId}/${++reviewsAsked}` };
    setWaiting(review);
    // The id the row holds, from history: after a reset past this point the run id differs, the row's id does not.
    // Histories from before the answer replay none, and keep the computed one.
    const stored = await approvals.requestApproval({ recommendationId, review });
    if (stored) review.id = stored;
    const what =
      review.stage === 'render' ? 'the brief, before the paid render' : `the video, before posting on ${review.platforms.join(', ')}`;
    // The command names this review: run once another replaced it (a retry's new render), it is refused.
    await opts.notify(review, `approve or reject ${what}: reelflow approve|reject ${recommendationId} --review ${review.id}`);
    const arrived =
      deadline === null
        ? await wf.condition(() => pendingDecision !== undefined).then(() => true)
        : await wf.condition(() => pendingDecision !== undefined, Math.max(Date.parse(deadline) - Date.now(), 1));
    if (!arrived) {
      setWaiting(null);
      return 'timeout';
    }
    const decision = pendingDecision!;
    await approvals.recordApprovalDecision({
      recommendationId,
      workflowId,
      stage: review.stage,
      platforms: review.platforms,
      reviewId: review.id,
      decision: decision.decision,
      by: decision.by?.trim() || 'temporal workflow update (no actor given)',
      note: decision.note?.trim() || null,
      at: decision.at,
    });
    pendingDecision = undefined;
    setWaiting(null);
    decisionsRecorded += 1;
    return decision.decision;
  }
}
