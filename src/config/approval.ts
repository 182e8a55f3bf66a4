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

export function approvalPlan(
  policy: ApprovalPolicy,
  source: string,
  platforms: readonly PublishPlatform[],
  requested: Partial<ApprovalPlan> = {},
): ApprovalPlan {
  // An unknown source (a row older than the list) is treated as the strictest one.
  const bySource = (RECOMMENDATION_SOURCES as readonly string[]).includes(source)
    ? policy.beforeRender[source as RecommendationSource]
    : true;
  const wanted = new Set(requested.beforePublish ?? []);
  return {
    beforeRender: bySource || requested.beforeRender === true,
    beforePublish: platforms.filter((p) => policy.beforePublish[p] || wanted.has(p)),
  };
}
