/**
 * `reelflow republish <id> [--platform P]` (CLI, API, dashboard): an archived video posted again without a new
 * render. With a platform, a new post there; without, the platforms whose posts failed (a partial publish).
 * Everything is checked before anything starts: an unknown id, no archived video, a platform not in the list,
 * nothing failed to retry, a recommendation still in production, a republish already running.
 */
import { PUBLISH_PLATFORMS, type PublishPlatform } from '../config/providers';
import type { Recommendation } from '../db/schema';
import { BadInputError, ConflictError } from '../shared/errors';
import { REPUBLISH_WORKFLOW, republishWorkflowId, republishWorkflowIdPattern } from '../shared/workflow-ids';
import { startWorkflowOnce } from '../temporal/client';
import type { RepublishInput } from '../workflows/republish';
import { readPublishState } from './publish-state';
import type { ServiceDeps } from './recommendations';

/** Statuses whose video was made and posted (or tried): the ones a republish may follow. */
const REPUBLISHABLE = ['published', 'partially_published', 'failed'];

export interface RepublishStarted {
  recommendationId: string;
  workflowId: string;
  platforms: PublishPlatform[];
}

export function createRepublishCommands(deps: ServiceDeps, resolve: (ref: string) => Promise<Recommendation>) {
  const { pool } = deps.database;
  return {
    async republish(ref: string, opts: { platform?: string; by: string }): Promise<RepublishStarted> {
      const { platform } = opts;
      if (platform !== undefined && !(PUBLISH_PLATFORMS as readonly string[]).includes(platform)) {
        throw new BadInputError(`platform must be one of ${PUBLISH_PLATFORMS.join(', ')} (got ${JSON.stringify(platform)})`);
      }
      const rec = await resolve(ref);
      if (!REPUBLISHABLE.includes(rec.status)) {
        throw new ConflictError(
          `recommendation ${rec.id} is ${rec.status}: only a published, partially published or failed one is republished`,
        );
      }
      const { rows: assets } = await pool.query('SELECT 1 FROM video_assets WHERE recommendation_id = $1', [rec.id]);
      if (!assets.length) {
        throw new BadInputError(`recommendation ${rec.id} has no archived video (video_assets): nothing to republish without a new render`);
      }
      const state = await readPublishState(pool, rec.id);
      const platforms = platform ? [platform as PublishPlatform] : state.failed.map((f) => f.platform);
      if (!platforms.length) {
        throw new BadInputError(
          `platform: nothing failed to retry (${rec.id} is posted on ${state.published.join(', ') || 'none'}); name one with --platform`,
        );
      }
      const pattern = republishWorkflowIdPattern(rec.id);
      const { rows: open } = await pool.query<{ workflow_id: string }>(
        `SELECT workflow_id FROM automation_queue
          WHERE recommendation_id = $1 AND workflow_id LIKE $2 AND status IN ('queued', 'processing') LIMIT 1`,
        [rec.id, pattern],
      );
      if (open[0]) throw new ConflictError(`a republish of ${rec.id} is running (${open[0].workflow_id}); wait for it to end`);
      const { rows: done } = await pool.query<{ n: number }>(
        `SELECT count(DISTINCT workflow_id)::int AS n FROM automation_queue WHERE recommendation_id = $1 AND workflow_id LIKE $2`,
        [rec.id, pattern],
      );
      const workflowId = republishWorkflowId(rec.id, done[0]!.n + 1);
      const input: RepublishInput = { recommendationId: rec.id, platforms, requestedBy: opts.by };
      const fresh = await startWorkflowOnce(deps.client, REPUBLISH_WORKFLOW, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [input],
        // Refused while that run is open (two requests at once); a run that failed before planning may be retried.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        staticSummary: `Republish: ${rec.title}`.slice(0, 200),
      });
      if (!fresh) throw new ConflictError(`a republish of ${rec.id} is running (${workflowId})`);
      return { recommendationId: rec.id, workflowId, platforms };
    },
  };
}
