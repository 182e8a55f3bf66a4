/**
 * postMetricsWorkflow: one published post's metrics read as it ages (default +1 h, +6 h, +24 h, +72 h, +7 d after
 * publishing; REELFLOW_METRICS_READS), each read a job of the platform's read API through the gate (its cap,
 * spacing and quotas, P3), each reading a post_metrics row. Durable timers: a worker or Temporal restart in between
 * changes nothing, and a timer already past when the workflow resumes fires at once. The series ends after the
 * last read, or at the first read that finds the post gone (deleted, or no longer visible to our token), or when its
 * recommendation is no longer in the database (nothing to record against; it would retry for good). A read
 * that fails otherwise (a missing permission, a quota spent for the day) is logged and the series goes on.
 * Started once per post (src/services/post-metrics.ts), id postMetricsWorkflowId, by the publish activity once the post
 * is live, and by the step ending its idea for any the publish activity could not start.
 */
import * as wf from '@temporalio/workflow';
import { atOffsets, readActivities, READS_BASE_OPTIONS } from './timed-reads';
import {
  JOB_ESTIMATES_SECONDS,
  METRICS_HOUR_MS,
  METRICS_JOB_TYPE,
  METRICS_READ_WAIT_MS,
  metricsProvider,
  type PublishPlatform,
} from '../config/providers';
import { FAILURE_TYPES } from '../shared/messages';
import type { createMetricsBaseActivities, createMetricsProviderActivities, MetricsReading } from '../activities/metrics';

export interface PostMetricsInput {
  recommendationId: string;
  platform: PublishPlatform;
  postId: string;
  /** ISO-8601: the offsets count from here. */
  publishedAt: string;
  /** Seconds after publishing, ascending. */
  readsSeconds: number[];
  /** Real ms one hour of the post's age takes (REELFLOW_METRICS_HOUR_MS); absent: an hour. */
  hourMs?: number;
}

export interface PostMetricsResult {
  /**
   * complete: every timer read; post_gone: a read found the post gone, and the rest were not taken;
   * recommendation_gone: its recommendation is not in the database (RecommendationGoneError), so nothing more is read.
   */
  status: 'complete' | 'post_gone' | 'recommendation_gone';
  reason: string | null;
  reads: Array<{ offsetSeconds: number; at: string | null; views: number | null; error: string | null }>;
}

type Base = ReturnType<typeof createMetricsBaseActivities>;
type ProviderActs = ReturnType<typeof createMetricsProviderActivities>;

const base = wf.proxyActivities<Base>(READS_BASE_OPTIONS);

/** A reading this many times its nominal age late is not that age's count (skipped when the next timer is due). */
const OVERDUE_FACTOR = 3;

export async function postMetricsWorkflow(input: PostMetricsInput): Promise<PostMetricsResult> {
  const info = wf.workflowInfo();
  // The platform's read API's queue. Which queue an activity is scheduled on is not part of what a replay compares
  // (the recorded histories replay either way), so a series started earlier moves there too; a read already
  // scheduled on the publishing queue when the workers were updated is still served there (src/workers/workers.ts).
  const platform = readActivities<ProviderActs>(
    metricsProvider(input.platform),
    JOB_ESTIMATES_SECONDS[METRICS_JOB_TYPE[input.platform]],
    // A read may wait this long for a slot (its job's deadline gives it up first); the next timer makes a stale read pointless.
    METRICS_READ_WAIT_MS,
  );
  const reads: PostMetricsResult['reads'] = [];
  const msPerSecond = (input.hourMs ?? METRICS_HOUR_MS) / 3_600;
  // Histories from before read every overdue timer.
  const skipOverdue = wf.patched('skip-overdue-reads');
  try {
    for await (const offset of atOffsets(input.publishedAt, input.readsSeconds, msPerSecond)) {
      // A series that runs late (a post adopted days after it went up) finds several timers past at once: each read
      // would record today's counts under its own age, and a "+24 h" of day 3 inflates what the engine learns. A
      // timer whose next one is due too, read at over OVERDUE_FACTOR times its age, is marked not read instead (a
      // timer a short outage delayed is still read).
      const next = input.readsSeconds[input.readsSeconds.indexOf(offset) + 1];
      const age = Date.now() - Date.parse(input.publishedAt);
      if (skipOverdue && next !== undefined && age >= next * msPerSecond && age > OVERDUE_FACTOR * offset * msPerSecond) {
        reads.push({ offsetSeconds: offset, at: null, views: null, error: 'not read: overdue, the next reading was due already' });
        continue;
      }
      const jobId = await base.enqueueMetricsJob({
        workflowId: info.workflowId,
        runId: info.runId,
        recommendationId: input.recommendationId,
        platform: input.platform,
        postId: input.postId,
        offsetSeconds: offset,
      });
      let reading: MetricsReading;
      try {
        reading = await platform.readPostMetrics({ jobId, platform: input.platform, postId: input.postId });
      } catch (err) {
        const error = err instanceof wf.ActivityFailure && err.cause ? err.cause.message : String(err);
        wf.log.warn('metrics read failed', { offset, error });
        await base.closeMetricsJobs({ workflowId: info.workflowId, reason: `metrics read given up: ${error}` });
        reads.push({ offsetSeconds: offset, at: null, views: null, error });
        continue;
      }
      if (reading.gone) {
        reads.push({ offsetSeconds: offset, at: reading.at, views: null, error: reading.reason });
        return { status: 'post_gone', reason: reading.reason, reads };
      }
      await base.recordPostMetrics({
        recommendationId: input.recommendationId,
        platform: input.platform,
        postId: input.postId,
        publishedAt: input.publishedAt,
        readAt: reading.at,
        ageSeconds: offset,
        jobId,
        metrics: reading.metrics,
      });
      reads.push({ offsetSeconds: offset, at: reading.at, views: reading.metrics.views, error: null });
    }
  } catch (err) {
    // Its recommendation is not in the database (enqueueMetricsJob, recordPostMetrics): each read would be spent for
    // nothing, and its row retried for good.
    if (
      err instanceof wf.ActivityFailure &&
      err.cause instanceof wf.ApplicationFailure &&
      err.cause.type === FAILURE_TYPES.recommendationGone
    ) {
      return { status: 'recommendation_gone', reason: err.cause.message, reads };
    }
    throw err;
  }
  return { status: 'complete', reason: null, reads };
}
