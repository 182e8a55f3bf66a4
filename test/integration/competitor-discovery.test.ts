/**
 * Competitor discovery against the real Temporal server, PostgreSQL and the
 * discovery simulators: new uploads are found exactly once across repeated
 * checks and a worker restart; a feed that answers 500 (or 404) is retried and
 * the channel recovers; one failing channel does not stop the others; views
 * re-read with short offsets fill view_history, view_velocity and raise viral_potential.
 */
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { canonicalVideoUrl } from '../../src/recommendations/save-video';
import { ensureCompetitorsSchedule } from '../../src/schedule/competitors';
import { describeSchedule, pauseSchedule, triggerScheduleRun } from '../../src/schedule/schedules';
import { videoKey } from '../../src/recommendations/ingest';
import { startDiscoveredVideo, type ChannelCheckResult } from '../../src/services/competitor-discovery';
import {
  COMPETITOR_DISCOVERY_WORKFLOW,
  COMPETITOR_VIDEO_WORKFLOW,
  COMPETITOR_VIEWS_WORKFLOW,
  competitorVideoWorkflowId,
  competitorViewsWorkflowId,
} from '../../src/shared/workflow-ids';
import type { CompetitorDiscoveryResult } from '../../src/workflows/competitor-discovery';
import type { CompetitorViewsInput, CompetitorViewsResult } from '../../src/workflows/competitor-views';
import { createWorkers } from '../../src/workers/workers';
import { startHarness, type Harness } from '../helpers/harness';

const DISCOVERY_LIMITS = {
  youtube_data: { minStartIntervalMs: 0, pollIntervalMs: 50 },
  instagram_graph: { minStartIntervalMs: 0, pollIntervalMs: 50 },
};

let h: Harness;
let run = 0;
beforeAll(async () => {
  // No views workflows here (their own test below starts them directly).
  h = await startHarness({ limits: DISCOVERY_LIMITS, env: { COMPETITOR_VIEW_READS: '86400' } });
});
afterAll(async () => h?.stop());

async function addChannel(platform: 'youtube' | 'instagram', externalId: string, name: string): Promise<string> {
  const { rows } = await h.db.database.pool.query<{ id: string }>(
    `INSERT INTO competitor_channels (platform, external_id, display_name) VALUES ($1, $2, $3) RETURNING id`,
    [platform, externalId, name],
  );
  return rows[0]!.id;
}

function discover(channelIds?: string[]): Promise<CompetitorDiscoveryResult> {
  run += 1;
  return h.client.workflow.execute(COMPETITOR_DISCOVERY_WORKFLOW, {
    taskQueue: h.taskQueue,
    workflowId: `discovery-${h.taskQueue}-${run}`,
    args: [channelIds ? { channelIds } : {}],
  });
}

const channelRow = async (id: string) =>
  (
    await h.db.database.pool.query(
      `SELECT last_checked_at, last_error, videos_found, newest_video_id FROM competitor_channels WHERE id = $1`,
      [id],
    )
  ).rows[0];

async function startedOnce(url: string): Promise<boolean> {
  const d = await h.client.workflow.getHandle(competitorVideoWorkflowId(videoKey(url))).describe();
  return d.workflowId === competitorVideoWorkflowId(videoKey(url));
}

describe('competitor discovery', () => {
  it('finds each new upload exactly once across repeated checks and a worker restart', async () => {
    const sim = h.sims.youtube.discovery.addChannel({ title: 'Chollos Pro', videos: 20 });
    const channelId = await addChannel('youtube', sim.id, 'Chollos Pro');

    const first = await discover([channelId]);
    expect(first.failed).toBe(0);
    // The feed lists the newest 15 of the 20.
    expect(first.newVideos).toBe(15);
    for (const v of first.channels[0]!.found) expect(await startedOnce(v.url)).toBe(true);

    const again = await discover([channelId]);
    expect(again.newVideos).toBe(0);
    expect(again.channels[0]!.known).toBe(15);

    const a = h.sims.youtube.discovery.publish(sim.id, { title: 'Nuevo chollo A' });
    const b = h.sims.youtube.discovery.publish(sim.id, { title: 'Nuevo chollo B' });
    const third = await discover([channelId]);
    expect(third.channels[0]!.found.map((v) => v.url).sort()).toEqual([a.url, b.url].sort());

    // A restart of every worker between two checks changes nothing.
    await h.stopWorkers();
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const workers: Worker[] = await createWorkers({ connection, namespace: 'default', baseQueue: h.taskQueue, deps: h.runtime });
    const running = Promise.all(workers.map((w) => w.run()));
    try {
      const c = h.sims.youtube.discovery.publish(sim.id, { title: 'Nuevo chollo C' });
      const [x, y] = await Promise.all([discover([channelId]), discover([channelId])]);
      // Two checks at once: the video is found by one of them, started once.
      expect([...x.channels[0]!.found, ...y.channels[0]!.found].map((v) => v.url)).toEqual([c.url]);
      const after = await discover([channelId]);
      expect(after.newVideos).toBe(0);
    } finally {
      for (const w of workers) w.shutdown();
      await running;
      await connection.close();
    }
    const row = await channelRow(channelId);
    expect(row.videos_found).toBe(18);
    expect(row.last_error).toBeNull();
    expect(row.newest_video_id).toBe(h.sims.youtube.discovery.channel(sim.id)!.uploads[0]!.id);
    const jobs = await h.db.database.pool.query(
      `SELECT count(*)::int AS n FROM automation_queue
        WHERE api_provider = 'youtube_data' AND job_type = 'youtube_discovery' AND status = 'completed'`,
    );
    expect(jobs.rows[0].n).toBeGreaterThanOrEqual(6);
    // Keyless, the checks read the public feed: none of the Data API's units, which YouTube posts need, is taken.
    const taken = await h.db.database.pool.query(
      `SELECT coalesce(sum(u.units), 0)::int AS units FROM quota_usage u JOIN automation_queue q ON q.id = u.job_id
        WHERE q.job_type = 'youtube_discovery'`,
    );
    expect(taken.rows[0].units).toBe(0);
  }, 120_000);
});

describe('competitor discovery faults', () => {
  let ok: string;
  let flaky: string;
  let flakyExternal: string;
  beforeAll(async () => {
    // Restart workers for this block (the first test stopped the harness's).
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const workers = await createWorkers({ connection, namespace: 'default', baseQueue: h.taskQueue, deps: h.runtime });
    const running = Promise.all(workers.map((w) => w.run()));
    afterAll(async () => {
      for (const w of workers) w.shutdown();
      await running;
      await connection.close();
    });
    const acc = h.sims.instagram.discovery.addAccount({ username: 'rivalreels', reels: 3 });
    ok = await addChannel('instagram', acc.username, 'Rival Reels');
    const sim = h.sims.youtube.discovery.addChannel({ title: 'Flaky Feed', videos: 2 });
    flakyExternal = sim.id;
    flaky = await addChannel('youtube', sim.id, 'Flaky Feed');
  });

  it('retries a feed that answers 500 or 404 and records nothing as an error', async () => {
    const before = h.sims.youtube.discovery.stats().feed;
    h.sims.youtube.discovery.setFaults({ feedErrorNext: 1, feedNotFoundNext: 1 });
    const result = await discover([flaky]);
    expect(result.failed).toBe(0);
    expect(result.newVideos).toBe(2);
    expect(h.sims.youtube.discovery.stats().feed - before).toBe(3);
    expect((await channelRow(flaky)).last_error).toBeNull();
  }, 60_000);

  it('keeps a feed failing past its retries as the channel error, checks the others, and recovers on the next run', async () => {
    h.sims.youtube.discovery.setFaults({ feedErrorNext: 100 });
    const failing = await discover([flaky, ok]);
    const byId = new Map(failing.channels.map((c: ChannelCheckResult) => [c.channelId, c]));
    expect(byId.get(flaky)!.error).toMatch(/feed of channel .* answered HTTP 500/);
    expect(byId.get(ok)!.error).toBeNull();
    // Instagram reels are found with their permalinks; media_url only when the audio is original.
    expect(byId.get(ok)!.found).toHaveLength(3);
    const row = await channelRow(flaky);
    expect(row.last_error).toMatch(/HTTP 500/);

    h.sims.youtube.discovery.setFaults({ feedErrorNext: 0 });
    const upload = h.sims.youtube.discovery.publish(flakyExternal, { title: 'Tras la caída' });
    const recovered = await discover([flaky]);
    expect(recovered.failed).toBe(0);
    expect(recovered.channels[0]!.found.map((v) => v.url)).toEqual([upload.url]);
    expect((await channelRow(flaky)).last_error).toBeNull();
  }, 90_000);

  it('records an unknown Instagram account as the channel error without retrying it', async () => {
    const ghost = await addChannel('instagram', 'nobody_at_all', 'Ghost');
    const before = h.sims.instagram.discovery.stats().businessDiscovery;
    const result = await discover([ghost]);
    expect(result.channels[0]!.error).toMatch(/no Instagram business or creator account/);
    expect(h.sims.instagram.discovery.stats().businessDiscovery - before).toBe(1);
  }, 60_000);

  it('a start retried after it died between the video and its views series starts the views series, not the video again', async () => {
    const sim = h.sims.youtube.discovery.addChannel({ title: 'Retried Start' });
    const upload = h.sims.youtube.discovery.publish(sim.id, { title: 'A medias' });
    const input = {
      url: upload.url,
      platform: 'youtube' as const,
      externalId: upload.id,
      channel: 'Retried Start',
      channelId: null,
      title: 'A medias',
      views: 10,
      publishedAt: null,
    };
    const ctx = { client: h.client, taskQueue: h.taskQueue, viewReadsSeconds: [3_600] };
    // The first try started the video's workflow, then died: no views series.
    const video = await h.client.workflow.start(COMPETITOR_VIDEO_WORKFLOW, {
      taskQueue: `${h.taskQueue}-nobody`,
      workflowId: competitorVideoWorkflowId(videoKey(upload.url)),
      args: [input],
    });
    expect(await startDiscoveredVideo(ctx, input, { channelExternalId: sim.id })).toBe(false);
    const views = h.client.workflow.getHandle(competitorViewsWorkflowId(videoKey(upload.url)));
    expect((await views.describe()).status.name).toBe('RUNNING');
    await views.terminate('test over');
    await video.terminate('test over');
  });

  it('re-reads views with short offsets: history, velocity and a raised viral potential; no row yet, no write', async () => {
    const sim = h.sims.youtube.discovery.addChannel({ title: 'Rapid Views' });
    const upload = h.sims.youtube.discovery.publish(sim.id, { title: 'Se dispara', views: 1_000, viewsPerHour: 72_000 });
    const url = canonicalVideoUrl(upload.url);
    await h.db.database.pool.query(
      `INSERT INTO competitive_videos (url, channel, title, views, viral_potential, published_at, platform, external_id)
       VALUES ($1, 'Rapid Views', 'Se dispara', 1000, 3, now(), 'youtube', $2)`,
      [url, upload.id],
    );
    const input = (u: string, id: string): CompetitorViewsInput => ({
      url: u,
      videoExternalId: id,
      channelExternalId: sim.id,
      channelRowId: null,
      discoveredAt: new Date().toISOString(),
      initialViews: 1_000,
      readsSeconds: [2, 4],
    });
    const orphan = h.sims.youtube.discovery.publish(sim.id, { title: 'Sin fila' });
    const [result, skipped] = await Promise.all([
      h.client.workflow.execute(COMPETITOR_VIEWS_WORKFLOW, {
        taskQueue: h.taskQueue,
        workflowId: competitorViewsWorkflowId(videoKey(url)),
        args: [input(upload.url, upload.id)],
      }) as Promise<CompetitorViewsResult>,
      h.client.workflow.execute(COMPETITOR_VIEWS_WORKFLOW, {
        taskQueue: h.taskQueue,
        workflowId: competitorViewsWorkflowId(videoKey(orphan.url)),
        args: [input(orphan.url, orphan.id)],
      }) as Promise<CompetitorViewsResult>,
    ]);
    expect(result.reads).toHaveLength(2);
    expect(result.reads.every((r) => r.recorded)).toBe(true);
    expect(skipped.reads.every((r) => !r.recorded)).toBe(true);

    const { rows } = await h.db.database.pool.query(
      `SELECT view_history, view_velocity, viral_potential, views FROM competitive_videos WHERE url = $1`,
      [url],
    );
    const row = rows[0];
    expect(row.view_history).toHaveLength(3);
    // 72 000 views an hour in the simulator: 20 a second.
    expect(row.view_velocity).toBeGreaterThan(72_000 * 0.5);
    expect(row.view_velocity).toBeLessThan(72_000 * 1.5);
    expect(row.viral_potential).toBe(10);
    expect(row.views).toBeGreaterThan(1_000);
    const orphans = await h.db.database.pool.query(`SELECT 1 FROM competitive_videos WHERE url = $1`, [canonicalVideoUrl(orphan.url)]);
    expect(orphans.rows).toHaveLength(0);
  }, 90_000);

  it('runs from the competitors Schedule: every 15 minutes, SKIP, pausable, and a triggered run checks every active channel', async () => {
    const scheduleId = `competitors-${h.taskQueue}`;
    await ensureCompetitorsSchedule(h.client, { taskQueue: h.taskQueue, scheduleId });
    try {
      await pauseSchedule(h.client, scheduleId, 'test: triggered runs only');
      const d = (await describeSchedule(h.client, scheduleId))!;
      expect(Number(d.spec.intervals?.[0]?.every)).toBe(15 * 60_000);
      expect(d.policies.overlap).toBe('SKIP');
      expect(d.state.paused).toBe(true);
      const { rows } = await h.db.database.pool.query(
        `SELECT count(*)::int AS n FROM competitor_channels WHERE active AND platform <> 'manual'`,
      );
      const run = await triggerScheduleRun(h.client, scheduleId, 30_000);
      expect(run.outcome).toBe('started');
      if (run.outcome !== 'started') return;
      const result: CompetitorDiscoveryResult = await h.client.workflow.getHandle(run.workflowId).result();
      expect(result.checked).toBe(rows[0].n);
      // Everything was found by the earlier checks; the unknown Instagram account still fails.
      expect(result.newVideos).toBe(0);
      expect(result.failed).toBe(1);
    } finally {
      await h.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    }
  }, 90_000);
});
