/**
 * Post-publication metrics activities.
 *
 * - the read lines' queues (instagram_graph / tiktok_data / youtube_data, metricsProvider): readPostMetrics, one
 *   automation_queue job run through runProviderJob under that read API's cap, spacing and quotas (a YouTube read
 *   spends a unit of youtube_api_units). Also on the publishing queues, for a read scheduled there before the
 *   reads had lines of their own. A post the platform no longer has is an answer, not a failure: the job completes
 *   with `gone` and the series ends.
 * - base queue: the metrics job's row and the reading's row (src/services/post-metrics.ts).
 */
import { METRICS_JOB_TYPE, type Provider, type PublishPlatform } from '../config/providers';
import { isPostGone } from '../providers/errors';
import type { PostMetrics } from '../providers/types';
import { assertRecommendationKept, recordPostMetrics, type RecordPostMetricsInput } from '../services/post-metrics';
import type { ActivityDeps } from './deps';
import { classified } from './failures';
import { runProviderJob } from './provider-job';
import { closeWorkflowJobs, enqueueJob } from '../db/queries';
import type { Job } from '../db/schema';

export type MetricsReading = { at: string; gone: false; metrics: PostMetrics } | { at: string; gone: true; reason: string };

/** Activities for the read lines' workers (and the publishing platforms', see above). */
export function createMetricsProviderActivities(deps: ActivityDeps) {
  return {
    async readPostMetrics(input: { jobId: string; platform: PublishPlatform; postId: string }): Promise<MetricsReading> {
      // The line the job was enqueued in, whichever queue this attempt was scheduled on: a read enqueued before reads
      // had lines of their own waits in its publishing platform's.
      const line = (job: Job) => job.apiProvider as Provider;
      return runProviderJob<MetricsReading>(deps, input.jobId, line, async (ctx) => {
        try {
          const metrics = await ctx.call(() => deps.providers[input.platform].readMetrics(input.postId));
          return { value: { at: new Date().toISOString(), gone: false, metrics } };
        } catch (err) {
          if (isPostGone(err)) return { value: { at: new Date().toISOString(), gone: true, reason: (err as Error).message } };
          throw err;
        }
      });
    },
  };
}

/** Activities for the base worker. */
export function createMetricsBaseActivities(deps: ActivityDeps) {
  const { pool } = deps.database;
  return {
    /**
     * One job per read (`metrics:<offset>` of the post's workflow), P3: a read never delays making or posting a
     * video. Not tied to the recommendation's row, so its job list and plan stay those of making the video.
     */
    enqueueMetricsJob(input: {
      workflowId: string;
      runId: string;
      recommendationId: string;
      platform: PublishPlatform;
      postId: string;
      offsetSeconds: number;
    }): Promise<string> {
      return classified(async () => {
        // Before the read is enqueued (a quota unit, a slot): its reading would have no row to belong to.
        await assertRecommendationKept(pool, input.recommendationId);
        const jobType = METRICS_JOB_TYPE[input.platform];
        const job = await enqueueJob(pool, deps.limits, {
          workflowId: input.workflowId,
          step: `metrics:${input.offsetSeconds}`,
          jobType,
          priority: 'P3',
          jobConfig: { recommendationId: input.recommendationId, postId: input.postId },
          runId: input.runId,
          // Given up past it (the next timer reads again), not timed out and tried again for hours behind a spent quota.
          deadline: new Date(Date.now() + deps.env.REELFLOW_METRICS_READ_WAIT_SECONDS * 1_000),
        });
        return job.id;
      });
    },

    /**
     * A read the workflow gave up on (its slot never came within the wait budget, every attempt failed): its job
     * is closed, not left in line for a slot nobody will use.
     */
    closeMetricsJobs(input: { workflowId: string; reason: string }): Promise<void> {
      return classified(async () => {
        await closeWorkflowJobs(pool, [input.workflowId], input.reason);
      });
    },

    recordPostMetrics(input: RecordPostMetricsInput): Promise<void> {
      return classified(() => recordPostMetrics(pool, input));
    },
  };
}
