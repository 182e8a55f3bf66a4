/**
 * Competitor discovery at scale: 100 simulated YouTube channels with 15 uploads
 * each, checked in one run of the `competitors` Schedule (triggered), with the
 * limits table's youtube_data row as shipped (4 at once, 250 ms apart + the start
 * margin). Figures: the run's time, the calls made (feed reads at the simulator,
 * gated jobs), the analyses started and the duplicates (a second run must start
 * none, and no URL may be started twice).
 *
 * The 1,500 competitor-video workflows it starts are not this figure: their
 * audio and OpenAI jobs are held (cap 0) and the workflows terminated at the end.
 */
import { mapLimit } from '../measure';
import { ensureCompetitorsSchedule } from '../../src/schedule/competitors';
import { describeSchedule, pauseSchedule, triggerScheduleRun } from '../../src/schedule/schedules';
import { PROVIDER_LIMITS, START_MARGIN_MS } from '../../src/config/providers';
import { videoKey } from '../../src/recommendations/ingest';
import { competitorVideoWorkflowId, competitorViewsWorkflowId } from '../../src/shared/workflow-ids';
import type { CompetitorDiscoveryResult } from '../../src/workflows/competitor-discovery';
import { atMost, type Scenario } from '../scenario';

const CHANNELS = 100;
const ENTRIES = 15;
/** What the youtube_data spacing alone costs a run: one start per channel, interval plus margin apart. */
const SPACING_FLOOR_S = (CHANNELS * (PROVIDER_LIMITS.youtube_data.minStartIntervalMs + START_MARGIN_MS)) / 1000;
/** Twice that floor: the rest (jobs, activities, 1,500 workflow starts) may cost as much as the spacing. */
const TARGET_S = 2 * SPACING_FLOOR_S;

export const discovery: Scenario = {
  name: 'discovery',
  summary: `${CHANNELS} YouTube channels × ${ENTRIES} feed entries checked in one competitors Schedule run, then a second run`,
  async run(bench, rec) {
    const yt = PROVIDER_LIMITS.youtube_data;
    // Analyses wait (cap 0): the figure is discovery, not 1,500 downloads and transcriptions.
    await bench.prepare({
      limits: {
        youtube_data: { maxConcurrent: yt.maxConcurrent, minStartIntervalMs: yt.minStartIntervalMs },
        audio_fetch: { maxConcurrent: 0 },
        openai: { maxConcurrent: 0 },
      },
    });
    const sims = bench.sims.youtube.discovery;
    for (let i = 0; i < CHANNELS; i++) {
      const channel = sims.addChannel({ title: `Bench channel ${i}`, videos: ENTRIES });
      await bench.q(`INSERT INTO competitor_channels (platform, external_id, display_name) VALUES ('youtube', $1, $2)`, [
        channel.id,
        channel.title,
      ]);
    }
    const scheduleId = `bench-competitors-${bench.taskQueue}`;
    await ensureCompetitorsSchedule(bench.client, { taskQueue: bench.taskQueue, scheduleId });
    // Triggered runs only: the 15-minute interval must not add one mid-figure.
    await pauseSchedule(bench.client, scheduleId, 'bench: triggered runs only');
    const started: string[] = [];
    try {
      const runOnce = async () => {
        const feedBefore = sims.stats().feed;
        const t0 = Date.now();
        const run = await triggerScheduleRun(bench.client, scheduleId, 30_000);
        if (run.outcome !== 'started') throw new Error(`schedule trigger: ${run.outcome}`);
        const result: CompetitorDiscoveryResult = await bench.client.workflow.getHandle(run.workflowId).result();
        return { result, seconds: (Date.now() - t0) / 1000, feedCalls: sims.stats().feed - feedBefore, workflowId: run.workflowId };
      };
      const first = await runOnce();
      const urls = first.result.channels.flatMap((c) => c.found.map((v) => v.url));
      started.push(...urls);
      const jobs = await bench.q<{ n: number }>(
        `SELECT count(*)::int AS n FROM automation_queue WHERE workflow_id = $1 AND job_type = 'youtube_discovery'`,
        [first.workflowId],
      );
      const second = await runOnce();
      const duplicates = urls.length - new Set(urls).size + second.result.newVideos;
      rec.figure({
        metric: `${CHANNELS} channels × ${ENTRIES} entries, one Schedule run (trigger → result)`,
        value: `${first.seconds.toFixed(1)} s`,
        target: `≤ ${TARGET_S} s`,
        bullmq: '-',
        met: atMost(first.seconds, TARGET_S) && first.result.failed === 0,
      });
      rec.figure({
        metric: 'calls made: feed reads / gated youtube_data jobs',
        value: `${first.feedCalls} / ${jobs[0]!.n}`,
        target: `${CHANNELS} / ${CHANNELS}`,
        bullmq: '-',
        met: first.feedCalls === CHANNELS && jobs[0]!.n === CHANNELS,
      });
      rec.figure({
        metric: 'analyses started / duplicates (incl. a second run)',
        value: `${urls.length} / ${duplicates}`,
        target: `${CHANNELS * ENTRIES} / 0`,
        bullmq: '-',
        met: urls.length === CHANNELS * ENTRIES && duplicates === 0,
      });
      rec.note(
        `discovery: youtube_data cap ${yt.maxConcurrent}, ${yt.minStartIntervalMs} ms apart + ${START_MARGIN_MS} ms margin ` +
          `(spacing floor ${SPACING_FLOOR_S.toFixed(0)} s); ` +
          `second run ${second.seconds.toFixed(1)} s, ${second.feedCalls} feed reads, ${second.result.newVideos} new`,
      );
    } finally {
      const d = await describeSchedule(bench.client, scheduleId);
      if (d) await bench.client.schedule.getHandle(scheduleId).delete();
      // Nothing of this scenario may run on into the next one (held analyses, views timers).
      const ids = started.flatMap((u) => [competitorVideoWorkflowId(videoKey(u)), competitorViewsWorkflowId(videoKey(u))]);
      await mapLimit(ids, 20, (id) =>
        bench.client.workflow
          .getHandle(id)
          .terminate('bench: discovery figure taken')
          .catch(() => undefined),
      );
    }
  },
};
