/**
 * The recommendation workflow's patch ids (with those of the line and the approval step it runs), and the decision
 * that takes them all before its first local activity.
 *
 * Why before: sdk-core (@temporalio 1.24.0) can record a local activity's marker in one workflow task and run the code
 * after it in the next: a query arriving while the activity runs closes the task early (`reelflow status`, the
 * dashboard, Temporal's Web UI). A replay runs that code in the earlier task, before core has told it of the later
 * task's patch markers, so a wf.patched() there answers false where the recording said true: the replay diverges
 * (TMPRL1100, "Change id … does not match expected id …") and the workflow's task fails for good at the next worker
 * restart or cache eviction. A run started since decides them all in its first task, before any local activity, with one
 * marker (patchesAtStart).
 */
import * as wf from '@temporalio/workflow';

export const PATCHES = {
  /** The failure and expiry records run uncancellable. */
  closeFailureUncancellable: 'close-failure-uncancellable',
  /** The plan and in_production written in one transaction. */
  oneTransaction: 'plan-and-in-production-in-one-transaction',
  /** A reel's segments planned once the script says how many. */
  reelSegments: 'reel-segments',
  /** The waiting phase shown, provider and job type cleared when no single one runs. */
  waitingPhase: 'waiting-phase-and-provider-cleared',
  /** A job waits for its turn in the workflow, no activity running (src/workflows/line.ts). */
  durableLine: 'durable-line',
  /** The approval policy read again before the render. */
  approvalPolicyBeforeRender: 'approval-policy-before-render',
  /** The approval policy read again before the posts. */
  approvalPolicyBeforePublish: 'approval-policy-before-publish',
  /** The video archived before any post. */
  archiveBeforePublish: 'archive-before-publish',
  /** A paid video posted whatever the idea's deadline. */
  postsPastDeadline: 'posts-past-deadline',
  /** A platform's rejected post closes its job. */
  closeRejectedPublishJobs: 'close-rejected-publish-jobs',
  /** Some platforms failing ends partially_published. */
  partiallyPublished: 'partially-published-status',
  /** A decision dropped by a cancel is answered (src/workflows/approval-step.ts). */
  approvalAnswersDroppedDecision: 'approval-answers-a-dropped-decision',
} as const;

export type PatchId = (typeof PATCHES)[keyof typeof PATCHES];

/** What the workflow's code asks instead of wf.patched(): whether this run takes a patch's new code. */
export type Patched = (id: PatchId) => boolean;

/** One marker for every patch in PATCHES: a run that has it takes them all. */
const FOLDED = 'patches-folded-at-start';

/**
 * Call first thing in the workflow, before any local activity; its code then asks the returned function. A new run
 * records one marker and takes every patch in PATCHES; a history recorded before it decides each patch where its code
 * meets it, as it did. A patch added later must not join PATCHES (a run recorded under this marker never ran without
 * it, and a replay would take it): it gets a marker of its own, decided here at the start as well.
 */
export function patchesAtStart(): Patched {
  const folded = wf.patched(FOLDED);
  return (id) => folded || wf.patched(id);
}
