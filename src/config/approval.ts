/**
 * Who must say yes before money is spent or a post goes public. A policy per
 * source (before the paid render) and per platform (before the finished video
 * is posted there), set by REELFLOW_APPROVAL_POLICY (env.ts) over these
 * defaults. Ideas drawn from competitors' videos wait for an editor: their
 * titles and claims are text anyone on the internet wrote. An operator's own
 * idea, breaking news and the daily bargains do not.
 *
 * A recommendation may ask for more (jobConfig.approval), never for less.
 * No Node imports: the workflow reads ApprovalPlan from its plan.
 */
import type { PublishPlatform } from './providers';

export const RECOMMENDATION_SOURCES = ['competitor', 'bargain', 'breaking_news', 'manual'] as const;
export type RecommendationSource = (typeof RECOMMENDATION_SOURCES)[number];

export interface ApprovalPolicy {
  /** Per source: the brief waits for approval before the paid render. */
  beforeRender: Record<RecommendationSource, boolean>;
  /** Per platform: the finished video waits for approval before it is posted there. */
  beforePublish: Record<PublishPlatform, boolean>;
}

export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = {
  beforeRender: { competitor: true, bargain: false, breaking_news: false, manual: false },
  beforePublish: { instagram: false, tiktok: false, youtube: false },
};

/** What one recommendation's workflow must wait for. */
export interface ApprovalPlan {
  beforeRender: boolean;
  /** The platforms (of those it publishes to) whose post waits for approval of the video. */
  beforePublish: PublishPlatform[];
}

/** An approval decision as competitive_recommendations.approval.decisions keeps it. */
export interface RecordedDecision {
  stage: string;
  decision: string;
  /** Absent on decisions recorded before they named their platforms. */
  platforms?: string[];
}

/**
 * What the idea's editors said before: a decision recorded before decisions named their platforms covers the idea's
 * plan (`planned`).
 */
export interface DecisionHistory {
  decisions: readonly RecordedDecision[];
  planned: readonly PublishPlatform[];
}

/** The decisions an idea's row keeps (competitive_recommendations.approval), none when it was never asked. */
export function recordedDecisions(approval: unknown): RecordedDecision[] {
  return (approval as { decisions?: RecordedDecision[] } | null)?.decisions ?? [];
}

/** The last publish-stage decision covering the platform ('approve', 'reject'), or undefined. */
export function lastPublishDecision(history: DecisionHistory, platform: PublishPlatform): string | undefined {
  return history.decisions.filter((d) => d.stage === 'publish' && (d.platforms ?? history.planned).includes(platform)).at(-1)?.decision;
}

/**
 * A platform an editor rejected waits for an editor again, whatever the policy says now: a policy made looser since
 * (or an operator's republish, a retry) is nobody's yes to the video rejected.
 */
export function approvalPlan(
  policy: ApprovalPolicy,
  source: string,
  platforms: readonly PublishPlatform[],
  requested: Partial<ApprovalPlan> = {},
  history: DecisionHistory = { decisions: [], planned: [] },
): ApprovalPlan {
  // An unknown source (a row older than the list) is treated as the strictest one.
  const bySource = (RECOMMENDATION_SOURCES as readonly string[]).includes(source)
    ? policy.beforeRender[source as RecommendationSource]
    : true;
  const wanted = new Set(requested.beforePublish ?? []);
  return {
    beforeRender: bySource || requested.beforeRender === true,
    beforePublish: platforms.filter((p) => policy.beforePublish[p] || wanted.has(p) || lastPublishDecision(history, p) === 'reject'),
  };
}

/**
 * Of `platforms`, those a post may go to only after an editor's yes: the plan asks for one before posting there
 * (`needed`, approvalPlan's), and no editor approved this video for it (the last publish-stage decision covering the
 * platform said yes). A platform an editor rejected is asked again: the operator asking to post is not the editor
 * saying yes. Nor is a post already there: made before the policy asked (a policy made stricter since, after an
 * incident), it let `--again` put a second public copy up that no editor had seen.
 */
export function postsNeedingApproval(
  platforms: readonly PublishPlatform[],
  needed: readonly PublishPlatform[],
  history: DecisionHistory,
): PublishPlatform[] {
  return platforms.filter((p) => needed.includes(p) && lastPublishDecision(history, p) !== 'approve');
}
