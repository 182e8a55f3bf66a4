/**
 * The demo's stand-in editor. Ideas from competitors' videos wait for approval
 * before their paid render (src/config/approval.ts); in production a person
 * decides in the dashboard, with `reelflow approve|reject` or the API. The
 * demo approves each one a few seconds after it starts waiting, through the
 * same service call, so the wait shows in the live view and every decision is
 * recorded and audited as `demo-editor`.
 */
import type { Database } from '../db/client';
import type { RecommendationService } from '../services/recommendations';

/** Long enough to see "waiting for approval" in the live view. */
const APPROVE_AFTER_MS = 5_000;

export async function approveAsDemoEditor(
  database: Database,
  service: RecommendationService,
  ids: readonly string[],
  note: (line: string) => void,
): Promise<void> {
  const { rows } = await database.pool.query<{ id: string; title: string; stage: string; review: string | null }>(
    `SELECT id, title, approval->'waiting'->>'stage' AS stage, approval->'waiting'->>'id' AS review FROM competitive_recommendations
      WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'in_production')
        AND jsonb_typeof(approval->'waiting') = 'object'
        AND (approval->'waiting'->>'requestedAt')::timestamptz < now() - make_interval(secs => $2)`,
    [ids, APPROVE_AFTER_MS / 1000],
  );
  for (const r of rows) {
    // On the review it read, as an editor's card does: one that replaced it meanwhile waits for the next round.
    await service.decide(r.id, 'approve', {
      by: 'demo-editor',
      note: 'approved by the demo; in production an editor decides',
      ...(r.review ? { reviewId: r.review } : {}),
    });
    note(`demo-editor approved "${r.title}" (${r.stage}); an editor does this in the dashboard or with reelflow approve`);
  }
}
