/**
 * Every name an operator or another process uses to talk to our workflows:
 * signals, queries, updates, search attributes and failure types (workflow
 * names and ids: ./workflow-ids). Imported by the workflows, the CLI, the API
 * and the tests; documented in the README. Elsewhere a name is read from its
 * definition (`reprioritiseSignal.name`), never written again as a literal.
 * No Node imports (workflow sandbox).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Priority } from '../config/priorities';
import type { Provider, PublishPlatform } from '../config/providers';

/** Payload of the reprioritise signal/update: `{"priority":"P0"}`. */
export interface ReprioritiseInput {
  priority: Priority;
}

/** Payload of the cancel signal: `{"reason":"..."}` (reason optional). */
export interface CancelInput {
  reason?: string;
}

export type RecommendationPhase =
  | 'loading'
  | 'scheduled'
  /** A job of the workflow is in its provider's line, waiting for a slot (ReelflowProvider / ReelflowJobType name it). */
  | 'waiting'
  | 'analyzing'
  | 'generating'
  /** The reel's rendered segments are being cut into the final video (its own job, on the assembly queue). */
  | 'assembling'
  | 'publishing'
  /** An editor must approve (the brief before the paid render, or the video before it is posted): see approvalUpdate. */
  | 'awaiting_approval'
  | 'published'
  /** Posted on some platforms, not on others (the failed ones' errors are in the result and on their jobs). */
  | 'partially_published'
  | 'failed'
  | 'cancelled'
  | 'expired'
  | 'rejected';

/** render: the brief, before the paid render; publish: the finished video, before the platforms that need it. */
export type ApprovalStage = 'render' | 'publish';

/** What an editor reviews at an approval step (in the state query, the database and the dashboard). */
export interface ApprovalReview {
  /**
   * Which review this is (`<runId>/<n>`, the n-th its workflow run asked), set by the approval step: a decision naming
   * it reaches only this review, not one that replaced it (a retry's new render, a republish). Absent on reviews asked
   * before it existed.
   */
  id?: string;
  stage: ApprovalStage;
  requestedAt: string;
  title: string;
  caption: string;
  videoPrompt: string | null;
  /** The rendered video (publish stage). */
  videoUrl: string | null;
  /** Platforms this decision publishes to (publish stage), or all of them (render stage). */
  platforms: PublishPlatform[];
  /** The workflow waiting for the decision, when it is not the idea's own (a republish): decisions go to it. */
  workflowId?: string;
}

/**
 * Payload of the approval update: `{"decision":"approve","by":"ana","note":"..."}`. `stage`, when given,
 * must be the one waiting (a late click on a stage already decided is refused, not applied to the next).
 */
export interface ApprovalDecisionInput {
  decision: 'approve' | 'reject';
  stage?: ApprovalStage;
  /** The review decided on (its `id`): refused when another one waits, so a decision reaches only what its editor saw. */
  reviewId?: string;
  /** Who decided; recorded in the audit log (`temporal workflow update` without it is recorded as such). */
  by?: string;
  note?: string;
}

export interface RecommendationState {
  recommendationId: string;
  phase: RecommendationPhase;
  priority: Priority | null;
  scheduleAfter: string | null;
  deadline: string | null;
  currentJobId: string | null;
  videoUrl: string | null;
  posts: Record<string, string>;
  error: string | null;
  /** Set while the workflow waits for an editor's decision. */
  approval?: ApprovalReview | null;
  /** A reel's segments: how many the script has and how many are rendered (absent for a single clip). */
  segments?: { total: number; rendered: number } | null;
}

/** The state of a recommendation in `phase` before anything is known of it (its workflow's, or a republish's). */
export function initialState(recommendationId: string, phase: RecommendationPhase): RecommendationState {
  return {
    recommendationId,
    phase,
    priority: null,
    scheduleAfter: null,
    deadline: null,
    currentJobId: null,
    videoUrl: null,
    posts: {},
    error: null,
    approval: null,
  };
}

/** `temporal workflow signal --name reprioritise --input '{"priority":"P0"}'` */
export const reprioritiseSignal = defineSignal<[ReprioritiseInput]>('reprioritise');
/** Same as the signal, but answers with the new state (our CLI uses it). */
export const reprioritiseUpdate = defineUpdate<RecommendationState, [ReprioritiseInput]>('reprioritise');
/** `temporal workflow signal --name cancel --input '{"reason":"..."}'`; `temporal workflow cancel` works too. */
export const cancelSignal = defineSignal<[CancelInput]>('cancel');
/**
 * The reason of the cancel request our service sends right after it: the workflow only keeps it, and Temporal's
 * request ends the run CANCELLED, as a plain cancel does (a run that ends itself on `cancel` is recorded FAILED: only
 * Temporal's own request makes it CANCELLED). A signal of its own, not a flag on `cancel`: a worker of the code before
 * leaves it unhandled (no command, nothing to replay differently) and cancels on the request alone.
 */
export const cancelReasonSignal = defineSignal<[CancelInput]>('cancelReason');

/**
 * What a cancelled job's row says (its error): the operator's reason, or how the cancel came. One text for the
 * workflow's own clean-up and for the service, which takes the jobs out of their line before the workflow hears.
 */
export function cancelReasonText(reason: string | undefined, via: 'temporal' | 'signal'): string {
  if (reason) return `cancelled: ${reason}`;
  return via === 'signal' ? 'cancelled by operator (cancel signal)' : 'cancelled by operator (temporal workflow cancel)';
}
export const stateQuery = defineQuery<RecommendationState>('state');
/**
 * `temporal workflow update execute --workflow-id recommendation-<id> --name approval --input '{"decision":"approve","by":"ana"}'`:
 * answers the state once the decision is recorded; refused when nothing waits for approval.
 */
export const approvalUpdate = defineUpdate<RecommendationState, [ApprovalDecisionInput]>('approval');

/** Payload of slotGranted: the job (automation_queue id) that now holds its provider slot. */
export interface SlotGrantedInput {
  jobId: string;
}
/** Sent by a provider activity once its job holds a slot: the workflow's phase moves from waiting to running. */
export const slotGrantedSignal = defineSignal<[SlotGrantedInput]>('slotGranted');

/**
 * Sent by the line courier (src/gate/line-courier.ts) to a workflow whose job is parked in its provider's line:
 * the job was granted a slot or came near the head, so the workflow starts its provider activity now.
 */
export const lineTurnSignal = defineSignal<[LineTurnInput]>('lineTurn');
export interface LineTurnInput {
  jobId: string;
  /** The job holds its slot already (else it was called up to wait near the head of its line). */
  granted?: boolean;
}

/** One provider's row of get_available_capacity, as JSON. */
export interface CapacitySnapshotRow {
  provider: Provider;
  maxConcurrent: number;
  inUse: number;
  free: number;
  /** Jobs in line for a slot now. */
  waiting: number;
  /** Later steps already enqueued (e.g. publishing before the video exists). */
  planned: number;
  minStartIntervalMs: number;
  lastStartAt: string | null;
}

export interface CapacitySnapshot {
  /** When the numbers were read (null before the first read). */
  asOf: string | null;
  providers: CapacitySnapshotRow[];
}

/** `temporal workflow query --workflow-id reelflow-capacity --type capacity`: the latest snapshot (at most refreshMs old). */
export const capacityQuery = defineQuery<CapacitySnapshot>('capacity');
/** `temporal workflow update execute --workflow-id reelflow-capacity --name refreshCapacity`: reads now, answers the fresh snapshot. */
export const refreshCapacityUpdate = defineUpdate<CapacitySnapshot>('refreshCapacity');

export const SEARCH_ATTRIBUTES = {
  priority: defineSearchAttributeKey('ReelflowPriority', SearchAttributeType.KEYWORD),
  recommendationId: defineSearchAttributeKey('ReelflowRecommendationId', SearchAttributeType.KEYWORD),
  jobType: defineSearchAttributeKey('ReelflowJobType', SearchAttributeType.KEYWORD),
  provider: defineSearchAttributeKey('ReelflowProvider', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('ReelflowPhase', SearchAttributeType.KEYWORD),
} as const;

/** Application failure types the workflow reacts to. */
export const FAILURE_TYPES = {
  badInput: 'BadInput',
  deadlineExpired: 'DeadlineExpired',
  jobClosed: 'JobClosed',
  /** A post's metrics series whose recommendation is not in the database: it ends (src/workflows/post-metrics.ts). */
  recommendationGone: 'RecommendationGone',
  submitOutcomeUnknown: 'SubmitOutcomeUnknown',
  /** A post the approval policy asks an editor's yes for now, never given: not made (src/activities/publish.ts). */
  approvalRequired: 'ApprovalRequired',
  /** An attempt Temporal had given up on was refused its paid submit: a later attempt runs the job (drizzle/0054). */
  supersededAttempt: 'SupersededAttempt',
  provider: 'ProviderError',
  rateLimited: 'RateLimited',
  /** The worker running the job shut down (a deploy): the job resumes elsewhere, and it was not the job's fault. */
  workerShutdown: 'WorkerShutdown',
  /** The worker process running the job vanished from PostgreSQL (killed): the job resumes elsewhere (src/gate/presence.ts). */
  workerLost: 'WorkerLost',
  /** The job was pushed back in its line while it waited in its activity: its workflow parks it again (not a failure). */
  returnedToLine: 'ReturnedToLine',
  /** A provider's quota for the day is spent: retrying before its reset only spends more calls. */
  dailyQuota: 'DailyQuotaSpent',
  /** A run stopped before calling on, because finishing it would eat into the day's reserve of calls. */
  quotaBudget: 'QuotaBudget',
} as const;
