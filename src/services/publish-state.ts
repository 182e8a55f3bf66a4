/**
 * Where a recommendation is posted, from its publish jobs (the first publish's and every republish's): the plan's
 * platforms, those with a completed post, and those whose posts all failed with the last error. The republish
 * command reads it to know what to retry; the republish workflow to record the status it leads to.
 */
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { isPublishPlatform, PUBLISH_PLATFORMS, type PublishPlatform } from '../config/providers';
import { republishWorkflowIdPattern } from '../shared/workflow-ids';
import { diedInsideSubmitSql } from './retry';

export interface PublishState {
  platforms: PublishPlatform[];
  published: PublishPlatform[];
  failed: Array<{ platform: PublishPlatform; error: string }>;
}

/** The error a partly published recommendation carries: each missing platform with its post's error (null: none). */
export function notPublishedOn(failed: ReadonlyArray<{ platform: string; error: string }>): string | null {
  return failed.length ? `not published on ${failed.map((f) => `${f.platform} (${f.error})`).join('; ')}` : null;
}

/**
 * The republish of a recommendation still running (a job of it open), as `{ workflow_id }` rows: a second republish
 * or a retry waits for it to end. Run beside it, a retry posted the platforms neither run had posted yet (two public
 * posts of one video) and the run ending first overwrote the other's status.
 */
export function runningRepublishQuery(recommendationId: string) {
  return sql<{ workflow_id: string }>`SELECT workflow_id FROM automation_queue
     WHERE recommendation_id = ${recommendationId} AND workflow_id LIKE ${republishWorkflowIdPattern(recommendationId)}
       AND status IN ('queued', 'processing') LIMIT 1`;
}

/**
 * A post any run of the idea made (its first run's, a republish's), as `{ step }` rows. A failed or expired idea with
 * one is a republish that has posted and not yet written the idea's status: a retry then would post there again.
 */
export function postMadeQuery(recommendationId: string) {
  return sql<{ step: string }>`SELECT step FROM automation_queue
     WHERE recommendation_id = ${recommendationId} AND step LIKE 'publish:%' AND status = 'completed' LIMIT 1`;
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
  const platforms = (recs[0]?.platforms ?? [...PUBLISH_PLATFORMS]).filter(isPublishPlatform);
  const published = platforms.filter((p) => rows.some((r) => r.step === `publish:${p}` && r.status === 'completed'));
  const failed = platforms
    .filter((p) => !published.includes(p))
    .flatMap((platform) => {
      const last = rows.filter((r) => r.step === `publish:${platform}` && r.status === 'failed').at(-1);
      return last ? [{ platform, error: last.error ?? 'failed' }] : [];
    });
  return { platforms, published, failed };
}

/**
 * The platforms (one per row) of the recommendation `idSql` names whose last post died inside its request: the platform
 * may have made it, so nothing posts there again without the operator's word (`republish --post` records the post
 * found; `--platform` alone posts again). The dashboard's alerts read it per row; readUnknownPosts for one idea.
 */
export function unknownPostsSql(idSql: string): string {
  return `SELECT substr(f.step, length('publish:') + 1) AS platform
      FROM (SELECT DISTINCT ON (q.step) q.step, q.status, q.api_provider, q.provider_task_id, q.submit_attempted_at
              FROM automation_queue q WHERE q.recommendation_id = ${idSql} AND q.step LIKE 'publish:%'
             ORDER BY q.step, q.created_at DESC) f
     WHERE f.status = 'failed' AND ${diedInsideSubmitSql('f')} ORDER BY f.step`;
}

/** One idea's posts of unknown outcome (unknownPostsSql): for the republish command and `reelflow status`. */
export async function readUnknownPosts(pool: pg.Pool, recommendationId: string): Promise<PublishPlatform[]> {
  const { rows } = await pool.query<{ platform: PublishPlatform }>(unknownPostsSql('$1'), [recommendationId]);
  return rows.map((r) => r.platform);
}
