/**
 * What the Instagram, TikTok and YouTube simulators share for post-publication metrics: the posts they published
 * (id and time), a deterministic growth curve per post and the two failures a metrics read meets in practice, a
 * deleted post and a token without the read permission. Each simulator answers the reads in its own shapes
 * (insights, video/query, videos.list statistics); this is only the bookkeeping and the curve.
 *
 * The curve: a post's lifetime views tend to a ceiling drawn from its id (log-uniform, 300 to 90,000), reached
 * along 1 - e^(-age/τ) with τ between 12 and 48 hours, so +1 h reads a little, +24 h most and +7 d nearly all.
 * Likes, comments, shares, saves and reach are fixed shares of the views, also drawn from the id. Same id, same
 * age: same figures, on every run and after a restart.
 *
 * Control routes (not counted, no faults):
 *   GET/POST /__sim/metrics              {hourMs?, permissionDenied?}: hourMs = real ms one hour of age takes
 *                                         (default 3,600,000; tests compress it)
 *   POST /__sim/metrics/posts             {id, publishedAt?}: a post the simulator did not publish itself
 *   POST /__sim/metrics/posts/<id>/delete the post is deleted: reads answer the platform's "gone"
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SimExtension, SimReply, SimRequest } from './server';
import { METRICS_HOUR_MS } from '../config/providers';

export interface SimPostCounts {
  views: number;
  reach: number;
  likes: number;
  comments: number;
  shares: number;
  saves: number;
  /** likes + comments + shares + saves (Instagram's total_interactions). */
  interactions: number;
}

interface Saved {
  posts: Record<string, { publishedAt: number; deleted?: boolean }>;
  hourMs: number;
  permissionDenied: boolean;
}

const knobsPatch = z.object({ hourMs: z.number().positive(), permissionDenied: z.boolean() }).partial().strict();
const postBody = z.object({ id: z.string().min(1), publishedAt: z.union([z.number(), z.string().datetime()]).optional() }).strict();

export class PostMetricsSim implements SimExtension {
  readonly name = 'postMetrics';
  /** Real milliseconds that count as one hour of a post's age. */
  hourMs = METRICS_HOUR_MS;
  /** Every read answers the platform's missing-permission error (a token without the insights / video.list scope). */
  permissionDenied = false;
  private posts = new Map<string, { publishedAt: number; deleted?: boolean }>();
  private defaultHourMs: number;

  constructor(options: { hourMs?: number } = {}) {
    this.defaultHourMs = options.hourMs ?? METRICS_HOUR_MS;
    this.hourMs = this.defaultHourMs;
  }

  /** Compresses time for good (reset() keeps it): `npm run simulators` with SIMULATOR_METRICS_HOUR_MS. */
  setDefaultHourMs(hourMs: number): void {
    this.defaultHourMs = hourMs;
    this.hourMs = hourMs;
  }

  /** The simulator published this post (or a test says it exists): its age counts from publishedAt. */
  published(id: string, publishedAt = Date.now()): void {
    if (!this.posts.has(id)) this.posts.set(id, { publishedAt });
  }

  knows(id: string): boolean {
    return this.posts.has(id);
  }

  isDeleted(id: string): boolean {
    return this.posts.get(id)?.deleted === true;
  }

  publishedAt(id: string): number | undefined {
    return this.posts.get(id)?.publishedAt;
  }

  delete(id: string): boolean {
    const post = this.posts.get(id);
    if (!post) return false;
    post.deleted = true;
    return true;
  }

  /** A post's counts now; 'gone' for a deleted or unknown post. */
  read(id: string, now = Date.now()): SimPostCounts | 'gone' {
    const post = this.posts.get(id);
    if (!post || post.deleted) return 'gone';
    return countsAt(id, Math.max(0, now - post.publishedAt) / this.hourMs);
  }

  routes() {
    return [];
  }

  controlRoutes() {
    return [
      { method: 'GET', pattern: /^\/__sim\/metrics$/, handler: () => this.knobsReply() },
      {
        method: 'POST',
        pattern: /^\/__sim\/metrics$/,
        handler: (req: SimRequest) => {
          Object.assign(this, knobsPatch.parse(req.json()));
          return this.knobsReply();
        },
      },
      {
        method: 'POST',
        pattern: /^\/__sim\/metrics\/posts$/,
        handler: (req: SimRequest): SimReply => {
          const body = postBody.parse(req.json());
          const at = body.publishedAt === undefined ? Date.now() : new Date(body.publishedAt).getTime();
          this.published(body.id, at);
          return { status: 200, body: { ok: true } };
        },
      },
      {
        method: 'POST',
        pattern: /^\/__sim\/metrics\/posts\/([^/]+)\/delete$/,
        handler: (req: SimRequest): SimReply =>
          this.delete(req.params[0] ?? '')
            ? { status: 200, body: { ok: true } }
            : { status: 404, body: { ok: false, error: { message: `no post ${req.params[0]}` } } },
      },
    ];
  }

  isPublic(): boolean {
    return false;
  }

  reset(): void {
    this.posts = new Map();
    this.hourMs = this.defaultHourMs;
    this.permissionDenied = false;
  }

  toJSON(): Saved {
    return { posts: Object.fromEntries(this.posts), hourMs: this.hourMs, permissionDenied: this.permissionDenied };
  }

  load(state: unknown): void {
    // Posts are the provider's state; the knobs are this run's configuration and are not taken back.
    const saved = state as Partial<Saved> | undefined;
    for (const [id, post] of Object.entries(saved?.posts ?? {})) this.posts.set(id, { ...post });
  }

  private knobsReply(): SimReply {
    return { status: 200, body: { hourMs: this.hourMs, permissionDenied: this.permissionDenied, posts: this.posts.size } };
  }
}

/** The curve, a pure function of the post id and its age in hours: non-decreasing in age for every count. */
export function countsAt(id: string, ageHours: number): SimPostCounts {
  const digest = createHash('sha256').update(id).digest();
  // Eight independent uniforms in [0, 1) from the digest.
  const u = (i: number) => digest.readUInt32BE(i * 4) / 2 ** 32;
  const ceiling = 300 * 300 ** u(0);
  const tauHours = 12 + 36 * u(1);
  const views = Math.floor(ceiling * (1 - Math.exp(-ageHours / tauHours)));
  const share = (i: number, low: number, high: number) => Math.floor(views * (low + (high - low) * u(i)));
  const likes = share(2, 0.02, 0.08);
  const comments = share(3, 0.002, 0.01);
  const shares = share(4, 0.003, 0.02);
  const saves = share(5, 0.005, 0.03);
  return { views, reach: share(6, 0.6, 0.85), likes, comments, shares, saves, interactions: likes + comments + shares + saves };
}
