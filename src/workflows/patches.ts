/**
 * The recommendation workflow's patch ids (with those of the line and the approval step it runs), and the decision
 * that takes them all before its first local activity.
 *
 * Why before: sdk-core (@temporalio 1.24.0) can record a local activity's marker in one workflow task and run the code
 * after it in the next: a query arriving while the activity runs closes the task early (`reelflow status`, the
 * dashboard, Temporal's Web UI). A replay runs that code in the earlier task, before core has told it of the later
 * task's patch markers, so a wf.patched() there answers false where the recording said true: the replay diverges
 * (TMPRL1100, "Change id … does not match expected id …") and the workflow's task fails for good at the next worker
 * restart or cache eviction. A history recorded since has every marker in its first task, before any local activity.
 * A patch added to these workflows goes in PATCHES, or it meets the same fate.
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

/** Marks a history whose patch decisions were all taken at its start. */
const DECIDED_AT_START = 'patches-decided-at-start';

/**
 * Call first thing in the workflow, before any local activity. A new run records every patch's marker now, and each
 * later wf.patched() returns the decision taken here; a history recorded before this keeps deciding each patch where
 * its code meets it, as it did.
 */
export function decidePatchesAtStart(): void {
  if (!wf.patched(DECIDED_AT_START)) return;
  for (const id of Object.values(PATCHES)) wf.patched(id);
}
