/**
 * One publishing activity for Instagram, TikTok and YouTube: registered on each
 * platform's task queue, it runs createUpload -> status -> publish with the
 * upload handle recorded before polling, and never publishes a handle twice.
 */
import type { PublishPlatform } from '../config/providers';
import { createVideoStore, type VideoStore } from '../archive/store';
import { ProviderError, quotaExhausted } from '../providers/errors';
import { QUOTA_RECHECK_MS, reportJobQuota } from '../gate/quotas';
import type { ActivityDeps } from './deps';
import { ApprovalRequiredError } from '../shared/errors';
import { approvalsMissing } from './approval';
import { runProviderJob } from './provider-job';
import { startMetricsOfPosts } from './queue-sync';
import { sleep } from '../shared/sleep';

/** A publisher that can say how much of its posting quota is used (Instagram's content_publishing_limit). */
interface QuotaReporting {
  getPublishingLimit(): Promise<{ used: number; limit: number }>;
  /** When the next post leaves the moving window (null: cannot tell). */
  publishingLimitResetAt?(): Promise<Date | null>;
}
const reportsQuota = (p: object): p is QuotaReporting => typeof (p as Partial<QuotaReporting>).getPublishingLimit === 'function';

export interface PublishInput {
  jobId: string;
  platform: PublishPlatform;
  videoUrl: string;
  title: string;
  caption: string;
  /** A reel's cover frame (Instagram's cover_url, YouTube's thumbnails.set). */
  coverUrl?: string;
  /** Where the cover frame is in the video (TikTok's video_cover_timestamp_ms). */
  coverAtMs?: number;
  /**
   * Our copy (video_assets.storage_key): the platform gets a URL signed now, when the post is made (a post may wait
   * days for its slot or an approval), instead of videoUrl. YouTube's upload reads the bytes through the same URL.
   */
  archiveKey?: string;
}

export interface PublishedPost {
  platform: PublishPlatform;
  postId: string;
  url?: string;
}

/** How long a post's attempt waits for its metrics series to start (a fraction of the heartbeat timeout). */
const METRICS_START_WAIT_MS = 3_000;

export function createPublishActivities(deps: ActivityDeps, store: VideoStore = createVideoStore(deps.env)) {
  return {
    async publishVideo(input: PublishInput): Promise<PublishedPost> {
      const made = await post(input);
      // Live from now, measured from now: its idea may end days later (another platform waiting for its editor) or
      // never. The idea's end starts whatever this could not (Temporal away or slow): the post is made either way, and
      // its attempt, no longer heartbeating, must not wait on Temporal past its heartbeat timeout (a post that is live
      // recorded as failed on a last attempt).
      const started = startMetricsOfJob(deps, input.jobId).catch((err: unknown) =>
        deps.log.warn({ err, jobId: input.jobId }, 'could not start the metrics series of a post; its idea ends by starting it'),
      );
      await Promise.race([started, sleep(METRICS_START_WAIT_MS)]);
      return made;
    },
  };

  function post(input: PublishInput): Promise<PublishedPost> {
    return runProviderJob(deps, input.jobId, input.platform, async (ctx) => {
      const publisher = deps.providers[input.platform];
      // A new post (not one whose request went out already): the policy may have been made stricter while it waited.
      if (!ctx.job.providerTaskId && !ctx.job.submitAttemptedAt)
        await refuseUnapproved(deps, input.jobId, ctx.job.recommendationId, input.platform);
      if (!ctx.job.providerTaskId && reportsQuota(publisher)) await checkPublishingLimit(deps, input, publisher);
      // A cover the platform would not set (YouTube sets it in a second call) does not fail the post: see below.
      const made: { coverError?: string } = {};
      const handle = await ctx.submitOnce(
        async () =>
          Object.assign(
            made,
            await publisher.createUpload({
              videoUrl: input.archiveKey ? await signedCopy(input.platform, store, input.archiveKey, deps) : input.videoUrl,
              caption: input.caption,
              title: input.title,
              ...(input.coverUrl ? { coverUrl: input.coverUrl } : {}),
              ...(input.coverAtMs !== undefined ? { coverAtMs: input.coverAtMs } : {}),
            }),
          ).handle,
      );
      if (made.coverError) await reportCoverNotSet(deps, input, made.coverError);
      // Checking status first also covers a retry after a publish call whose answer was lost.
      const status = await ctx.poll(
        () => countedRead(deps, input.jobId, publisher.statusReadUnits, () => publisher.getStatus(handle)),
        (s) => s.state !== 'processing',
      );
      switch (status.state) {
        case 'published':
          return { value: { platform: input.platform, postId: status.postId, url: status.url } };
        case 'ready': {
          const post = await publisher.publish(handle);
          return { value: { platform: input.platform, postId: post.postId, url: post.url } };
        }
        case 'expired':
          await ctx.discardProviderTask();
          throw new ProviderError(input.platform, 'transient', `upload ${handle} expired before publishing; a new one will be created`);
        case 'failed': {
          const failure =
            publisher.statusError?.(handle, status) ??
            new ProviderError(input.platform, 'permanent', `upload ${handle} failed: ${status.message}`, { code: status.code });
          // Refused for a spent quota, nothing was posted: the job waits in line for the reset, then uploads anew.
          if (failure.kind === 'quota_exhausted') await ctx.discardProviderTask();
          throw failure;
        }
        default:
          throw new ProviderError(input.platform, 'malformed', `unexpected upload state ${(status as { state: string }).state}`);
      }
    });
  }
}

/** The metrics series of the post this publish job made (and any other its idea made that has none yet). */
async function startMetricsOfJob(deps: ActivityDeps, jobId: string): Promise<void> {
  if (deps.env.REELFLOW_METRICS_READS.length === 0) return;
  const { rows } = await deps.database.pool.query<{ recommendation_id: string | null }>(
    'SELECT recommendation_id FROM automation_queue WHERE id = $1',
    [jobId],
  );
  const recommendationId = rows[0]?.recommendation_id;
  if (recommendationId) await startMetricsOfPosts(deps, recommendationId);
}

/** Our copy's URL for the platform, signed now; a store that cannot sign it fails the attempt before any call. */
async function signedCopy(platform: PublishPlatform, store: VideoStore, key: string, deps: ActivityDeps): Promise<string> {
  try {
    return await store.signedUrl(key, deps.env.REELFLOW_SIGNED_URL_SECONDS);
  } catch (err) {
    throw new ProviderError(platform, 'transient', `could not sign the URL of our copy ${key}: ${(err as Error).message}`, {
      unsent: true,
    });
  }
}

/**
 * A status read that reached the platform spends `units` of its per-call quota (YouTube: ~24 a Short at one read
 * every 5 s): added to the job's take, so the gate counts them before Google does. A read that never got an answer
 * spent nothing; a failed write costs a warning, never the post.
 */
async function countedRead<T>(deps: ActivityDeps, jobId: string, units: number | undefined, read: () => Promise<T>): Promise<T> {
  if (!units) return read();
  const spend = () =>
    deps.database.pool
      .query('SELECT spend_quota($1, $2)', [jobId, units])
      .catch((err) => deps.log.warn({ err, jobId }, 'could not count a status read against the quota'));
  try {
    const status = await read();
    await spend();
    return status;
  } catch (err) {
    if (err instanceof ProviderError && err.details.status !== undefined) await spend();
    throw err;
  }
}

/**
 * A post leaves only with the yes the policy asks for now. Its workflow read the policy before the post joined its
 * platform's line, where it may wait a day (a spent daily cap) or a week (a P3): a policy made stricter meanwhile (an
 * incident, a worker restarted with REELFLOW_APPROVAL_POLICY) must reach it. Refused, it is not made, the quota it took
 * is given back, and its idea names `reelflow republish`, which asks the editor.
 */
async function refuseUnapproved(deps: ActivityDeps, jobId: string, recommendationId: string | null, platform: PublishPlatform) {
  if (!recommendationId) return;
  const missing = await approvalsMissing(deps.database.pool, deps.env.REELFLOW_APPROVAL_POLICY, recommendationId, [platform]);
  if (missing.length === 0) return;
  await deps.database.pool.query('SELECT refund_quota($1, true)', [jobId]);
  throw new ApprovalRequiredError(
    `${platform}: the approval policy now asks an editor's yes before posting on ${platform}, and no editor approved this ` +
      `video for it: not posted. \`reelflow republish ${recommendationId} --platform ${platform}\` asks for it.`,
  );
}

/** The video is up without our cover: a warning and a job event (cover_not_set); the post goes on. */
async function reportCoverNotSet(deps: ActivityDeps, input: PublishInput, reason: string): Promise<void> {
  deps.log.warn({ jobId: input.jobId, platform: input.platform, reason }, 'the cover frame is not set; posting without it');
  const detail = JSON.stringify({ platform: input.platform, reason });
  await deps.database.pool
    .query(`SELECT log_job_event($1, 'cover_not_set', $2::jsonb)`, [input.jobId, detail])
    .catch((err) => deps.log.warn({ err, jobId: input.jobId }, 'could not record cover_not_set'));
}

/**
 * Before a new post: the platform's own count of posts in its window (posts
 * made outside Reelflow count too) is recorded for the gate, and a full window
 * sends the job back in line (quota_exhausted) instead of asking for a refusal.
 * A failed read is no reason not to post: our own count still holds.
 */
async function checkPublishingLimit(deps: ActivityDeps, input: PublishInput, publisher: QuotaReporting): Promise<void> {
  let reading: { used: number; limit: number };
  try {
    reading = await publisher.getPublishingLimit();
  } catch (err) {
    deps.log.warn({ err, jobId: input.jobId }, 'could not read the publishing limit; posting on our own count');
    return;
  }
  // Reconciling is advice: a failed write must not fail the post.
  await reportJobQuota(deps.database.pool, input.jobId, { remaining: reading.limit - reading.used, limit: reading.limit }).catch((err) =>
    deps.log.warn({ err, jobId: input.jobId }, 'could not record the publishing limit reading'),
  );
  if (reading.used < reading.limit) return;
  const resetAt = (await publisher.publishingLimitResetAt?.().catch(() => null)) ?? new Date(Date.now() + QUOTA_RECHECK_MS);
  throw quotaExhausted(input.platform, `content_publishing_limit: ${reading.used} of ${reading.limit} posts used in the window`, {
    resetAt,
  });
}
