/**
 * competitorViewsWorkflow: a discovered video's views re-read a few times
 * (default +1 h, +6 h, +24 h after discovery; COMPETITOR_VIEW_READS), each read
 * a youtube_data job through the gate, each result appended to the row's
 * view_history, which sets view_velocity and may raise viral_potential
 * (src/recommendations/view-velocity.ts). Durable timers: a worker restart or
 * a deploy in between changes nothing. A read whose row is not there yet
 * (analysis still running) or whose count the platform no longer gives is skipped.
 */
import * as wf from '@temporalio/workflow';
import { JOB_ESTIMATES_SECONDS } from '../config/providers';
import { atOffsets, readActivities, READS_BASE_OPTIONS } from './timed-reads';
import type { createDiscoveryBaseActivities, createDiscoveryProviderActivities } from '../activities/discovery';
import type { createQueueSyncActivities } from '../activities/queue-sync';

export interface CompetitorViewsInput {
  url: string;
  videoExternalId: string;
  /** The channel's UC… id: the feed (no Data API key) gives views of a channel's newest 15 only. */
  channelExternalId: string | null;
  channelRowId: string | null;
  /** ISO-8601: the offsets count from here. */
  discoveredAt: string;
  /** Views seen at discovery: the first point of the history. */
  initialViews: number;
  /** Seconds after discovery, ascending. */
  readsSeconds: number[];
}

export interface CompetitorViewsResult {
  reads: Array<{ at: string; views: number | null; recorded: boolean; velocity: number | null; viralPotential: number | null }>;
}

type Base = ReturnType<typeof createDiscoveryBaseActivities>;
type QueueSync = ReturnType<typeof createQueueSyncActivities>;
type ProviderActs = ReturnType<typeof createDiscoveryProviderActivities>;

const base = wf.proxyActivities<Base>(READS_BASE_OPTIONS);
const queue = wf.proxyActivities<Pick<QueueSync, 'cancelUnstartedJobs'>>(READS_BASE_OPTIONS);

/** A read may wait this long for a youtube_data slot; a later read makes a stale one pointless. */
const SLOT_WAIT_BUDGET_MS = 30 * 60_000;

export async function competitorViewsWorkflow(input: CompetitorViewsInput): Promise<CompetitorViewsResult> {
  const info = wf.workflowInfo();
  const youtube = readActivities<ProviderActs>('youtube_data', JOB_ESTIMATES_SECONDS.youtube_discovery, SLOT_WAIT_BUDGET_MS);
  const reads: CompetitorViewsResult['reads'] = [];
  for await (const offset of atOffsets(input.discoveredAt, input.readsSeconds)) {
    const jobId = await base.enqueueDiscoveryJob({
      workflowId: info.workflowId,
      runId: info.runId,
      step: `views:${offset}`,
      provider: 'youtube_data',
    });
    let reading: { at: string; views: number | null };
    try {
      reading = await youtube.readCompetitorViews({
        jobId,
        videoExternalId: input.videoExternalId,
        channelExternalId: input.channelExternalId,
      });
    } catch (err) {
      // One failed read (quota spent for the day, feed down) does not end the series; its job is closed, not left queued.
      const error = err instanceof Error ? err.message : String(err);
      wf.log.warn('views read failed', { offset, error });
      if (wf.patched('close-given-up-reads')) await queue.cancelUnstartedJobs({ jobIds: [jobId], reason: `views read given up: ${error}` });
      continue;
    }
    if (reading.views === null) {
      reads.push({ at: reading.at, views: null, recorded: false, velocity: null, viralPotential: null });
      continue;
    }
    const saved = await base.recordCompetitorViews({
      url: input.url,
      at: reading.at,
      views: reading.views,
      initial: { at: input.discoveredAt, views: input.initialViews },
    });
    reads.push({
      at: reading.at,
      views: reading.views,
      recorded: saved.recorded,
      velocity: saved.recorded ? saved.velocity : null,
      viralPotential: saved.recorded ? saved.viralPotential : null,
    });
  }
  return { reads };
}
