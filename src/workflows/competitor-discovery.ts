/**
 * competitorDiscoveryWorkflow: what the `competitors` Schedule starts every
 * 15 minutes (and `reelflow competitor check` for one channel). Every active
 * channel is checked: one job on its provider (youtube_data / instagram_graph)
 * through the gate, so the caps and spacing of the limits table hold; then its
 * new videos start their analyses, once each (src/services/competitor-discovery.ts).
 *
 * What happens if...
 * - a feed answers 404/500: the job is retried with backoff (5 attempts); if it
 *   still fails, the channel keeps the error in last_error and the next run tries again.
 * - one channel fails for good (unknown, private, quota spent): its error is
 *   recorded; the other channels are checked all the same.
 * - a run is still going when the next is due: the Schedule skips the new one.
 */
import * as wf from '@temporalio/workflow';
import { JOB_ESTIMATES_SECONDS } from '../config/providers';
import { providerActivityOptions } from '../shared/activity-options';
import type { createDiscoveryBaseActivities, createDiscoveryProviderActivities } from '../activities/discovery';
import type { createQueueSyncActivities } from '../activities/queue-sync';
import type { ChannelCheckResult } from '../services/competitor-discovery';

export interface CompetitorDiscoveryInput {
  /** Only these channels (active or not); default: every active channel. */
  channelIds?: string[];
  /** Channels checked at once; the gate's cap still bounds the provider calls. Default 20. */
  concurrency?: number;
}

export interface CompetitorDiscoveryResult {
  checked: number;
  failed: number;
  newVideos: number;
  channels: ChannelCheckResult[];
}

type Base = ReturnType<typeof createDiscoveryBaseActivities>;
type QueueSync = ReturnType<typeof createQueueSyncActivities>;
type ProviderActs = ReturnType<typeof createDiscoveryProviderActivities>;

const BASE_OPTIONS: wf.ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
};
const base = wf.proxyActivities<Base>(BASE_OPTIONS);
const queue = wf.proxyActivities<Pick<QueueSync, 'cancelUnstartedJobs'>>(BASE_OPTIONS);

/** A check waiting longer than this for a slot is stale: the next run (15 min) reads the same feed. */
const SLOT_WAIT_BUDGET_MS = 10 * 60_000;

export async function competitorDiscoveryWorkflow(input: CompetitorDiscoveryInput = {}): Promise<CompetitorDiscoveryResult> {
  const info = wf.workflowInfo();
  const channels = await base.listCompetitorChannels({ channelIds: input.channelIds ?? null });
  const acts = (provider: 'youtube_data' | 'instagram_graph') =>
    wf.proxyActivities<ProviderActs>(
      providerActivityOptions({
        provider,
        baseTaskQueue: info.taskQueue,
        estimateSeconds: JOB_ESTIMATES_SECONDS[provider === 'youtube_data' ? 'youtube_discovery' : 'instagram_discovery'],
        waitBudgetMs: SLOT_WAIT_BUDGET_MS,
        priority: 'P2',
      }),
    );

  const results: ChannelCheckResult[] = [];
  let next = 0;
  const lane = async () => {
    while (next < channels.length) {
      const channel = channels[next++]!;
      const provider = channel.platform === 'instagram' ? 'instagram_graph' : 'youtube_data';
      const jobId = await base.enqueueDiscoveryJob({
        workflowId: info.workflowId,
        runId: info.runId,
        step: `check:${channel.id}`,
        provider,
      });
      let videos = null;
      let error: string | null = null;
      try {
        videos = await acts(provider).checkCompetitorChannel({ jobId, channel });
      } catch (err) {
        error = failureMessage(err);
        // Given up (no slot within the wait budget, every attempt failed): its job is closed, not left queued for ever.
        if (wf.patched('close-given-up-reads')) await queue.cancelUnstartedJobs({ jobIds: [jobId], reason: `check given up: ${error}` });
      }
      results.push(await base.recordCompetitorCheck({ channel, videos, error }));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency ?? 20, channels.length)) }, lane));
  return {
    checked: results.length,
    failed: results.filter((r) => r.error !== null).length,
    newVideos: results.reduce((n, r) => n + r.found.length, 0),
    channels: results,
  };
}

/** The provider's message, not Temporal's "Activity task failed" wrapper. */
function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && (e as { cause?: unknown }).cause instanceof Error) e = (e as { cause?: unknown }).cause;
  return (e instanceof Error ? e.message : String(err)).slice(0, 500);
}
