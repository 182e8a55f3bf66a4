/**
 * Workflow type names and workflow ids, defined once. Each id has one prefix
 * constant used by its builder and (where ids are parsed back) its parser, so
 * the two cannot drift. No Node imports (workflow sandbox).
 */

export const RECOMMENDATION_WORKFLOW = 'recommendationWorkflow';
export const COMPETITOR_VIDEO_WORKFLOW = 'competitorVideoWorkflow';
export const RECOMMENDATION_GENERATION_WORKFLOW = 'recommendationGenerationWorkflow';
export const DAILY_BARGAINS_WORKFLOW = 'dailyBargainsWorkflow';
export const NOTIFICATION_WORKFLOW = 'notificationWorkflow';
export const CAPACITY_WORKFLOW = 'capacityWorkflow';
export const PLAYER_SYNC_WORKFLOW = 'playerSyncWorkflow';

const RECOMMENDATION_WORKFLOW_ID_PREFIX = 'recommendation-';

/** One workflow per recommendation: `recommendation-<uuid>`. */
export function recommendationWorkflowId(recommendationId: string): string {
  return `${RECOMMENDATION_WORKFLOW_ID_PREFIX}${recommendationId}`;
}

/**
 * The recommendation id an operator gave: the id itself or its workflow id
 * (`recommendation-<uuid>`, as the Web UI and `temporal` CLI show it). Only the
 * prefix is removed; the caller validates what remains.
 */
export function parseRecommendationWorkflowId(idOrWorkflowId: string): string {
  const id = idOrWorkflowId.trim();
  return id.startsWith(RECOMMENDATION_WORKFLOW_ID_PREFIX) ? id.slice(RECOMMENDATION_WORKFLOW_ID_PREFIX.length) : id;
}

/** The capacity workflow of a deployment (one per base task queue): `reelflow-capacity` by default. */
export function capacityWorkflowId(baseTaskQueue: string): string {
  return `${baseTaskQueue}-capacity`;
}

/** One notification workflow per event key, so an event raised twice is delivered once. */
export function notificationWorkflowId(eventKey: string): string {
  return `notify-${eventKey}`;
}

/**
 * One workflow per competitor video: `competitor-video-<key>`, where the key is
 * a digest of the canonical URL (src/recommendations/ingest.ts computes it; the
 * hash needs Node, this module may not).
 */
export function competitorVideoWorkflowId(urlDigest: string): string {
  return `competitor-video-${urlDigest}`;
}

/**
 * The sync `reelflow players sync` starts: one id, so a second command while a sync
 * runs follows that one instead of spending the API quota twice. The daily
 * Schedule's runs have their own ids (the schedule id plus the scheduled time).
 */
export const PLAYER_SYNC_MANUAL_WORKFLOW_ID = 'player-sync-manual';

export const COMPETITOR_DISCOVERY_WORKFLOW = 'competitorDiscoveryWorkflow';
export const COMPETITOR_VIEWS_WORKFLOW = 'competitorViewsWorkflow';

/** One views workflow per competitor video, keyed like its competitor-video workflow: `competitor-views-<key>`. */
export function competitorViewsWorkflowId(urlDigest: string): string {
  return `competitor-views-${urlDigest}`;
}

/** A check of one channel asked for by an operator (`reelflow competitor check`): `competitor-check-<channel id>-<ms>`. */
export function competitorCheckWorkflowId(channelId: string, at: number): string {
  return `competitor-check-${channelId}-${at}`;
}

export const POST_METRICS_WORKFLOW = 'postMetricsWorkflow';

/** postMetricsWorkflowId's prefix, for SQL that names a series' jobs by its workflow id. */
export const POST_METRICS_WORKFLOW_ID_PREFIX = 'post-metrics-';

/**
 * One metrics series per published post: `post-metrics-<platform>-<post id>`, started with REJECT_DUPLICATE, so a
 * retried markPublished (or a second start of any kind) never reads a post twice at the same age.
 */
export function postMetricsWorkflowId(platform: string, postId: string): string {
  return `${POST_METRICS_WORKFLOW_ID_PREFIX}${platform}-${postId}`;
}

export const REPUBLISH_WORKFLOW = 'republishWorkflow';
const REPUBLISH_WORKFLOW_ID_PREFIX = 'republish-';

/**
 * A recommendation's n-th republish (`reelflow republish`): `republish-<uuid>-<n>`. Its publish jobs are keyed by
 * this id, so each republish posts anew; started with a reuse policy that refuses the id while that run is open.
 */
export function republishWorkflowId(recommendationId: string, n: number): string {
  return `${REPUBLISH_WORKFLOW_ID_PREFIX}${recommendationId}-${n}`;
}

/**
 * A post the platform made though its publish job failed, recorded instead of posted again (`reelflow republish
 * --post`): `republish-<uuid>-<platform>-post`, one at a time per platform (a second while it runs is refused).
 * It plans no publish job, so the n of the next republish does not count it.
 */
export function adoptPostWorkflowId(recommendationId: string, platform: string): string {
  return `${REPUBLISH_WORKFLOW_ID_PREFIX}${recommendationId}-${platform}-post`;
}

/** Whether `workflowId` is one of this recommendation's republishes (an approval waiting in it is routed there). */
export function isRepublishOf(recommendationId: string, workflowId: string): boolean {
  return workflowId.startsWith(`${REPUBLISH_WORKFLOW_ID_PREFIX}${recommendationId}-`);
}

/** The LIKE pattern of every republish workflow id of a recommendation. */
export function republishWorkflowIdPattern(recommendationId: string): string {
  return `${REPUBLISH_WORKFLOW_ID_PREFIX}${recommendationId}-%`;
}
