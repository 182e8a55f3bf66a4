/**
 * The database side of `reelflow republish` (base task queue): plan the posts of an archived video again (new
 * publish jobs under the republish workflow's id, so each goes through the gate like the first publish), then
 * record the recommendation's status they lead to and start the metrics series of the new posts. Nothing here
 * renders or downloads: the posts read our copy (video_assets). `adoptPost` records a post the platform made
 * though its job failed (`reelflow republish --post`), in place of a new one.
 */
import { sql } from 'drizzle-orm';
import { createVideoStore, type VideoStore } from '../archive/store';
import { clearApprovalWaitingIn, closeWorkflowJobs } from '../db/queries';
import type { Priority } from '../config/priorities';
import { PUBLISH_JOB_TYPE, type PublishPlatform } from '../config/providers';
import { postCaption } from '../content/caption';
import { BadInputError } from '../shared/errors';
import type { ApprovalReview } from '../shared/messages';
import { OPEN_RECOMMENDATION_STATUSES } from '../shared/statuses';
import { recommendationWorkflowId } from '../shared/workflow-ids';
import { notPublishedOn, readPublishState } from '../services/publish-state';
import type { PublishedPost } from './publish';
import type { ActivityDeps } from './deps';
import { approvalsMissing } from './approval';
import { classified } from './failures';
import { createQueueSyncActivities, startMetricsOfPosts } from './queue-sync';

export interface RepublishPlan {
  title: string;
  caption: string;
  priority: Priority;
  /** Our copy's storage key: each post gets a freshly signed URL to it. */
  archiveKey: string;
  /** Where the copy came from (KIE's result URL or our reel): the fallback a publisher never needs. */
  sourceUrl: string;
  coverUrl?: string;
  coverAtMs?: number;
  jobs: Array<{ platform: PublishPlatform; jobId: string }>;
  /**
   * The platforms (of those asked) whose post waits for an editor first (postsNeedingApproval), with what the editor
   * reviews; absent when none does.
   */
  approval?: { platforms: PublishPlatform[]; review: Omit<ApprovalReview, 'stage' | 'requestedAt' | 'platforms' | 'workflowId'> };
}

/** How long the card's link to our copy plays: the longest a presigned S3 URL may live (env.ts caps the posts' too). */
const REVIEW_URL_SECONDS = 604_800;

export interface PlanRepublishInput {
  recommendationId: string;
  platforms: PublishPlatform[];
  /** The republish workflow's: its publish jobs are keyed by it. */
  workflowId: string;
  runId: string;
}

export interface AdoptPostInput {
  recommendationId: string;
  platform: PublishPlatform;
  postId: string;
  by: string;
  /** Why the platform could not confirm the post (the operator's word stands): kept in the `adopted` event. */
  unchecked?: string;
}

export function createRepublishActivities(deps: ActivityDeps, store: VideoStore = createVideoStore(deps.env)) {
  const { pool } = deps.database;
  const queue = createQueueSyncActivities(deps);

  /**
   * The recommendation's status over every post it has now (published everywhere, or partially_published with
   * each platform still missing), then the metrics series of the new posts (REJECT_DUPLICATE: none twice).
   */
  async function recordPosts(recommendationId: string): Promise<'published' | 'partially_published' | 'failed'> {
    const state = await readPublishState(pool, recommendationId);
    const status = state.failed.length === 0 ? 'published' : state.published.length ? 'partially_published' : 'failed';
    const error = notPublishedOn(state.failed);
    await pool.query(
      `UPDATE competitive_recommendations
            SET status = $2, error = $3, published_at = coalesce(published_at, CASE WHEN $2 <> 'failed' THEN now() END),
                updated_at = now()
          WHERE id = $1 AND status <> ALL($4::text[])`,
      // An idea open again (a retry's run) has its status written by that run.
      [recommendationId, status, error, OPEN_RECOMMENDATION_STATUSES],
    );
    await startMetricsOfPosts(deps, recommendationId);
    return status;
  }

  const resultOf = async (recommendationId: string, step: string) => {
    const { rows } = await pool.query<{ result: Record<string, unknown> | null }>(
      `SELECT result FROM automation_queue WHERE workflow_id = $1 AND step = $2 AND status = 'completed'`,
      [recommendationWorkflowId(recommendationId), step],
    );
    return rows[0]?.result ?? null;
  };

  async function plan(input: PlanRepublishInput) {
    const { recommendationId } = input;
    const { rows: assets } = await pool.query<{ storage_key: string; source_url: string }>(
      'SELECT storage_key, source_url FROM video_assets WHERE recommendation_id = $1',
      [recommendationId],
    );
    if (!assets[0]) throw new BadInputError(`recommendation ${recommendationId} has no archived video to republish`);
    const { rows: recs } = await pool.query<{ title: string; priority: Priority; job_config: { caption?: string } }>(
      'SELECT title, priority, job_config FROM competitive_recommendations WHERE id = $1',
      [recommendationId],
    );
    const rec = recs[0]!;
    // The brief the first publish used (the analyze job's result): the same title and caption again.
    const brief = (await resultOf(recommendationId, 'analyze')) as {
      title?: string;
      caption?: string;
      hashtags?: string[];
      videoPrompt?: string;
    } | null;
    const cut = await resultOf(recommendationId, 'assemble');
    const rows = await queue.enqueuePlan(
      input.platforms.map((platform) => ({
        workflowId: input.workflowId,
        runId: input.runId,
        recommendationId,
        step: `publish:${platform}`,
        jobType: PUBLISH_JOB_TYPE[platform],
        priority: rec.priority,
        jobConfig: rec.job_config as Record<string, unknown>,
        scheduleAfter: null,
        deadline: null,
      })),
    );
    const title = brief?.title ?? rec.title;
    const caption = postCaption(rec.job_config.caption, { caption: brief?.caption ?? rec.title, hashtags: brief?.hashtags ?? [] });
    // The policy the idea's own workflow followed (this worker's REELFLOW_APPROVAL_POLICY and its jobConfig.approval).
    const waiting = await approvalsMissing(pool, deps.env.REELFLOW_APPROVAL_POLICY, recommendationId, input.platforms);
    return {
      title,
      caption,
      priority: rec.priority,
      archiveKey: assets[0].storage_key,
      sourceUrl: assets[0].source_url,
      ...(typeof cut?.coverUrl === 'string' ? { coverUrl: cut.coverUrl } : {}),
      ...(typeof cut?.coverAtMs === 'number' ? { coverAtMs: cut.coverAtMs } : {}),
      jobs: input.platforms.map((platform, i) => ({ platform, jobId: rows[i]!.id })),
      ...(waiting.length
        ? {
            approval: {
              platforms: waiting,
              review: {
                title,
                caption,
                videoPrompt: brief?.videoPrompt ?? null,
                videoUrl: await store.signedUrl(assets[0].storage_key, REVIEW_URL_SECONDS),
              },
            },
          }
        : {}),
    } satisfies RepublishPlan;
  }

  return {
    async planRepublish(input: PlanRepublishInput): Promise<RepublishPlan> {
      return classified(() => plan(input));
    },

    /** The recommendation's status over every post it has now, and the series of the new posts (recordPosts). */
    async recordRepublished(input: { recommendationId: string }): Promise<'published' | 'partially_published' | 'failed'> {
      return recordPosts(input.recommendationId);
    },

    /**
     * The post recorded on the platform's last failed publish job, whose outcome was wrong (the platform did post):
     * completed with the post as its result, and an `adopted` event keeping who said so and what it failed with
     * (its failure events stay in job_events). Idempotent: a retried call finds the post recorded and changes nothing.
     */
    async adoptPost(input: AdoptPostInput): Promise<PublishedPost> {
      const { recommendationId, platform, postId } = input;
      const post: PublishedPost = { platform, postId };
      const step = `publish:${platform}`;
      return classified(() =>
        deps.database.db.transaction(async (tx) => {
          const { rows: done } = await tx.execute(
            sql`SELECT 1 FROM automation_queue WHERE recommendation_id = ${recommendationId} AND step = ${step}
                   AND status = 'completed' AND result->>'postId' = ${postId}`,
          );
          if (done.length) return post;
          const { rows } = await tx.execute<{ id: string; error: string | null }>(
            sql`SELECT id, error FROM automation_queue WHERE recommendation_id = ${recommendationId} AND step = ${step}
                   AND status = 'failed' ORDER BY created_at DESC LIMIT 1 FOR UPDATE`,
          );
          const job = rows[0];
          if (!job) throw new BadInputError(`recommendation ${recommendationId} has no failed ${platform} post to record ${postId} on`);
          // Its end stays when the attempt ended (about when the post went out): the metrics' ages count from it.
          await tx.execute(
            sql`UPDATE automation_queue SET status = 'completed', result = ${JSON.stringify(post)}::jsonb, error = NULL,
                       completed_at = coalesce(completed_at, now()), stuck_since = NULL, waiting_since = NULL, updated_at = now()
                 WHERE id = ${job.id}`,
          );
          const detail = { by: input.by, postId, failedWith: job.error, ...(input.unchecked ? { unchecked: input.unchecked } : {}) };
          await tx.execute(sql`SELECT log_job_event(${job.id}::uuid, 'adopted', ${JSON.stringify(detail)}::jsonb)`);
          return post;
        }),
      );
    },

    /**
     * A republish that ends early (cancelled, failed) closes the jobs it planned, so none waits in a line forever, and
     * the approval it waited for, so no dashboard offers buttons nobody listens to.
     */
    async closeRepublishJobs(input: { recommendationId: string; workflowId: string; reason: string }): Promise<void> {
      // Cancelled (or failed) after a platform posted: that post is live, so it counts in the idea's status and is
      // measured. Its series was started only by recordRepublished, at a republish's end: it was never measured.
      const { rows } = await pool.query(
        `SELECT 1 FROM automation_queue WHERE workflow_id = $1 AND step LIKE 'publish:%' AND status = 'completed' LIMIT 1`,
        [input.workflowId],
      );
      if (rows.length) await recordPosts(input.recommendationId);
      await closeWorkflowJobs(pool, [input.workflowId], input.reason);
      await clearApprovalWaitingIn(pool, input.recommendationId, input.workflowId);
    },
  };
}
