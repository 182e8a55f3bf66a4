/**
 * `reelflow republish <id> [--platform P [--again]]` (CLI, API, dashboard): an archived video posted again without a
 * new render. With a platform, a new post there (where the idea is posted already, a second copy: only with --again);
 * without, the platforms whose posts failed (a partial publish). Everything is checked before anything starts: an
 * unknown id, no archived video, a platform not in the list, a platform posted on without --again, nothing failed to
 * retry, a recommendation still in production, a republish already running.
 *
 * `--platform P --post <postId>`: the platform made the post though our record says it failed (a worker lost inside
 * the request leaves its outcome unknown; posting again would post twice). The post is read on the platform first
 * (it must be a live post of our account), then recorded on the failed job by a republish workflow of its own, which
 * sets the status and starts the post's metrics series as a publish does.
 */
import { isPublishPlatform, PUBLISH_PLATFORMS, type PublishPlatform } from '../config/providers';
import type { Recommendation } from '../db/schema';
import { isPostGone, ProviderError } from '../providers/errors';
import { ApiError, BadInputError, ConflictError } from '../shared/errors';
import { adoptPostWorkflowId, REPUBLISH_WORKFLOW, republishWorkflowId, republishWorkflowIdPattern } from '../shared/workflow-ids';
import { startWorkflowOnce } from '../temporal/client';
import type { RepublishInput } from '../workflows/republish';
import { readPublishState, readUnknownPosts, runningRepublishQuery } from './publish-state';
import { checkingClient } from './checking-client';
import type { ServiceDeps } from './recommendations';

/** Statuses whose video was made and posted (or tried): the ones a republish may follow. */
const REPUBLISHABLE = ['published', 'partially_published', 'failed'];

export interface RepublishStarted {
  recommendationId: string;
  workflowId: string;
  platforms: PublishPlatform[];
  /** The post recorded instead of a new one (`--post`). */
  adopted?: string;
  /** Why the platform could not confirm that post (its read API does not show our private posts): the operator's word. */
  unchecked?: string;
}

/** What a post id looks like on each platform (the id in the post's URL), so a typo is refused before any request. */
const POST_ID: Record<PublishPlatform, { pattern: RegExp; what: string }> = {
  instagram: { pattern: /^\d{1,32}$/, what: 'the media id (digits)' },
  tiktok: { pattern: /^\d{1,32}$/, what: "the video id (digits, from the video's URL)" },
  youtube: { pattern: /^[A-Za-z0-9_-]{11}$/, what: "the 11-character video id (from the video's URL)" },
};

export function createRepublishCommands(deps: ServiceDeps, resolve: (ref: string) => Promise<Recommendation>) {
  const { pool } = deps.database;
  return {
    async republish(ref: string, opts: { platform?: string; post?: string; again?: boolean; by: string }): Promise<RepublishStarted> {
      const { platform } = opts;
      if (platform !== undefined && !isPublishPlatform(platform)) {
        throw new BadInputError(`platform must be one of ${PUBLISH_PLATFORMS.join(', ')} (got ${JSON.stringify(platform)})`);
      }
      if (opts.again && opts.post !== undefined) {
        throw new BadInputError('again: --post records a post the platform made, --again makes a second one; not both');
      }
      if (opts.again && !platform) throw new BadInputError('again: name the platform to post a second copy on (--platform)');
      if (opts.post !== undefined) return adoptPost(ref, platform, opts.post, opts.by);
      const rec = await resolve(ref);
      if (!REPUBLISHABLE.includes(rec.status)) {
        throw new ConflictError(
          `recommendation ${rec.id} is ${rec.status}: only a published, partially published or failed one is republished`,
        );
      }
      // A platform it is posted on gets a second public copy: only on the operator's explicit word, never by one click.
      const live = platform && !opts.again ? await recordedPost(rec.id, platform) : null;
      if (live) {
        throw new ConflictError(
          `platform: ${rec.id} is posted on ${platform} already (post ${live}); \`--again\` posts a second copy there ` +
            `(API: "again": true)`,
        );
      }
      const { rows: assets } = await pool.query('SELECT 1 FROM video_assets WHERE recommendation_id = $1', [rec.id]);
      if (!assets.length) {
        throw new BadInputError(`recommendation ${rec.id} has no archived video (video_assets): nothing to republish without a new render`);
      }
      const state = await readPublishState(pool, rec.id);
      const platforms = platform ? [platform] : state.failed.map((f) => f.platform);
      // Named, a platform is the operator's word that the post is not there; unnamed, it would post twice where it is.
      const unknown = platform ? [] : await readUnknownPosts(pool, rec.id);
      if (unknown.length) {
        const p = unknown[0]!;
        throw new BadInputError(
          `platform: the ${unknown.join(' and ')} post's request died unanswered, so it may be live: ` +
            `look on ${p}, then \`reelflow republish ${rec.id} --platform ${p} --post <postId>\` records it, or ` +
            `\`--platform ${p}\` alone posts it again`,
        );
      }
      if (!platforms.length) {
        throw new BadInputError(
          `platform: nothing failed to retry (${rec.id} is posted on ${state.published.join(', ') || 'none'}); name one with --platform`,
        );
      }
      const pattern = republishWorkflowIdPattern(rec.id);
      const { rows: open } = await deps.database.db.execute(runningRepublishQuery(rec.id));
      if (open[0]) throw new ConflictError(`a republish of ${rec.id} is running (${open[0].workflow_id}); wait for it to end`);
      const { rows: done } = await pool.query<{ n: number }>(
        `SELECT count(DISTINCT workflow_id)::int AS n FROM automation_queue WHERE recommendation_id = $1 AND workflow_id LIKE $2`,
        [rec.id, pattern],
      );
      const workflowId = republishWorkflowId(rec.id, done[0]!.n + 1);
      const input: RepublishInput = { recommendationId: rec.id, platforms, requestedBy: opts.by };
      const fresh = await startWorkflowOnce(deps.client, REPUBLISH_WORKFLOW, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [input],
        // Refused while that run is open (two requests at once); a run that failed before planning may be retried.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        staticSummary: `Republish: ${rec.title}`.slice(0, 200),
      });
      if (!fresh) throw new ConflictError(`a republish of ${rec.id} is running (${workflowId})`);
      return { recommendationId: rec.id, workflowId, platforms };
    },
  };

  /** The post a platform last made of the idea (a completed publish job's), or null. */
  async function recordedPost(recommendationId: string, platform: PublishPlatform): Promise<string | null> {
    const { rows } = await pool.query<{ post: string | null }>(
      `SELECT result->>'postId' AS post FROM automation_queue
        WHERE recommendation_id = $1 AND step = $2 AND status = 'completed' ORDER BY completed_at DESC NULLS LAST LIMIT 1`,
      [recommendationId, `publish:${platform}`],
    );
    return rows[0] ? (rows[0].post ?? 'id not recorded') : null;
  }

  async function adoptPost(ref: string, platform: PublishPlatform | undefined, post: string, by: string): Promise<RepublishStarted> {
    if (!platform) throw new BadInputError('platform: name the platform the post is on (--platform) with --post');
    const format = POST_ID[platform];
    if (typeof post !== 'string' || !format.pattern.test(post)) {
      throw new BadInputError(`post must be ${format.what} of the ${platform} post (got ${JSON.stringify(post)})`);
    }
    const rec = await resolve(ref);
    // Its own run still posting would record its outcome over the one recorded here.
    if (!REPUBLISHABLE.includes(rec.status)) {
      throw new ConflictError(`recommendation ${rec.id} is ${rec.status}: a post is recorded once its run has ended`);
    }
    const state = await readPublishState(pool, rec.id);
    if (!state.failed.some((f) => f.platform === platform)) {
      throw new BadInputError(
        `platform: ${rec.id} has no failed ${platform} post to record ${post} on (${rec.status}; posted on ` +
          `${state.published.join(', ') || 'none'}; failed on ${state.failed.map((f) => f.platform).join(', ') || 'none'})`,
      );
    }
    const { rows: open } = await pool.query<{ workflow_id: string }>(
      `SELECT workflow_id FROM automation_queue
        WHERE recommendation_id = $1 AND step = $2 AND status IN ('queued', 'processing') LIMIT 1`,
      [rec.id, `publish:${platform}`],
    );
    if (open[0]) throw new ConflictError(`a ${platform} post of ${rec.id} is being made (${open[0].workflow_id}); wait for it to end`);
    const { rows: taken } = await pool.query<{ recommendation_id: string }>(
      `SELECT recommendation_id FROM automation_queue
        WHERE api_provider = $1 AND step LIKE 'publish:%' AND status = 'completed' AND result->>'postId' = $2 LIMIT 1`,
      [platform, post],
    );
    if (taken[0]) throw new ConflictError(`post: ${platform} post ${post} is already recorded, for ${taken[0].recommendation_id}`);
    const unchecked = await checkOnPlatform(platform, post);
    const workflowId = adoptPostWorkflowId(rec.id, platform);
    const input: RepublishInput = {
      recommendationId: rec.id,
      platforms: [platform],
      requestedBy: by,
      adopt: { postId: post, ...(unchecked ? { unchecked } : {}) },
    };
    const fresh = await startWorkflowOnce(deps.client, REPUBLISH_WORKFLOW, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      // One at a time per platform (conflict: refused while it runs); the checks above guard a later one.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Record the ${platform} post ${post}: ${rec.title}`.slice(0, 200),
    });
    if (!fresh) throw new ConflictError(`the ${platform} post of ${rec.id} is being recorded (${workflowId})`);
    return { recommendationId: rec.id, workflowId, platforms: [platform], adopted: post, ...(unchecked ? { unchecked } : {}) };
  }

  /**
   * The post must be live on the platform, for this account: one read of its counts (the same call its metrics series
   * makes; outside the gate, as it is one request an operator asked for). Where the platform does not show our own
   * posts (TikTok's SELF_ONLY), one it does not find is taken on the operator's word, and why is returned: refused,
   * a post made unanswered could never be recorded, and the only way on posted it a second time.
   */
  async function checkOnPlatform(platform: PublishPlatform, post: string): Promise<string | undefined> {
    const publisher = checkingClient(deps.publisher && (() => deps.publisher!(platform)), 'post', platform);
    try {
      await publisher.readMetrics(post);
      return undefined;
    } catch (err) {
      if (isPostGone(err) && publisher.hidesOwnPosts) {
        return `${platform} shows only public posts to its API and ours are not public: recorded on the operator's word`;
      }
      if (isPostGone(err) || (err instanceof ProviderError && err.kind === 'permanent')) {
        throw new BadInputError(
          `post: ${platform} does not show post ${post} for this account (${(err as Error).message}); nothing changed`,
        );
      }
      throw new ApiError(502, `post: could not ask ${platform} about post ${post} (${(err as Error).message}); nothing changed, try again`);
    }
  }
}
