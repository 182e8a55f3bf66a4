/**
 * Post metrics reads, real clients against the simulators: each platform's request (Instagram insights with only
 * the metrics that exist now, TikTok video/query, YouTube videos.list statistics), counts that grow with the
 * post's age and are the same for the same post and age, and the platforms' own answers for a deleted post
 * (POST_GONE, permanent) and a token without the read permission (permanent, not POST_GONE).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env';
import { createProviders } from '../../src/providers';
import { isPostGone, POST_GONE, ProviderError } from '../../src/providers/errors';
import { startSimulators, type RunningSimulators } from '../../src/simulators/index';
import { countsAt } from '../../src/simulators/post-metrics';
import type { PostMetrics, Providers } from '../../src/providers/types';
import { POLL } from './support';
import { waitUntil } from '../helpers/wait';

const PLATFORMS = ['instagram', 'tiktok', 'youtube'] as const;
type Platform = (typeof PLATFORMS)[number];

describe('post metrics against the simulators', () => {
  let running: RunningSimulators;
  let providers: Providers;
  const posts = {} as Record<Platform, string>;

  beforeAll(async () => {
    // One hour of a post's age every 20 ms: a second of test is two days of the post's life.
    running = await startSimulators({ taskDurationMs: 50, metricsHourMs: 20 });
    providers = createProviders(loadEnv(running.env));
    // Each published through the real publish flow, so the simulator knows the post as the platform would.
    for (const platform of PLATFORMS) {
      const publisher = providers[platform];
      const { handle } = await publisher.createUpload({ videoUrl: `${running.sims.instagram.url}/videos/x.mp4`, caption: 'c', title: 't' });
      const status = await waitUntil(() => publisher.getStatus(handle), { until: (s) => s.state !== 'processing', ...POLL });
      posts[platform] = status.state === 'published' ? status.postId : (await publisher.publish(handle)).postId;
    }
  });
  afterAll(() => running.stop());

  const sims = () => [running.sims.instagram, running.sims.tiktok, running.sims.youtube];

  it('reads counts that grow with the post age, deterministic per post', async () => {
    for (const s of sims()) {
      const knobs = (await (await fetch(`${s.url}/__sim/metrics`)).json()) as { hourMs: number };
      expect(knobs.hourMs).toBe(20);
    }
    const first = {} as Record<Platform, PostMetrics>;
    for (const p of PLATFORMS) first[p] = await providers[p].readMetrics(posts[p]);
    await new Promise((r) => setTimeout(r, 500));
    for (const p of PLATFORMS) {
      const later = await providers[p].readMetrics(posts[p]);
      expect(later.views!, p).toBeGreaterThan(first[p].views!);
      expect(later.likes!, p).toBeGreaterThanOrEqual(first[p].likes!);
      expect(later.comments!, p).toBeGreaterThanOrEqual(first[p].comments!);
    }
    const ig = await providers.instagram.readMetrics(posts.instagram);
    // Instagram gives every figure; TikTok and YouTube have no reach or saves.
    for (const k of ['views', 'reach', 'likes', 'comments', 'shares', 'saves', 'interactions'] as const) expect(ig[k], k).not.toBeNull();
    expect(ig.interactions).toBe(ig.likes! + ig.comments! + ig.shares! + ig.saves!);
    const tt = await providers.tiktok.readMetrics(posts.tiktok);
    expect(tt.reach).toBeNull();
    expect(tt.saves).toBeNull();
    expect(tt.interactions).toBe(tt.likes! + tt.comments! + tt.shares!);
    const yt = await providers.youtube.readMetrics(posts.youtube);
    expect(yt.shares).toBeNull();
    // The curve is a function of id and age alone.
    expect(countsAt('post-a', 24)).toEqual(countsAt('post-a', 24));
    expect(countsAt('post-a', 24)).not.toEqual(countsAt('post-b', 24));
    expect(countsAt('post-a', 0).views).toBe(0);
    expect(countsAt('post-a', 168).views).toBeGreaterThan(countsAt('post-a', 24).views);
  });

  it('the time scale and the permission are knobs over HTTP; a reset goes back to the configured scale', async () => {
    const sim = running.sims.tiktok;
    const set = await fetch(`${sim.url}/__sim/metrics`, { method: 'POST', body: JSON.stringify({ hourMs: 5, permissionDenied: true }) });
    expect(await set.json()).toMatchObject({ hourMs: 5, permissionDenied: true });
    const bad = await fetch(`${sim.url}/__sim/metrics`, { method: 'POST', body: JSON.stringify({ hourMs: -1 }) });
    expect(bad.status).toBe(400);
    sim.reset();
    expect(sim.metrics.hourMs).toBe(20);
    expect(sim.metrics.permissionDenied).toBe(false);
    // reset() also forgets the posts: this post is gone until it is known again.
    sim.metrics.published(posts.tiktok, Date.now() - 24 * 20);
    expect((await providers.tiktok.readMetrics(posts.tiktok)).views).toBeGreaterThan(0);
  });

  it('asks Instagram only for the metrics that exist now, and the simulator refuses retired ones', async () => {
    const res = await fetch(`${running.env.INSTAGRAM_BASE_URL}/${posts.instagram}/insights?metric=views,plays,reach&access_token=t`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(100);
    expect(body.error.message).toMatch(/metric\[1\] must be one of/);
    // The client's own request succeeds, so it names none of them.
    await expect(providers.instagram.readMetrics(posts.instagram)).resolves.toBeTruthy();
  });

  it('a token without the read permission is a permanent error that is not POST_GONE', async () => {
    for (const s of sims()) s.metrics.permissionDenied = true;
    try {
      for (const p of PLATFORMS) {
        const err = await providers[p].readMetrics(posts[p]).catch((e: unknown) => e);
        expect(err, p).toBeInstanceOf(ProviderError);
        expect((err as ProviderError).kind, p).toBe('permanent');
        expect((err as ProviderError).retryable, p).toBe(false);
        expect(isPostGone(err), p).toBe(false);
      }
      const tt = (await providers.tiktok.readMetrics(posts.tiktok).catch((e: unknown) => e)) as ProviderError;
      expect(tt.details.code).toBe('scope_not_authorized');
      const yt = (await providers.youtube.readMetrics(posts.youtube).catch((e: unknown) => e)) as ProviderError;
      expect(yt.details).toMatchObject({ status: 403, code: 'forbidden' });
      const ig = (await providers.instagram.readMetrics(posts.instagram).catch((e: unknown) => e)) as ProviderError;
      expect(ig.message).toMatch(/\(#10\)/);
    } finally {
      for (const s of sims()) s.metrics.permissionDenied = false;
    }
  });

  it('a deleted post is POST_GONE on every platform, in each platform shape', async () => {
    running.sims.instagram.metrics.delete(posts.instagram);
    running.sims.tiktok.metrics.delete(posts.tiktok);
    const res = await fetch(`${running.sims.youtube.url}/__sim/metrics/posts/${posts.youtube}/delete`, { method: 'POST' });
    expect(res.status).toBe(200);
    for (const p of PLATFORMS) {
      const err = await providers[p].readMetrics(posts[p]).catch((e: unknown) => e);
      expect(err, p).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).kind, p).toBe('permanent');
      expect((err as ProviderError).details.code, p).toBe(POST_GONE);
    }
    // Graph's own words for an object it no longer has.
    const graph = await fetch(`${running.env.INSTAGRAM_BASE_URL}/${posts.instagram}/insights?metric=views&access_token=t`);
    expect(((await graph.json()) as { error: { error_subcode: number } }).error.error_subcode).toBe(33);
  });
});
