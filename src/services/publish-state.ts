/**
 * Where a recommendation is posted, from its publish jobs (the first publish's and every republish's): the plan's
 * platforms, those with a completed post, and those whose posts all failed with the last error. The republish
 * command reads it to know what to retry; the republish workflow to record the status it leads to.
 */
import type pg from 'pg';
import { PUBLISH_PLATFORMS, type PublishPlatform } from '../config/providers';

export interface PublishState {
  platforms: PublishPlatform[];
  published: PublishPlatform[];
  failed: Array<{ platform: PublishPlatform; error: string }>;
}

/** The error a partly published recommendation carries: each missing platform with its post's error (null: none). */
export function notPublishedOn(failed: ReadonlyArray<{ platform: string; error: string }>): string | null {
  return failed.length ? `not published on ${failed.map((f) => `${f.platform} (${f.error})`).join('; ')}` : null;
}

export async function readPublishState(pool: pg.Pool, recommendationId: string): Promise<PublishState> {
  const { rows: recs } = await pool.query<{ platforms: string[] | null }>(
    `SELECT job_config->'platforms' AS platforms FROM competitive_recommendations WHERE id = $1`,
    [recommendationId],
  );
  const { rows } = await pool.query<{ step: string; status: string; error: string | null }>(
    `SELECT step, status, error FROM automation_queue
      WHERE recommendation_id = $1 AND step LIKE 'publish:%' ORDER BY created_at`,
    [recommendationId],
  );
  const platforms = (recs[0]?.platforms ?? [...PUBLISH_PLATFORMS]).filter((p): p is PublishPlatform =>
    (PUBLISH_PLATFORMS as readonly string[]).includes(p),
  );
  const published = platforms.filter((p) => rows.some((r) => r.step === `publish:${p}` && r.status === 'completed'));
  const failed = platforms
    .filter((p) => !published.includes(p))
    .flatMap((platform) => {
      const last = rows.filter((r) => r.step === `publish:${platform}` && r.status === 'failed').at(-1);
      return last ? [{ platform, error: last.error ?? 'failed' }] : [];
    });
  return { platforms, published, failed };
}
