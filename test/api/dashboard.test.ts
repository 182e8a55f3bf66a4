/**
 * The dashboard in real (headless) Chromium against the real stack: log in
 * with a token, see a job appear without reloading after an enqueue, cancel
 * it from the page. Saves test-results/dashboard.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { CHROMIUM, hasChromium, openBrowser } from '../helpers/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/config/providers';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { queueWorkers } from '../../src/temporal/queue-workers';
import { failInsideSubmit, postOutcomeUnknown } from '../helpers/retry';
import { waitUntil } from '../helpers/wait';
import { noonZone } from '../helpers/zones';
import { startTestApi, type TestApi } from './support';

const SCREENSHOT = path.resolve(__dirname, '../../test-results/dashboard.png');
const QUOTA_SCREENSHOT = path.resolve(__dirname, '../../test-results/dashboard-quotas.png');
if (!hasChromium) {
  console.warn(`dashboard test skipped: ${CHROMIUM} is missing (install it with \`apt-get install -y chromium\`)`);
}

describe.skipIf(!hasChromium)('dashboard in Chromium', () => {
  let h: Harness;
  let api: TestApi;
  let baseUrl: string;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];
  /** Until the recommendation's row says `status`. */
  const reaches = (id: string, status: string, what: string) =>
    waitUntil(
      async () =>
        (await h.db.database.pool.query(`SELECT status FROM competitive_recommendations WHERE id = $1`, [id])).rows[0]?.status === status,
      { what, timeoutMs: 60_000 },
    );

  beforeAll(async () => {
    h = await startHarness();
    api = await startTestApi(h.db, { service: h.service, workers: () => queueWorkers(h.client, h.taskQueue) });
    baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await openBrowser(pageErrors);
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await api?.app.close();
    await h?.stop();
  });

  it('logs in with a token, shows a new job live and cancels it from the page', async () => {
    await page.goto(`${baseUrl}/automation-calendar`);
    await page.locator('#login').waitFor({ state: 'visible' });
    // Loading the page is clean: no script error, no CSP violation, no 404 (a favicon.ico request used to be one).
    await page.waitForLoadState('networkidle');
    expect(pageErrors).toEqual([]);

    // A wrong token is refused on the login form.
    await page.fill('#token', 'rft_wrong');
    await page.click('#login-button');
    await expect.poll(() => page.textContent('#login-error')).toContain('not valid');
    // The browser logs that 401 as a console error; only errors after this point matter.
    pageErrors.length = 0;

    await page.fill('#token', api.tokens.operator);
    await page.click('#login-button');
    await page.locator('#app').waitFor({ state: 'visible' });
    await expect.poll(() => page.textContent('#who')).toMatch(/^operator-\w+ · operator$/);
    await page.locator('#queue-empty').waitFor({ state: 'visible' });
    // An empty calendar is titled by the day it looked at, as its message says.
    await expect.poll(() => page.textContent('#calendar')).toContain('Nothing planned for the next 24 hours.');
    expect(await page.textContent('#calendar-title')).toBe('Next 24 hours');
    await expect.poll(() => page.locator('.provider').count()).toBe(PROVIDERS.length);
    // Every queue is served here: each panel counts its worker and no queue raises the no-worker alert.
    await expect.poll(() => page.textContent('[data-provider="veo3"] dl')).toContain('Workers1');
    expect(await page.locator('[data-testid="workers-alert"]').count()).toBe(0);

    // Anything set on window survives only if the page is never reloaded.
    await page.evaluate(() => ((globalThis as unknown as { marker: string }).marker = 'same page'));

    // A render long enough to watch it run and cancel it.
    h.sims.veo3.setFaults({ taskDurationMs: 120_000 });
    const enqueuedAt = Date.now();
    const enqueue = await api.call('operator', {
      method: 'POST',
      url: '/api/recommendations',
      payload: recommendationInput({ title: 'Pedri, el chollo de la jornada 14', priority: 'P1' }),
    });
    expect(enqueue.statusCode).toBe(201);
    const { recommendation, workflowId } = enqueue.json().data as { recommendation: { id: string }; workflowId: string };

    // The plan's jobs show up without a reload, within a couple of seconds (the fast OpenAI step may already be done).
    const rows = page.locator('tr[data-testid="queue-row"]');
    await expect.poll(() => rows.count(), { timeout: 5_000, interval: 100 }).toBeGreaterThanOrEqual(4);
    expect(Date.now() - enqueuedAt).toBeLessThan(5_000);
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: string }).marker)).toBe('same page');
    expect(await rows.first().textContent()).toContain('Pedri, el chollo de la jornada 14');
    const href = await rows.first().locator('a.temporal-link').getAttribute('href');
    expect(href).toBe(`http://127.0.0.1:8233/namespaces/default/workflows/${workflowId}`);

    // The VEO3 job starts: the page shows it running and the veo3 panel counts it against the cap.
    const videoJob = await waitUntil(
      async () =>
        (
          await h.db.database.pool.query(
            `SELECT id FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate' AND status = 'processing'`,
            [recommendation.id],
          )
        ).rows[0] as { id: string } | undefined,
      { what: 'VEO3 job processing' },
    );
    const videoRow = page.locator(`tr[data-job-id="${videoJob.id}"]`);
    await expect.poll(() => videoRow.getAttribute('data-status'), { timeout: 5_000 }).toBe('processing');
    // Its step shows inside the title cell whatever the title's length (it was cut off with a long one).
    const step = videoRow.locator('[data-testid="step"]');
    expect(await step.textContent()).toBe('generate');
    const [stepBox, cellBox] = [await step.boundingBox(), await videoRow.locator('td.title').boundingBox()];
    expect(stepBox!.x + stepBox!.width).toBeLessThanOrEqual(cellBox!.x + cellBox!.width);
    // The Temporal link and a relative time are one line each, also in a narrow window (both broke over two at
    // 1400 px with the demo's long titles).
    const lineBoxes = (selector: string) =>
      videoRow
        .locator(selector)
        .first()
        .evaluate((el) => el.getClientRects().length);
    await page.setViewportSize({ width: 900, height: 1000 });
    expect(await lineBoxes('.temporal-link')).toBe(1);
    expect(await lineBoxes('time')).toBe(1);
    // A later step's "not yet asking" too (it broke over two lines at 1400 px).
    const notAsking = page.locator('tr[data-testid="queue-row"] .not-asking').first();
    expect(await notAsking.evaluate((el) => el.getClientRects().length)).toBe(1);
    await page.setViewportSize({ width: 1400, height: 1000 });
    await expect.poll(() => page.textContent('[data-provider="veo3"] .in-use')).toBe(`1 / ${h.runtime.limits.veo3.maxConcurrent}`);
    await expect.poll(() => page.locator('[data-testid="calendar-row"]').count()).toBeGreaterThan(0);
    // Everything on the calendar ends within minutes: it spans the next 15 minutes, not a day, so the render's bar (its
    // 300 s estimate, nothing learned yet) is a third of the width, not a sliver at the left of the day.
    await expect.poll(() => page.textContent('#calendar-title')).toBe('Next 15 minutes');
    const videoBar = page.locator(`[data-testid="calendar-row"][data-job-id="${videoJob.id}"] .bar`);
    const barWidth = await videoBar.evaluate((el) => parseFloat((el as unknown as { style: { width: string } }).style.width));
    expect(barWidth).toBeGreaterThan(25);
    expect(barWidth).toBeLessThan(40);
    // Its later steps are in no line yet: nothing says when they start, so no bar (one drawn at now looked running).
    const laterSteps = await h.db.database.pool.query<{ id: string }>(
      `SELECT id FROM automation_queue WHERE recommendation_id = $1 AND step LIKE 'publish:%' AND status = 'queued'`,
      [recommendation.id],
    );
    expect(laterSteps.rows.length).toBeGreaterThan(0);
    for (const later of laterSteps.rows) {
      expect(await page.locator(`[data-testid="calendar-row"][data-job-id="${later.id}"]`).count()).toBe(0);
      // Nor a place in line: every grant passes over it (drizzle/0040).
      expect(await page.locator(`tr[data-job-id="${later.id}"] td`).nth(4).textContent()).toBe('not yet asking');
    }

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);

    // Cancel asks for a second click, then cancels the whole recommendation.
    const cancel = videoRow.locator('[data-testid="cancel-button"]');
    await cancel.click();
    await expect.poll(() => cancel.textContent()).toBe('Confirm cancel');
    await cancel.click();
    await expect.poll(() => page.textContent('#toast')).toContain('Cancellation requested');
    await expect.poll(() => rows.count(), { timeout: 10_000, interval: 100 }).toBe(0);
    await page.locator('#queue-empty').waitFor({ state: 'visible' });

    const jobs = await h.db.database.pool.query(`SELECT step, status FROM automation_queue WHERE recommendation_id = $1 ORDER BY step`, [
      recommendation.id,
    ]);
    expect(jobs.rows).toEqual([
      { step: 'analyze', status: 'completed' },
      { step: 'generate', status: 'cancelled' },
      { step: 'publish:instagram', status: 'cancelled' },
      { step: 'publish:tiktok', status: 'cancelled' },
      { step: 'publish:youtube', status: 'cancelled' },
    ]);
    await reaches(recommendation.id, 'cancelled', 'recommendation cancelled');
    const audit = await h.db.database.pool.query(`SELECT actor, target, detail FROM audit_log WHERE action = 'job.cancel'`);
    expect(audit.rows).toEqual([
      {
        actor: expect.stringMatching(/^operator-/),
        target: videoJob.id,
        detail: expect.objectContaining({ status: 202, reason: expect.stringContaining('cancelled from the dashboard') }),
      },
    ]);
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: string }).marker)).toBe('same page');
    expect(pageErrors).toEqual([]);
  });

  it('shows what waits for approval with its caption and approves it with a note, audited', async () => {
    h.sims.veo3.setFaults({ taskDurationMs: 200 });
    const rendersBefore = h.sims.veo3.stats().submissions;
    const enqueue = await api.call('operator', {
      method: 'POST',
      url: '/api/recommendations',
      payload: recommendationInput({
        title: 'Respuesta a un vídeo de la competencia',
        priority: 'P1',
        source: 'competitor',
        type: 'counter_argument',
        jobConfig: { platforms: ['instagram'], approval: { beforePublish: ['instagram'] } },
      }),
    });
    expect(enqueue.statusCode).toBe(201);
    const { recommendation, workflowId } = enqueue.json().data as { recommendation: { id: string }; workflowId: string };
    const card = page.locator(`[data-testid="approval-card"][data-recommendation-id="${recommendation.id}"]`);
    await card.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await card.textContent()).toContain('Before the paid render');
    expect((await card.locator('.caption').textContent())!.length).toBeGreaterThan(0);
    expect(h.sims.veo3.stats().submissions).toBe(rendersBefore);
    // Its editors reminded of it (the approval watch's count): the card says so at the next poll.
    const asked = card.locator('[data-testid="approval-asked"]');
    expect(await asked.textContent()).toMatch(/^ · asked .+ago$/);
    await h.db.database.pool.query(
      `INSERT INTO approval_reminders (review_id, recommendation_id, reminded)
       SELECT approval->'waiting'->>'id', id, 2 FROM competitive_recommendations WHERE id = $1`,
      [recommendation.id],
    );
    await expect.poll(() => asked.textContent(), { timeout: 10_000 }).toMatch(/^ · asked .+ · reminded 2 times$/);

    await card.locator('input.note').fill('vale, publicadlo');
    await card.locator('[data-testid="approve-button"]').click();
    await card.waitFor({ state: 'detached', timeout: 10_000 });

    // Rendered, the video waits for the editor's eye before Instagram: the card plays it (the page's policy once
    // blocked every video not served by the API itself, and the player stayed black).
    const post = page.locator(`[data-testid="approval-card"][data-recommendation-id="${recommendation.id}"]`);
    await post.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await post.textContent()).toContain('Before posting on instagram');
    const video = post.locator('video.review-video');
    await expect
      .poll(
        () =>
          video.evaluate((v) => {
            const m = v as unknown as { readyState: number; duration: number };
            return m.readyState >= 1 ? m.duration : 0;
          }),
        { timeout: 10_000 },
      )
      .toBeGreaterThan(1);
    await post.locator('[data-testid="approve-button"]').click();
    await post.waitFor({ state: 'detached', timeout: 10_000 });
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    const audit = await h.db.database.pool.query(
      `SELECT actor, action, detail FROM audit_log WHERE target = $1 AND action LIKE 'recommendation.approve%' ORDER BY id`,
      [recommendation.id],
    );
    // The API's row (what was asked) and the workflow's (the decision it recorded), in whichever order they landed.
    const actions = audit.rows.map((r: { action: string }) => r.action).sort();
    expect(actions).toEqual([
      'recommendation.approve',
      'recommendation.approve',
      'recommendation.approve.request',
      'recommendation.approve.request',
    ]);
    const decisions = audit.rows.filter((r: { action: string }) => r.action === 'recommendation.approve');
    expect(decisions).toMatchObject([
      { detail: expect.objectContaining({ stage: 'render', note: 'vale, publicadlo' }) },
      { detail: expect.objectContaining({ stage: 'publish', platforms: ['instagram'] }) },
    ]);
    expect(pageErrors).toEqual([]);
  });

  it('a review that replaced the one on the page gets its own card; a click on the old one is refused, not applied', async () => {
    const rendersBefore = h.sims.veo3.stats().submissions;
    const errorsBefore = pageErrors.length;
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({
        title: 'Revisada, caducada y reintentada',
        source: 'competitor',
        type: 'counter_argument',
        deadline: new Date(Date.now() + 10_000).toISOString(),
        jobConfig: { platforms: ['instagram'] },
      }),
    );
    const cards = page.locator(`[data-testid="approval-card"][data-recommendation-id="${recommendation.id}"]`);
    await cards.waitFor({ state: 'visible', timeout: 15_000 });
    const seen = (await cards.getAttribute('data-review-id'))!;
    expect(seen).toMatch(/\/1$/);

    // The page hears nothing while the idea expires and a retry asks again: it never sees the card go.
    await page.route('**/api/dashboard', (route) => route.abort());
    try {
      expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('expired');
      await h.service.retry(recommendation.id, { by: 'test' });
      const waiting = async () =>
        (
          await h.db.database.pool.query(`SELECT approval->'waiting'->>'id' AS id FROM competitive_recommendations WHERE id = $1`, [
            recommendation.id,
          ])
        ).rows[0]!.id as string | null;
      await waitUntil(async () => (await waiting()) !== null && (await waiting()) !== seen, { what: "the retry's review on the row" });
      // The old card's approve names what it shows: refused, the new review untouched.
      await cards.locator('[data-testid="approve-button"]').click();
      await page.locator('#toast', { hasText: 'is not the one waiting' }).waitFor({ state: 'visible', timeout: 10_000 });
    } finally {
      await page.unroute('**/api/dashboard');
    }
    const fresh = page.locator(
      `[data-testid="approval-card"][data-recommendation-id="${recommendation.id}"]:not([data-review-id="${seen}"])`,
    );
    await fresh.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await cards.count()).toBe(1);
    const renewed = (await fresh.getAttribute('data-review-id'))!;
    expect(renewed).not.toBe(seen);
    expect(h.sims.veo3.stats().submissions).toBe(rendersBefore);
    const decisions = async () =>
      (
        await h.db.database.pool.query(`SELECT approval->'decisions' AS d FROM competitive_recommendations WHERE id = $1`, [
          recommendation.id,
        ])
      ).rows[0]!.d as unknown[];
    expect(await decisions()).toEqual([]);

    await fresh.locator('[data-testid="reject-button"]').click();
    await fresh.waitFor({ state: 'detached', timeout: 10_000 });
    expect(await decisions()).toMatchObject([{ stage: 'render', decision: 'reject', reviewId: renewed }]);
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('rejected');
    // What the page met here: the polls this test cut, and the refused decision (HTTP 409). Nothing else.
    const met = pageErrors.splice(errorsBefore);
    expect(met).toContain(`HTTP 409 /api/recommendations/${recommendation.id}/approve`);
    expect(met.filter((e) => !/net::ERR_FAILED|status of 409|^HTTP 409 /.test(e))).toEqual([]);
  });

  it('lists names nobody could resolve and teaches one from the page', async () => {
    await h.db.database.pool
      .query(`INSERT INTO players (id, name, team, position, price) VALUES ('carlos-alvarez', 'Carlos Álvarez', 'Levante', 'MID', 9.5)
      ON CONFLICT (id) DO NOTHING`);
    const analysis = {
      topic: 't',
      sentiment: 'positive',
      viralPotential: 5,
      players: [
        { name: 'El Mago', team: null, playerId: null, claims: [{ text: 'El Mago, regalado', stance: 'strong_buy', round: null }] },
      ],
    };
    await h.db.database.pool.query(
      `INSERT INTO competitive_videos (channel, url, title, views, transcript, analysis, ambiguous_names, processed_at)
       VALUES ('Canal', 'https://example.com/mago', 't', 10, 'x', $1, $2, now())`,
      [JSON.stringify(analysis), JSON.stringify([{ name: 'El Mago', team: null, reason: 'unknown', candidates: [] }])],
    );
    const row = page.locator('tr[data-testid="name-row"][data-mention="El Mago"]');
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    await row.locator('input').fill('carlos-alvarez');
    await row.locator('[data-testid="teach-button"]').click();
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    const { rows } = await h.db.database.pool.query(`SELECT mention, player_id FROM name_aliases`);
    expect(rows).toEqual([{ mention: 'el mago', player_id: 'carlos-alvarez' }]);
    const video = await h.db.database.pool.query(`SELECT players_mentioned FROM competitive_videos WHERE url = 'https://example.com/mago'`);
    expect(video.rows[0].players_mentioned).toEqual(['carlos-alvarez']);
    expect(pageErrors).toEqual([]);
  });

  it('says when a webhook refused our messages (a revoked URL loses every alert after it), until one is delivered', async () => {
    await h.db.database.pool.query(
      `INSERT INTO notifications_sent (event_key, channel, refused_at, refused_reason, message)
       VALUES ('r1:failed:slack', 'slack', now() - interval '1 hour', 'slack: webhook answered HTTP 404: no_service', 'old'),
              ('r2:stuck:slack', 'slack', now(), 'slack: webhook answered HTTP 404: no_service', $1)`,
      ['⚠️ Stuck veo3_chollo (veo3)\nWorkflow: recommendation-x'],
    );
    const alert = page.locator('[data-testid="refused-alert"][data-channel="slack"]');
    await alert.waitFor({ state: 'visible', timeout: 10_000 });
    const text = await alert.textContent();
    expect(text).toMatch(
      /^🚨 slack refused 2 messages, the last at .* \(slack: webhook answered HTTP 404: no_service\): the team was not told\./,
    );
    expect(text).toMatch(/Last: ⚠️ Stuck veo3_chollo \(veo3\)$/);
    await h.db.database.pool.query(`UPDATE notifications_sent SET delivered = true WHERE event_key LIKE 'r_:%:slack'`);
    await alert.waitFor({ state: 'detached', timeout: 10_000 });
    expect(pageErrors).toEqual([]);
  });

  it('raises an alert for a video posted on some platforms but not others, for a week (one from Friday is there on Monday)', async () => {
    const { rows } = await h.db.database.pool.query<{ id: string }>(
      `INSERT INTO competitive_recommendations (priority, recommendation_type, title, status, error, published_at)
       VALUES ('P1', 'player_spotlight', 'Solo en TikTok', 'partially_published', 'not published on instagram (instagram: HTTP 500)',
               now() - interval '3 days'),
              ('P2', 'player_spotlight', 'Hace ocho días', 'partially_published', 'not published on tiktok', now() - interval '8 days')
       RETURNING id`,
    );
    const alert = page.locator(`[data-testid="partial-alert"][data-recommendation-id="${rows[0]!.id}"]`);
    await alert.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await alert.textContent()).toContain('Partly published: P1 Solo en TikTok · not published on instagram (instagram: HTTP 500)');
    expect(await page.locator(`[data-testid="partial-alert"][data-recommendation-id="${rows[1]!.id}"]`).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('retries the failed platforms of a partial publish from its alert: our archived copy posted, no render, audited', async () => {
    h.sims.tiktok.setFaults({ failTasks: true });
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ jobConfig: { platforms: ['instagram', 'tiktok'] } }),
    );
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('partially_published');
    h.sims.tiktok.setFaults({ failTasks: false });
    const renders = h.sims.veo3.stats().submissions;
    const alert = page.locator(`[data-testid="partial-alert"][data-recommendation-id="${recommendation.id}"]`);
    await alert.waitFor({ state: 'visible', timeout: 10_000 });
    await alert.locator('[data-testid="republish-button"]').click();
    await page.locator('#toast', { hasText: 'on tiktok' }).waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('#toast').textContent()).toBe(`Republishing ${recommendation.title} on tiktok`);
    await reaches(recommendation.id, 'published', 'published everywhere after the republish');
    await alert.waitFor({ state: 'detached', timeout: 10_000 });
    expect(h.sims.veo3.stats().submissions).toBe(renders);
    const audit = await h.db.database.pool.query(`SELECT target FROM audit_log WHERE action = 'recommendation.republish'`);
    expect(audit.rows).toEqual([{ target: recommendation.id }]);
    expect(pageErrors).toEqual([]);
  });

  it('retries a render that died inside its submit from its alert: the KIE task typed in is adopted, nothing paid again', async () => {
    const { id, kieTask } = await failInsideSubmit(h);
    const renders = h.sims.veo3.stats().submissions;
    const alert = page.locator(`[data-testid="failed-alert"][data-recommendation-id="${id}"]`);
    await alert.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await alert.textContent()).toMatch(/Failed: P1 .*died during the submit request/);
    // No task typed: nothing is sent.
    await alert.locator('[data-testid="adopt-button"]').click();
    await page.locator('#toast', { hasText: 'Type the task id' }).waitFor({ state: 'visible', timeout: 10_000 });
    await alert.locator('input.retry').fill(kieTask);
    await alert.locator('[data-testid="adopt-button"]').click();
    await page.locator('#toast', { hasText: 'Retrying' }).waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('#toast').textContent()).toMatch(new RegExp(`with KIE task ${kieTask}: no new render paid for`));
    await reaches(id, 'published', 'published after the retry');
    await alert.waitFor({ state: 'detached', timeout: 10_000 });
    expect(h.sims.veo3.stats().submissions).toBe(renders);
    const audit = await h.db.database.pool.query(`SELECT target FROM audit_log WHERE action = 'recommendation.retry'`);
    expect(audit.rows).toEqual([{ target: id }]);
    expect(pageErrors).toEqual([]);
  });

  it('a post whose request died unanswered: the alert asks for its id instead of posting again, and records it', async () => {
    const { recId, postId } = await postOutcomeUnknown(h);
    const posts = h.sims.tiktok.pulledUrls().length;
    const alert = page.locator(`[data-testid="partial-alert"][data-recommendation-id="${recId}"]`);
    await alert.waitFor({ state: 'visible', timeout: 10_000 });
    // No button that would post on every failed platform: TikTok may have the post already.
    expect(await alert.locator('[data-testid="republish-button"]').count()).toBe(0);
    await alert.locator('[data-testid="record-post-button"]').click();
    await page.locator('#toast', { hasText: 'Type the id of the post found on tiktok' }).waitFor({ state: 'visible', timeout: 10_000 });
    await alert.locator('input[data-platform="tiktok"]').fill(postId);
    await alert.locator('[data-testid="record-post-button"]').click();
    await page.locator('#toast', { hasText: `Recording the tiktok post ${postId}` }).waitFor({ state: 'visible', timeout: 10_000 });
    await reaches(recId, 'published', 'published once the post is recorded');
    await alert.waitFor({ state: 'detached', timeout: 10_000 });
    expect(h.sims.tiktok.pulledUrls()).toHaveLength(posts);
    const audit = await h.db.database.pool.query(
      `SELECT target, detail FROM audit_log WHERE action = 'recommendation.republish' AND target = $1`,
      [recId],
    );
    expect(audit.rows).toEqual([{ target: recId, detail: expect.objectContaining({ platforms: ['tiktok'], adopted: postId }) }]);
    expect(pageErrors).toEqual([]);
  });

  it("a failed idea whose only post's request died: no Retry (it would post again); Not on tiktok: post again, once", async () => {
    const { recId } = await postOutcomeUnknown(h, { alone: true });
    const posts = h.sims.tiktok.pulledUrls().length;
    const alert = page.locator(`[data-testid="failed-alert"][data-recommendation-id="${recId}"]`);
    await alert.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await alert.locator('[data-testid="retry-button"]').count()).toBe(0);
    expect(await alert.locator('[data-testid="record-post-button"]').count()).toBe(1);
    await alert.locator('[data-testid="post-again-button"]').click();
    await page.locator('#toast', { hasText: 'again on tiktok' }).waitFor({ state: 'visible', timeout: 10_000 });
    await reaches(recId, 'published', 'published once posted again');
    await alert.waitFor({ state: 'detached', timeout: 10_000 });
    expect(h.sims.tiktok.pulledUrls()).toHaveLength(posts + 1);
    expect(pageErrors).toEqual([]);
  });

  it('hides the actions from a read-only token', async () => {
    await page.click('#logout');
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#token', api.tokens.read);
    await page.click('#login-button');
    await page.locator('#app').waitFor({ state: 'visible' });
    expect(await page.locator('body.read-only').count()).toBe(1);
    // Every table's action column (queue, names to teach) and every approval card's buttons.
    for (const th of await page.locator('th.actions-col').all()) expect(await th.isVisible()).toBe(false);
    for (const actions of await page.locator('.approval .actions').all()) expect(await actions.isVisible()).toBe(false);
  });

  it('shows when waiting jobs start and what holds them: queue, calendar at the ETA, quota bars and a parked badge', async () => {
    const sql = (text: string, params: unknown[] = []) => h.db.database.pool.query(text, params);
    // Only what this test spends counts: earlier tests' posts and the platform's last reading are cleared.
    await sql(`DELETE FROM quota_usage WHERE quota = 'instagram_posts'`);
    await sql(
      `UPDATE provider_quotas SET reported_at = NULL, reported_remaining = NULL, reported_limit = NULL WHERE name = 'instagram_posts'`,
    );
    // Instagram's rolling 24 h at its limit since 18 h ago: the next post can go in 6 h.
    await sql(`UPDATE provider_quotas SET quota_limit = 2 WHERE name = 'instagram_posts'`);
    await sql(`INSERT INTO quota_usage (quota, units, used_at) VALUES ('instagram_posts', 1, now() - interval '18 hours'),
                                                                     ('instagram_posts', 1, now() - interval '2 hours')`);
    await sql(`UPDATE provider_quotas SET parked_until = now() + interval '2 hours', parked_reason = 'spam_risk_too_many_posts'
                WHERE name = 'tiktok_posts'`);
    // The day's budget in a zone where it is now about noon (noonZone): in Madrid, within the minute before its
    // midnight the reset came before the render's one-minute deadline and the render was no longer late (CI, 23:00 UTC).
    const budgetZone = (await sql(`SELECT time_zone FROM provider_quotas WHERE name = 'veo3_credits_day'`)).rows[0].time_zone;
    await sql(`UPDATE provider_quotas SET time_zone = $1 WHERE name = 'veo3_credits_day'`, [noonZone()]);
    await sql(`INSERT INTO quota_usage (quota, units) VALUES ('veo3_credits_day', 4800)`);
    const { rows } = await sql(
      `INSERT INTO competitive_recommendations (priority, recommendation_type, title, status)
       VALUES ('P2', 'player_spotlight', 'Budimir espera su cuota', 'in_production') RETURNING id`,
    );
    const waiting = async (step: string, jobType: string, provider: string, priority: string, deadline: string | null = null) => {
      const job = await sql(`SELECT id FROM enqueue_job($1, $2, $3, $4, $5, '{}'::jsonb, $6, NULL, now() + $7::interval, 30, 3)`, [
        `wf-dash-${step}`,
        step,
        jobType,
        provider,
        priority,
        rows[0].id,
        deadline,
      ]);
      await sql(`SELECT wait_for_slot($1, 1)`, [job.rows[0].id]);
      return job.rows[0].id as string;
    };
    const post = await waiting('publish:instagram', 'instagram_reel', 'instagram', 'P1');
    // Due in a minute, but the day's budget comes back at its midnight, hours away: the page says it will expire unstarted.
    const render = await waiting('generate', 'veo3_chollo', 'veo3', 'P2', '1 minute');
    try {
      const reset = (await sql(`SELECT reset_at FROM quota_status WHERE name = 'instagram_posts'`)).rows[0].reset_at as Date;

      // The queue: the post's expected start and the quota it waits for; the render waits for the day's budget.
      const eta = page.locator(`tr[data-job-id="${post}"] [data-testid="eta"]`);
      await expect.poll(() => eta.getAttribute('data-waiting-for'), { timeout: 10_000 }).toBe('quota');
      expect(await eta.textContent()).toMatch(/^~.+ · in (5h 59m|6h 0m)waiting for quota instagram_posts$/);
      expect(await eta.locator('time').getAttribute('datetime')).toBe(reset.toISOString());
      const renderEta = page.locator(`tr[data-job-id="${render}"] [data-testid="eta"]`);
      expect(await renderEta.getAttribute('data-waiting-for')).toBe('budget');
      expect(await renderEta.textContent()).toContain('waiting for budget veo3_credits_day');
      expect(await renderEta.locator('[data-testid="eta-late"]').textContent()).toBe('after its deadline: expires unstarted');
      expect(await eta.locator('[data-testid="eta-late"]').count()).toBe(0);

      // The calendar draws the post where it will run (6 h out), not at now.
      // Its provider leads the label: after the title, it was cut off.
      expect(await page.textContent(`[data-testid="calendar-row"][data-job-id="${post}"] .label`)).toMatch(/^P1 instagram · /);
      const bar = page.locator(`[data-testid="calendar-row"][data-job-id="${post}"] .bar.waiting`);
      expect(await bar.getAttribute('data-planned-at')).toBe(reset.toISOString());
      const left = await bar.evaluate((el) => parseFloat((el as unknown as { style: { left: string } }).style.left));
      expect(left).toBeGreaterThan(24);
      expect(left).toBeLessThan(26);

      // Provider cards: a bar of used/limit with its reset; a parked quota says until when and why.
      const quota = page.locator('[data-provider="instagram"] [data-testid="quota"][data-quota="instagram_posts"]');
      expect(await quota.textContent()).toMatch(/^Quota instagram_posts2 \/ 2 postsresets .+ \(in (5h 59m|6h 0m)\)$/);
      expect(await quota.locator('.meter.full').count()).toBe(1);
      expect(await page.textContent('[data-provider="instagram"] [data-testid="next-start"]')).toMatch(
        /^Next start ~.+ \(in (5h 59m|6h 0m)\), waiting for quota instagram_posts$/,
      );
      const parked = page.locator('[data-provider="tiktok"] [data-testid="quota-parked"]');
      expect(await parked.textContent()).toMatch(/^parked until .+: spam_risk_too_many_posts$/);
      const budget = page.locator('[data-provider="veo3"] [data-testid="quota"][data-quota="veo3_credits_day"]');
      // 4,800 put in here plus what this file's renders cost so far.
      const spent = Number((await sql(`SELECT used FROM quota_status WHERE name = 'veo3_credits_day'`)).rows[0].used);
      expect(spent).toBeGreaterThanOrEqual(4800);
      expect(await budget.textContent()).toContain(`Budget veo3_credits_day${spent} / 6000 credits`);
      // Today's spend is the budget's (billed at each render's start); no second figure for "today" in the card.
      expect(await page.textContent('[data-provider="veo3"] dl')).not.toMatch(/today/i);
      // On one line, as every other value of the card ('780 credits' as a value wrapped onto a second).
      const heights = await page.$$eval('[data-provider="veo3"] dl dd', (dds) => dds.map((d) => d.getBoundingClientRect().height));
      expect(new Set(heights).size, JSON.stringify(heights)).toBe(1);
      // The first test's cancelled render (120 s) still finishing holds a slot: said below the figures.
      expect((await sql(`SELECT count(*)::int AS n FROM held_slots WHERE provider = 'veo3'`)).rows[0].n).toBe(1);
      expect(await page.locator('[data-provider="veo3"] [data-testid="held"]').allTextContents()).toEqual([
        expect.stringMatching(/^Slot held: a cancelled render finishing \(task .+\)$/),
      ]);
      expect(await page.textContent('[data-provider="instagram"] dl')).toMatch(/Cost today0(?!\.)/);

      fs.mkdirSync(path.dirname(QUOTA_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: QUOTA_SCREENSHOT, fullPage: true });
      expect(pageErrors).toEqual([]);
    } finally {
      await sql(`UPDATE automation_queue SET status = 'cancelled', waiting_since = NULL WHERE id = ANY($1)`, [[post, render]]);
      await sql(`DELETE FROM quota_usage WHERE quota IN ('instagram_posts', 'veo3_credits_day')`);
      await sql(`UPDATE provider_quotas SET time_zone = $1 WHERE name = 'veo3_credits_day'`, [budgetZone]);
      await sql(`UPDATE provider_quotas SET quota_limit = 50 WHERE name = 'instagram_posts'`);
      await sql(`UPDATE provider_quotas SET parked_until = NULL, parked_reason = NULL WHERE name = 'tiktok_posts'`);
    }
  });
});
