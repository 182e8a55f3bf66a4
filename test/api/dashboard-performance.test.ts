/**
 * The dashboard's performance panel in real (headless) Chromium, on metrics recorded the way the metrics workflow
 * records them: a line per video (views over its age), this week's best and worst, and the groups by type and
 * player with spend per view; no script error or CSP violation. Saves test-results/dashboard-performance.png.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { hasChromium, openBrowser } from '../helpers/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordPostMetrics } from '../../src/services/post-metrics';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { dbOnlyService, startTestApi, type TestApi } from './support';

const SCREENSHOT = path.resolve(__dirname, '../../test-results/dashboard-performance.png');

describe.skipIf(!hasChromium)('dashboard performance panel in Chromium', () => {
  let tdb: TestDatabase;
  let api: TestApi;
  let baseUrl: string;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];

  const AGES = [3_600, 21_600, 86_400];
  async function post(title: string, type: string, player: string, platform: 'instagram' | 'tiktok', finalViews: number, cost: number) {
    const publishedAt = new Date(Date.now() - 2 * 86_400_000);
    const { rows } = await tdb.database.pool.query<{ id: string }>(
      `INSERT INTO competitive_recommendations (priority, status, recommendation_type, title, target_player, published_at)
       VALUES ('P2', 'published', $1, $2, $3, $4) RETURNING id`,
      [type, title, player, publishedAt],
    );
    const id = rows[0]!.id;
    await tdb.database.pool.query(
      `INSERT INTO automation_queue (priority, status, job_type, api_provider, estimated_duration_seconds, workflow_id, step,
         recommendation_id, cost) VALUES ('P2', 'completed', 'veo3_player_spotlight', 'veo3', 300, $1, 'generate', $2, $3)`,
      [`recommendation-${id}`, id, cost],
    );
    for (const [i, age] of AGES.entries()) {
      const views = Math.round((finalViews * (i + 1)) / AGES.length);
      await recordPostMetrics(tdb.database.pool, {
        recommendationId: id,
        platform,
        postId: `${title}-${platform}`,
        publishedAt: publishedAt.toISOString(),
        readAt: new Date(publishedAt.getTime() + age * 1_000).toISOString(),
        ageSeconds: age,
        jobId: null,
        metrics: { views, reach: null, likes: Math.round(views / 20), comments: 1, shares: 1, saves: null, interactions: null },
      });
    }
  }

  beforeAll(async () => {
    tdb = await createTestDatabase();
    api = await startTestApi(tdb, { service: dbOnlyService(tdb), workers: async () => [] });
    baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
    await post('Pedri, el chollo', 'player_spotlight', 'pedri', 'instagram', 12_000, 60);
    await post('Lewandowski no rinde', 'counter_argument', 'lewandowski', 'tiktok', 900, 60);
    await post('Mercado de la jornada', 'trend_jump', 'pedri', 'instagram', 4_000, 120);
    // Published ten minutes ago: no reading yet (its series reads it first at +1 h).
    const { rows } = await tdb.database.pool.query<{ id: string }>(
      `INSERT INTO competitive_recommendations (priority, status, recommendation_type, title, published_at)
       VALUES ('P0', 'published', 'breaking_news', 'Recién publicado', now()) RETURNING id`,
    );
    await tdb.database.pool.query(
      `INSERT INTO automation_queue (priority, status, job_type, api_provider, estimated_duration_seconds, workflow_id, step,
         recommendation_id, result, completed_at)
       VALUES ('P0', 'completed', 'publish', 'youtube', 60, $1, 'publish:youtube', $2, $3, now() - interval '10 minutes')`,
      [`recommendation-${rows[0]!.id}`, rows[0]!.id, { platform: 'youtube', postId: 'fresh-yt' }],
    );
    await tdb.database.pool.query(
      `INSERT INTO post_metric_series (platform, post_id, recommendation_id, published_at, reads_seconds, hour_ms)
       VALUES ('youtube', 'fresh-yt', $1, now() - interval '10 minutes', '{3600,86400}', 3600000)`,
      [rows[0]!.id],
    );
    browser = await openBrowser(pageErrors);
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await api?.app.close();
    await tdb?.drop();
  });

  it('draws views over time per video, the week best and worst, and the groups with spend per view', async () => {
    await page.goto(`${baseUrl}/automation-calendar`);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#token', api.tokens.read);
    await page.click('#login-form button[type=submit]');
    await page.locator('[data-testid=perf-series]').first().waitFor({ state: 'visible', timeout: 15_000 });
    // One line per video, each through its three readings.
    const lines = await page
      .locator('#perf-chart polyline')
      .evaluateAll((els) => els.map((e) => e.getAttribute('points')!.split(' ').length));
    expect(lines).toEqual([3, 3, 3]);
    expect(await page.locator('figure.perf-chart').isVisible()).toBe(true);
    expect(await page.locator('[data-testid=perf-series]').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('Pedri, el chollo · instagram · 12,000 (24h)')]),
    );
    // Each video offers a new post of our archived copy on its platform, to operators only (this token reads).
    const postAgain = page.locator('.perf-legend [data-testid=republish-button]');
    expect(await postAgain.allTextContents()).toEqual(expect.arrayContaining(['Post again on instagram', 'Post again on tiktok']));
    expect(await postAgain.count()).toBe(3);
    for (const button of await postAgain.all()) expect(await button.isVisible()).toBe(false);
    expect(await page.locator('[data-testid=perf-best]').textContent()).toContain('Pedri, el chollo');
    expect(await page.locator('[data-testid=perf-worst]').textContent()).toContain('Lewandowski no rinde');
    expect(await page.locator('[data-testid=perf-best-type]').textContent()).toBe('Best type: player_spotlight · 12,000 views a post (1)');
    expect(await page.locator('[data-testid=perf-worst-type]').textContent()).toBe('Worst type: counter_argument · 900 views a post (1)');
    expect(await page.locator('[data-testid=perf-best-player]').textContent()).toBe('Best player: pedri · 8,000 views a post (2)');
    expect(await page.locator('[data-testid=perf-worst-player]').textContent()).toBe('Worst player: lewandowski · 900 views a post (1)');
    const types = await page
      .locator('#perf-types tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(types[0]).toEqual(['player_spotlight', '1', '12,000', '12,000', (60 / 12_000).toFixed(4)]);
    const players = await page.locator('#perf-players tbody tr').evaluateAll((rows) => rows.map((r) => r.querySelector('td')!.textContent));
    expect(players).toEqual(['pedri', 'lewandowski']);
    expect([await page.locator('#perf-types').isVisible(), await page.locator('#perf-players').isVisible()]).toEqual([true, true]);
    // The swatches are coloured through CSSOM, which the CSP allows.
    // Read through a structural type: the tests type-check without the DOM lib.
    const swatch = await page
      .locator('.perf-legend .swatch')
      .first()
      .evaluate(
        (el) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor,
      );
    expect(swatch).not.toBe('rgba(0, 0, 0, 0)');
    // Its first reading in about 50 minutes (the page's clock runs on between the row and the poll).
    expect(await page.locator('#performance-count').textContent()).toMatch(
      /^\(3 measured, 1 not read yet, the first reading in 4\dm \d+s\)$/,
    );
    await page.locator('#performance-section').screenshot({ path: SCREENSHOT });
    expect(pageErrors).toEqual([]);
  });

  it("Post again on a video's platform is a second public copy: it asks for a second click, then sends again: true", async () => {
    await page.click('#logout');
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#token', api.tokens.operator);
    await page.click('#login-form button[type=submit]');
    const button = page.locator('.perf-legend li', { hasText: 'Pedri, el chollo' }).locator('[data-testid=republish-button]');
    await button.waitFor({ state: 'visible', timeout: 15_000 });
    const sent: unknown[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/republish')) sent.push(req.postDataJSON());
    });
    await button.click();
    expect(await button.textContent()).toBe('Confirm: a second instagram post');
    await page.waitForTimeout(500);
    expect(sent).toEqual([]);
    await button.click();
    // The API past its check for a second copy (`again`), refusing on the next: this idea has no archived video.
    await expect.poll(() => page.locator('#toast').textContent(), { timeout: 10_000 }).toMatch(/^Republish failed: .*no archived video/);
    expect(sent).toEqual([{ platform: 'instagram', again: true }]);
    // Not armed any more once its time is up: a later click asks again.
    await expect.poll(() => button.textContent(), { timeout: 10_000 }).toBe('Post again on instagram');
    // The browser logs the refusal (its console error and the response); nothing else.
    expect(pageErrors.filter((e) => !/status of 400|^HTTP 400 \/api\/recommendations\/[^/]+\/republish$/.test(e))).toEqual([]);
    pageErrors.length = 0;
  });

  it('right after publishing, with nothing measured yet, says how many posts wait for their first reading', async () => {
    await tdb.database.pool.query(`DELETE FROM post_metrics`);
    await page.reload();
    const empty = page.locator('[data-testid=perf-week-empty]');
    await empty.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await empty.textContent()).toMatch(/^Nothing measured yet this week: 1 post published, the first reading in 4\dm \d+s\.$/);
    expect(await page.locator('#performance-count').textContent()).toMatch(/^\(0 measured, 1 not read yet, the first reading in 4\dm/);
    expect(await page.locator('#performance-empty').textContent()).toBe('No published video measured yet.');
    // No line to draw: no empty chart (its axes scaled to 1 view), and no group to show: the two tables and their
    // titles are hidden, not left as bare headings.
    await expect.poll(() => page.locator('figure.perf-chart').isVisible()).toBe(false);
    expect(await page.locator('#performance-empty').isVisible()).toBe(true);
    for (const id of ['#perf-types', '#perf-players']) {
      await expect.poll(() => page.locator(id).isVisible()).toBe(false);
      expect(
        await page
          .locator(id)
          .evaluate((t) => (t as unknown as { previousElementSibling: { hidden: boolean } }).previousElementSibling.hidden),
      ).toBe(true);
    }
    expect(pageErrors).toEqual([]);
  });

  it('a first reading past its time says so (its read waits for the platform, or no worker runs); none recorded says that', async () => {
    // The demo's clock (an hour a second): its +1 h came 10 minutes ago.
    await tdb.database.pool.query(`UPDATE post_metric_series SET hour_ms = 1000 WHERE post_id = 'fresh-yt'`);
    await page.reload();
    await expect
      .poll(() => page.locator('[data-testid=perf-week-empty]').textContent(), { timeout: 15_000 })
      .toMatch(/^Nothing measured yet this week: 1 post published, the first reading due (9|10)m \d+s ago\.$/);
    // Due this moment: its read is in its line; "now", not "0s ago".
    await tdb.database.pool.query(
      `UPDATE post_metric_series SET hour_ms = (extract(epoch FROM now() - published_at) * 1000)::int WHERE post_id = 'fresh-yt'`,
    );
    await page.reload();
    await expect
      .poll(() => page.locator('[data-testid=perf-week-empty]').textContent(), { timeout: 15_000 })
      .toBe('Nothing measured yet this week: 1 post published, the first reading due now.');
    await tdb.database.pool.query(`DELETE FROM post_metric_series`);
    await page.reload();
    await expect
      .poll(() => page.locator('[data-testid=perf-week-empty]').textContent(), { timeout: 15_000 })
      .toBe('Nothing measured yet this week: 1 post published, no reading scheduled yet.');
    expect(pageErrors).toEqual([]);
  });

  it('a measured post whose series stopped says so, with the reading it misses and why (not left as a young post doing fine)', async () => {
    // Read at +1 h, +6 h and +24 h two days ago; its +36 h read was due half a day ago and none was taken (its
    // workflow terminated, say).
    await post('Gavi se queda corto', 'player_spotlight', 'gavi', 'tiktok', 3_000, 60);
    await tdb.database.pool.query(
      `INSERT INTO post_metric_series (platform, post_id, recommendation_id, published_at, reads_seconds, hour_ms, created_at)
       SELECT platform, post_id, recommendation_id, published_at, '{3600,21600,86400,129600}', 3600000, published_at
         FROM post_metrics WHERE post_id = 'Gavi se queda corto-tiktok' LIMIT 1`,
    );
    await page.reload();
    const alert = page.locator('[data-testid=perf-behind][data-post-id="Gavi se queda corto-tiktok"]');
    await alert.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await alert.textContent()).toMatch(
      new RegExp(
        '^⚠️ tiktok post of “Gavi se queda corto”: no \\+36h reading, due \\d+h \\d+m ago: no \\+36h read was taken: ' +
          'its series stopped \\(temporal workflow describe --workflow-id post-metrics-tiktok-Gavi se queda corto-tiktok\\)$',
      ),
    );
    expect(await page.locator('[data-testid=perf-behind]').count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
