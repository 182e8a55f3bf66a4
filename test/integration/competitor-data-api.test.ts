/**
 * Discovery with a YouTube Data API key, against the simulator's Data API:
 * uploads from the uploads playlist with views and durations (2 units a check),
 * views re-read through videos.list, and a spent daily quota recorded on the
 * channel at once (it lifts at midnight Pacific; the run does not wait for it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalVideoUrl } from '../../src/recommendations/save-video';
import { videoKey } from '../../src/recommendations/ingest';
import { COMPETITOR_DISCOVERY_WORKFLOW, COMPETITOR_VIEWS_WORKFLOW, competitorViewsWorkflowId } from '../../src/shared/workflow-ids';
import type { CompetitorDiscoveryResult } from '../../src/workflows/competitor-discovery';
import type { CompetitorViewsResult } from '../../src/workflows/competitor-views';
import { startHarness, type Harness } from '../helpers/harness';

let h: Harness;
let run = 0;
beforeAll(async () => {
  h = await startHarness({
    limits: { youtube_data: { minStartIntervalMs: 0, pollIntervalMs: 50 } },
    env: { YOUTUBE_DATA_API_KEY: 'sim-key', COMPETITOR_VIEW_READS: '86400' },
  });
});
afterAll(async () => h?.stop());

const discover = (channelIds: string[]): Promise<CompetitorDiscoveryResult> =>
  h.client.workflow.execute(COMPETITOR_DISCOVERY_WORKFLOW, {
    taskQueue: h.taskQueue,
    workflowId: `data-api-${h.taskQueue}-${++run}`,
    args: [{ channelIds }],
  });

async function addChannel(externalId: string, name: string): Promise<string> {
  const { rows } = await h.db.database.pool.query<{ id: string }>(
    `INSERT INTO competitor_channels (platform, external_id, display_name) VALUES ('youtube', $1, $2) RETURNING id`,
    [externalId, name],
  );
  return rows[0]!.id;
}

describe('discovery through the YouTube Data API', () => {
  it('lists the newest uploads with views and durations for 2 units, no feed read', async () => {
    const sim = h.sims.youtube.discovery.addChannel({ title: 'Con clave', videos: 20 });
    const id = await addChannel(sim.id, 'Con clave');
    const before = h.sims.youtube.discovery.stats();
    const result = await discover([id]);
    const after = h.sims.youtube.discovery.stats();
    expect(result.newVideos).toBe(15);
    expect(result.channels[0]!.found[0]).toMatchObject({
      url: `${h.sims.youtube.url}/watch?v=${sim.uploads[0]!.id}`,
      views: expect.any(Number),
    });
    expect(after.unitsUsed - before.unitsUsed).toBe(2);
    expect([after.playlistItems - before.playlistItems, after.videos - before.videos, after.feed - before.feed]).toEqual([1, 1, 0]);
  }, 60_000);

  it('re-reads views through videos.list', async () => {
    const sim = h.sims.youtube.discovery.addChannel({ title: 'Vistas' });
    const upload = h.sims.youtube.discovery.publish(sim.id, { views: 500, viewsPerHour: 3_600 });
    const url = canonicalVideoUrl(upload.url);
    await h.db.database.pool.query(
      `INSERT INTO competitive_videos (url, channel, title, views, published_at, platform, external_id)
       VALUES ($1, 'Vistas', 't', 500, now(), 'youtube', $2)`,
      [url, upload.id],
    );
    const result: CompetitorViewsResult = await h.client.workflow.execute(COMPETITOR_VIEWS_WORKFLOW, {
      taskQueue: h.taskQueue,
      workflowId: competitorViewsWorkflowId(videoKey(url)),
      // No channel: a one-off URL's views come from videos.list alone.
      args: [
        {
          url,
          videoExternalId: upload.id,
          channelExternalId: null,
          channelRowId: null,
          discoveredAt: new Date().toISOString(),
          initialViews: 500,
          readsSeconds: [1],
        },
      ],
    });
    expect(result.reads).toEqual([expect.objectContaining({ recorded: true, views: expect.any(Number) })]);
    expect(result.reads[0]!.views).toBeGreaterThanOrEqual(500);
  }, 60_000);

  it('records a spent daily quota on the channel at once, and the next run after the reset finds the videos', async () => {
    const sim = h.sims.youtube.discovery.addChannel({ title: 'Sin cuota', videos: 2 });
    const id = await addChannel(sim.id, 'Sin cuota');
    h.sims.youtube.discovery.setFaults({ quotaUnits: h.sims.youtube.discovery.stats().unitsUsed });
    const t0 = Date.now();
    const spent = await discover([id]);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(spent.channels[0]!.error).toMatch(/quotaExceeded.*midnight Pacific.*lifts in about \d+ min/);
    const row = (await h.db.database.pool.query('SELECT last_error FROM competitor_channels WHERE id = $1', [id])).rows[0];
    expect(row.last_error).toMatch(/quotaExceeded/);

    h.sims.youtube.discovery.setFaults({ quotaUnits: null });
    const next = await discover([id]);
    expect(next.newVideos).toBe(2);
    expect(
      (await h.db.database.pool.query('SELECT last_error FROM competitor_channels WHERE id = $1', [id])).rows[0].last_error,
    ).toBeNull();
  }, 60_000);
});
