/**
 * What the Temporal Web UI and `temporal workflow describe` show for each of
 * our workflows besides its id: a one-line summary and a few lines of details
 * (the SDK's `staticSummary` / `staticDetails` start options, fixed at start).
 * Without them the UI lists only `recommendation-<uuid>`. No Node imports
 * (the notification child is started from workflow code).
 */
import { oneLine } from './one-line';

export interface WorkflowMetadata {
  staticSummary: string;
  staticDetails?: string;
}

/** The UI shows the summary on one line; a long title would push everything else out of view. */
const SUMMARY_MAX = 120;

function summary(text: string): string {
  return oneLine(text, SUMMARY_MAX);
}

function details(rows: Array<[string, string | number | null | undefined]>): string {
  // A Markdown list: the Web UI renders details as Markdown, where single newlines run together.
  return rows
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `- **${k}:** ${String(v)}`)
    .join('\n');
}

const iso = (d: Date | string | null | undefined) => (d instanceof Date ? d.toISOString() : (d ?? null));

export function recommendationWorkflowMetadata(rec: {
  id: string;
  title: string;
  recommendationType: string;
  priority: string;
  source: string;
  targetPlayer?: string | null;
  scheduleAfter?: Date | string | null;
  urgencyDeadline?: Date | string | null;
}): WorkflowMetadata {
  return {
    staticSummary: summary(`${rec.priority} ${rec.recommendationType}: ${rec.title}`),
    staticDetails: details([
      ['Title', rec.title],
      ['Type', rec.recommendationType],
      ['Priority', rec.priority],
      ['Source', rec.source],
      ['Target player', rec.targetPlayer],
      ['Not before', iso(rec.scheduleAfter)],
      ['Deadline', iso(rec.urgencyDeadline)],
      ['Recommendation id', rec.id],
    ]),
  };
}

export function competitorVideoWorkflowMetadata(video: { channel: string; title: string; url: string; views: number }): WorkflowMetadata {
  return {
    staticSummary: summary(`Competitor video (${video.channel}): ${video.title}`),
    staticDetails: details([
      ['Channel', video.channel],
      ['Title', video.title],
      ['Views', video.views],
      ['URL', video.url],
    ]),
  };
}

export function capacityWorkflowMetadata(baseTaskQueue: string): WorkflowMetadata {
  return {
    staticSummary: `Provider capacity of task queue ${baseTaskQueue}`,
    staticDetails: 'Answers the `capacity` query (a recent snapshot) and the `refreshCapacity` update (read now).',
  };
}

export function notificationWorkflowMetadata(request: { event: string; eventKey: string; text: string }): WorkflowMetadata {
  return {
    staticSummary: summary(`Notification (${request.event}): ${request.text.split('\n')[0] ?? ''}`),
    staticDetails: details([
      ['Event', request.event],
      ['Event key', request.eventKey],
    ]),
  };
}

/** The hourly run of the recommendation engine (a Schedule's action). */
export const RECOMMENDATION_GENERATION_METADATA: WorkflowMetadata = {
  staticSummary: 'Recommendation generation: competitor analyses to new video ideas',
};

/** The daily bargains run (a Schedule's action). */
export const DAILY_BARGAINS_METADATA: WorkflowMetadata = {
  staticSummary: "Daily bargains: today's best-value players to video ideas",
};

/** The API-Football player sync (the daily Schedule's action, or `reelflow players sync`). */
export const PLAYER_SYNC_METADATA: WorkflowMetadata = {
  staticSummary: 'Player sync: API-Football players, injuries and fixtures merged into the roster',
};

/** The competitor channels' check (a Schedule's action, or `reelflow competitor check`). */
export const COMPETITOR_DISCOVERY_METADATA: WorkflowMetadata = {
  staticSummary: 'Competitor discovery: new videos of the watched channels to analyses',
};

export function competitorViewsWorkflowMetadata(video: { channel: string; title: string; url: string }): WorkflowMetadata {
  return {
    staticSummary: summary(`Competitor views (${video.channel}): ${video.title}`),
    staticDetails: details([
      ['Channel', video.channel],
      ['URL', video.url],
    ]),
  };
}

export function postMetricsWorkflowMetadata(post: {
  platform: string;
  postId: string;
  title: string;
  recommendationId: string;
  publishedAt: string;
}): WorkflowMetadata {
  return {
    staticSummary: summary(`Metrics (${post.platform}): ${post.title}`),
    staticDetails: details([
      ['Platform', post.platform],
      ['Post', post.postId],
      ['Recommendation', post.recommendationId],
      ['Published', post.publishedAt],
    ]),
  };
}
