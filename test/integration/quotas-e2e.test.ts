/**
 * Quotas end to end: real Temporal, PostgreSQL, workers and the Instagram
 * simulator enforcing its own publishing limit (a moving window compressed to
 * seconds). No publish fails because of a quota: either our count keeps the
 * provider from refusing, or the provider's refusal parks the quota and the
 * job waits in line without spending an attempt.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { waitUntil } from '../helpers/wait';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ taskDurationMs: 50, limits: { instagram: { maxConcurrent: 1, minStartIntervalMs: 0 } } });
});
afterAll(async () => h?.stop());

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await h.db.database.pool.query(text, params)).rows as T[];

const WINDOW_S = 6;

async function publishAll(priorities: string[]) {
  // Instagram paused until every publish job waits in its line, so the order is the gate's, not the enqueue's.
  await q(`UPDATE provider_limits SET max_concurrent = 0 WHERE provider = 'instagram'`);
  const recs = [];
  for (const [i, priority] of priorities.entries()) {
    recs.push(
      await h.service.enqueue(recommendationInput({ title: `cuota ${i} ${priority}`, priority, jobConfig: { platforms: ['instagram'] } })),
    );
  }
  const ids = recs.map((r) => r.recommendation.id);
  await waitUntil(
    async () => {
      const [row] = await q<{ n: number }>(
        `SELECT count(*)::int AS n FROM automation_queue WHERE recommendation_id = ANY($1::uuid[]) AND step = 'publish:instagram'
            AND status = 'queued' AND waiting_since IS NOT NULL`,
        [ids],
      );
      return row!.n === ids.length;
    },
    { timeoutMs: 60_000, what: 'every publish job in line' },
  );
  const opened = Date.now();
  await q(`UPDATE provider_limits SET max_concurrent = 1 WHERE provider = 'instagram'`);
  await q(`SELECT grant_slots('instagram')`);
  const outcomes = await Promise.all(recs.map((r) => h.client.workflow.getHandle(r.workflowId).result()));
  const posts = await q<{ priority: string; at: Date; attempts: number; recommendation_id: string }>(
    `SELECT j.priority, min(e.created_at) AS at, j.attempts, j.recommendation_id
       FROM automation_queue j JOIN job_events e ON e.job_id = j.id AND e.event = 'provider_call'
      WHERE j.recommendation_id = ANY($1::uuid[]) AND j.step = 'publish:instagram'
      GROUP BY j.id ORDER BY at`,
    [ids],
  );
  return { outcomes, posts, opened, ids };
}

describe('a publishing quota reached mid-run', () => {
  it('holds the jobs that do not fit until the window frees units, in priority order, and fails none', async () => {
    await q(
      `UPDATE provider_quotas SET quota_limit = 3, window_kind = 'moving', window_seconds = ${WINDOW_S} WHERE name = 'instagram_posts'`,
    );
    h.sims.instagram.publishQuota = 3;
    h.sims.instagram.publishWindowMs = WINDOW_S * 1_000;
    const { outcomes, posts, opened } = await publishAll(['P3', 'P2', 'P3', 'P0', 'P1']);

    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('published'));
    // The provider never had to refuse: our count stopped the fourth post until the window moved.
    expect((h.sims.instagram.stats() as { quotaRefusals: number }).quotaRefusals).toBe(0);
    expect(posts.map((p) => p.priority)).toEqual(['P0', 'P1', 'P2', 'P3', 'P3']);
    expect(posts[3]!.at.getTime() - opened).toBeGreaterThanOrEqual(WINDOW_S * 1_000 - 1_000);
    expect(posts.every((p) => p.attempts === 1)).toBe(true);
  });
});

describe("the provider's own figures", () => {
  it("Instagram's content_publishing_limit lowers our limit before any post is refused", async () => {
    await q(`DELETE FROM quota_usage`);
    // Ours says 50 per window; the account allows 2 (a lower quota_total): its own reading says so before each post.
    await q(
      `UPDATE provider_quotas SET quota_limit = 50, window_kind = 'moving', window_seconds = ${WINDOW_S} WHERE name = 'instagram_posts'`,
    );
    h.sims.instagram.reset();
    h.sims.instagram.publishQuota = 2;
    h.sims.instagram.publishWindowMs = WINDOW_S * 1_000;
    const { outcomes, posts } = await publishAll(['P1', 'P1', 'P1']);

    expect(outcomes.map((o) => o.status)).toEqual(['published', 'published', 'published']);
    expect((h.sims.instagram.stats() as { quotaRefusals: number }).quotaRefusals).toBe(0);
    const [status] = await q<{ reported_limit: string }>(`SELECT reported_limit FROM quota_status WHERE name = 'instagram_posts'`);
    expect(Number(status!.reported_limit)).toBe(2);
    // The third post waited for the window, not for a refusal and a retry.
    expect(posts[2]!.at.getTime() - posts[0]!.at.getTime()).toBeGreaterThanOrEqual(WINDOW_S * 1_000 - 1_000);
    expect(posts.every((p) => p.attempts === 1)).toBe(true);
  });

  it("a provider's refusal parks that quota until the provider's reset and the job waits in line, spending no attempt", async () => {
    // TikTok has no usage endpoint: a creator cap lower than ours is learnt from spam_risk_too_many_posts.
    await q(`UPDATE provider_limits SET min_start_interval_ms = 0 WHERE provider = 'tiktok'`);
    await q(`UPDATE provider_quotas SET quota_limit = 15, parked_until = NULL WHERE name = 'tiktok_posts'`);
    h.sims.tiktok.reset();
    const knobs = await fetch(`${h.sims.tiktok.url}/__sim/quotas`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ creatorPostsPerDay: 1 }),
    });
    expect(knobs.status).toBe(200);
    const recs = [];
    for (const priority of ['P0', 'P2']) {
      recs.push(
        await h.service.enqueue(recommendationInput({ title: `tiktok ${priority}`, priority, jobConfig: { platforms: ['tiktok'] } })),
      );
    }
    const ids = recs.map((r) => r.recommendation.id);
    // Whichever reaches TikTok second is refused: the quota is parked until TikTok's day ends (midnight UTC) and the job waits.
    const refused = await waitUntil(
      async () => {
        const [row] = await q<{ job_id: string }>(
          `SELECT e.job_id FROM job_events e JOIN automation_queue j ON j.id = e.job_id
            WHERE j.recommendation_id = ANY($1::uuid[]) AND e.event = 'quota_parked'`,
          [ids],
        );
        return row?.job_id;
      },
      { timeoutMs: 60_000, what: 'the refused post parking the TikTok quota' },
    );
    const [parked] = await q<{ parked_until: Date; parked_reason: string }>(
      `SELECT parked_until, parked_reason FROM quota_status WHERE name = 'tiktok_posts'`,
    );
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    expect(parked!.parked_until.getTime()).toBe(midnight.getTime());
    expect(parked!.parked_reason).toMatch(/spam_risk_too_many_posts/);
    // The park and the job's leaving its slot commit together; its activity rejoins the line right after.
    const job = await waitUntil(
      async () =>
        (
          await q<{ status: string; attempts: number; waiting: boolean }>(
            `SELECT status, attempts, waiting_since IS NOT NULL AS waiting FROM automation_queue WHERE id = $1`,
            [refused],
          )
        )[0],
      { until: (j) => Boolean(j?.waiting), timeoutMs: 10_000, what: 'the refused job back in line' },
    );
    expect(job).toEqual({ status: 'queued', attempts: 1, waiting: true });

    // The day turns (here: the creator's cap is raised and an operator lifts the park): the job posts on its first attempt.
    await fetch(`${h.sims.tiktok.url}/__sim/quotas`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ creatorPostsPerDay: 5 }),
    });
    await q(`UPDATE provider_quotas SET parked_until = NULL WHERE name = 'tiktok_posts'`);
    const outcomes = await Promise.all(recs.map((r) => h.client.workflow.getHandle(r.workflowId).result()));
    expect(outcomes.map((o) => o.status)).toEqual(['published', 'published']);
    const retried = await q(
      `SELECT e.id FROM job_events e JOIN automation_queue j ON j.id = e.job_id
        WHERE j.recommendation_id = ANY($1::uuid[]) AND e.event IN ('retrying', 'failed')`,
      [ids],
    );
    expect(retried).toHaveLength(0);
  });
});

describe('the KIE credit balance', () => {
  it('a balance that cannot cover a render holds the render in line, unpaid, until it is topped up', async () => {
    const kie = h.sims.veo3;
    kie.credits.balance = 30;
    const submissionsBefore = kie.stats().submissions;
    const rec = await h.service.enqueue(recommendationInput({ title: 'sin créditos', jobConfig: { platforms: ['instagram'] } }));
    const parked = await waitUntil(
      async () => {
        const [row] = await q<{ parked_reason: string | null }>(`SELECT parked_reason FROM quota_status WHERE name = 'veo3_credits_day'`);
        return row?.parked_reason;
      },
      { timeoutMs: 60_000, what: 'the credit budget parked' },
    );
    // Our check (the balance read before a render, at most once a minute) or KIE's own 402 if the last read is older news.
    expect(parked).toMatch(/credit balance \(30\) does not cover a render \(60\)|credits are insufficient/i);
    const [job] = await q<{ status: string; attempts: number }>(
      `SELECT status, attempts FROM automation_queue WHERE recommendation_id = $1 AND step LIKE 'generate%'`,
      [rec.recommendation.id],
    );
    expect(job).toEqual({ status: 'queued', attempts: 1 });
    expect(kie.stats().submissions).toBe(submissionsBefore);

    // Topped up; the re-check (here lifted by hand instead of in 5 minutes) lets the render through, paid once.
    kie.credits.balance = 10_000;
    await q(`UPDATE provider_quotas SET parked_until = NULL WHERE provider = 'veo3'`);
    const outcome = await h.client.workflow.getHandle(rec.workflowId).result();
    expect(outcome.status).toBe('published');
    expect(kie.stats().submissions).toBe(submissionsBefore + 1);
  });

  it("TikTok's cap in the publish's status parks the quota as its refusal at init does: the post waits, uploads anew", async () => {
    const tiktok = h.sims.tiktok;
    const knobs = (body: Record<string, unknown>) =>
      fetch(`${tiktok.url}/__sim/quotas`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const submissions = tiktok.stats().submissions;
    await knobs({ creatorPostsPerDay: 0, capReportedAt: 'status' });
    try {
      const rec = await h.service.enqueue(recommendationInput({ title: 'tope diario', jobConfig: { platforms: ['tiktok'] } }));
      const [job] = await waitUntil(
        () =>
          q<{ id: string; status: string; attempts: number; provider_task_id: string | null }>(
            `SELECT j.id, j.status, j.attempts, j.provider_task_id FROM automation_queue j
              WHERE j.recommendation_id = $1 AND j.step = 'publish:tiktok'
                AND EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = j.id AND e.event = 'quota_parked')`,
            [rec.recommendation.id],
          ),
        { timeoutMs: 60_000, what: 'the TikTok quota parked by the failed publish', until: (rows) => rows.length === 1 },
      );
      // Back in line, not failed: the failed upload forgotten, the day's quota parked until TikTok's reset.
      expect(job).toMatchObject({ status: 'queued', provider_task_id: null });
      const [parked] = await q<{ parked_reason: string }>(`SELECT parked_reason FROM provider_quotas WHERE name = 'tiktok_posts'`);
      expect(parked!.parked_reason).toMatch(/spam_risk_too_many_posts/);

      // The next day (the cap lifted, the park cleared by hand instead of at midnight): a new upload, posted once.
      await knobs({ creatorPostsPerDay: null });
      await q(`UPDATE provider_quotas SET parked_until = NULL WHERE name = 'tiktok_posts'`);
      const outcome = await h.client.workflow.getHandle(rec.workflowId).result();
      expect(outcome).toMatchObject({ status: 'published', posts: [{ platform: 'tiktok' }] });
      expect(tiktok.stats().submissions).toBe(submissions + 2);
    } finally {
      await knobs({ creatorPostsPerDay: null, capReportedAt: 'init' });
      await q(`UPDATE provider_quotas SET parked_until = NULL WHERE name = 'tiktok_posts'`);
    }
  });

  it('a quality (veo3) render is counted at its own price: the cost KIE charged, in the job and the budgets', async () => {
    const kie = h.sims.veo3;
    kie.credits.balance = 10_000;
    const rec = await h.service.enqueue(recommendationInput({ title: 'calidad', jobConfig: { platforms: ['instagram'], model: 'veo3' } }));
    expect((await h.client.workflow.getHandle(rec.workflowId).result()).status).toBe('published');
    // KIE's simulator charges its model's price (250 for veo3); every render used to record veo3_fast's 60.
    expect(kie.credits.balance).toBe(10_000 - 250);
    const [job] = await q<{ id: string; cost: string; credits: string }>(
      `SELECT id, cost, job_config->>'credits' AS credits FROM automation_queue WHERE recommendation_id = $1 AND step LIKE 'generate%'`,
      [rec.recommendation.id],
    );
    expect(Number(job!.cost)).toBe(250);
    // Priced at enqueue, so the gate granted it at 250 (the deployment renders veo3_fast, 60).
    expect(Number(job!.credits)).toBe(250);
    const usage = await q<{ quota: string; units: string }>(`SELECT quota, units FROM quota_usage WHERE job_id = $1 ORDER BY quota`, [
      job!.id,
    ]);
    expect(usage.map((u) => [u.quota, Number(u.units)])).toEqual([
      ['veo3_credits_day', 250],
      ['veo3_credits_month', 250],
    ]);
  });
});

describe("YouTube's units, charged per call", () => {
  it("a YouTube post's status reads are counted as Google counts them: each read a unit on the post's take", async () => {
    const youtube = h.sims.youtube;
    youtube.setFaults({ taskDurationMs: 1_500 });
    const before = youtube.units.used('project');
    const covers = youtube.thumbnailsSet().length;
    try {
      const rec = await h.service.enqueue(recommendationInput({ title: 'lecturas', jobConfig: { platforms: ['youtube'] } }));
      expect((await h.client.workflow.getHandle(rec.workflowId).result()).status).toBe('published');
      const [usage] = await q<{ units: string }>(
        `SELECT sum(u.units) AS units FROM quota_usage u JOIN automation_queue j ON j.id = u.job_id
          WHERE j.recommendation_id = $1 AND j.step = 'publish:youtube' AND u.quota = 'youtube_api_units'`,
        [rec.recommendation.id],
      );
      // Google's count: the insert (1,600), the cover if one was set (50), and one unit per videos.list.
      const reads = youtube.units.used('project') - before - 1_600 - 50 * (youtube.thumbnailsSet().length - covers);
      expect(reads).toBeGreaterThanOrEqual(3);
      // Ours: the post's price (insert and cover, 1,650) and every read on top.
      expect(Number(usage!.units)).toBe(1_650 + reads);
    } finally {
      youtube.setFaults({ taskDurationMs: 50 });
    }
  });

  it("gives back an upload's units when our video host failed before any call: its retry takes them once", async () => {
    await q(`UPDATE provider_limits SET max_concurrent = 0 WHERE provider = 'youtube'`);
    const rec = await h.service.enqueue(recommendationInput({ title: 'copia rota', jobConfig: { platforms: ['youtube'] } }));
    const [job] = await waitUntil(
      () =>
        q<{ id: string }>(
          `SELECT id FROM automation_queue WHERE recommendation_id = $1 AND step = 'publish:youtube' AND waiting_since IS NOT NULL`,
          [rec.recommendation.id],
        ),
      { timeoutMs: 60_000, what: 'the YouTube post in line, its video archived', until: (rows) => rows.length === 1 },
    );
    // Our copy cannot be served (a directory where the file was: the media server answers 500) when the post starts.
    const [asset] = await q<{ storage_key: string }>(`SELECT storage_key FROM video_assets WHERE recommendation_id = $1`, [
      rec.recommendation.id,
    ]);
    const file = path.join(h.env.REELFLOW_ARCHIVE_DIR!, asset!.storage_key);
    await fs.rename(file, `${file}.kept`);
    await fs.mkdir(file);
    const inserts = h.sims.youtube.stats().submissions;
    try {
      await q(`UPDATE provider_limits SET max_concurrent = 2 WHERE provider = 'youtube'`);
      await q(`SELECT grant_slots('youtube')`);
      await waitUntil(() => q(`SELECT 1 FROM job_events WHERE job_id = $1 AND event = 'retrying'`, [job!.id]), {
        timeoutMs: 30_000,
        what: 'the first attempt failed on our video host',
        until: (rows) => rows.length > 0,
      });
    } finally {
      await fs.rmdir(file);
      await fs.rename(`${file}.kept`, file);
    }
    expect((await h.client.workflow.getHandle(rec.workflowId).result()).status).toBe('published');
    expect(h.sims.youtube.stats().submissions).toBe(inserts + 1);
    // One videos.insert, one take: the failed attempt's units came back before the retry took them again.
    const takes = await q<{ take: number; units: string }>(
      `SELECT take, units FROM quota_usage WHERE job_id = $1 AND quota = 'youtube_api_units'`,
      [job!.id],
    );
    expect(takes.map((t) => t.take)).toEqual([1]);
    expect(Number(takes[0]!.units)).toBeGreaterThan(1_650);
  });
});
