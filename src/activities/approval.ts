/**
 * The approval step's bookkeeping (base task queue): what waits for an editor
 * goes into competitive_recommendations.approval, where the dashboard, the API
 * and `reelflow status` read it; each decision is appended there and written
 * to the audit log, whichever way it arrived (dashboard, CLI, API or
 * `temporal workflow update`). Both are idempotent: a retried activity or a
 * replay never records a decision twice.
 */
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { auditLog, competitiveRecommendations } from '../db/schema';
import { approvalPlan, postsNeedingApproval, recordedDecisions, type ApprovalPolicy } from '../config/approval';
import type { PublishPlatform } from '../config/providers';
import { jobConfigSchema, parseInput } from '../validation';
import type { ApprovalReview, ApprovalStage } from '../shared/messages';
import type { ActivityDeps } from './deps';
import { classified } from './failures';

export interface ApprovalDecisionRecord {
  recommendationId: string;
  workflowId: string;
  stage: ApprovalStage;
  /** What the decision covers: the platforms a publish-stage decision posts to (a republish reads them). */
  platforms?: PublishPlatform[];
  decision: 'approve' | 'reject';
  /** The review decided (ApprovalReview.id); absent on reviews asked before it existed. */
  reviewId?: string;
  by: string;
  note: string | null;
  /** Workflow time of the decision: with the stage, what makes a retry recognisable. */
  at: string;
}

export function createApprovalActivities(deps: ActivityDeps) {
  const { db } = deps.database;

  return {
    /**
     * Shows the review as waiting. Answers its id as stored, which the workflow keeps: the id it computed names its run,
     * and a reset starts another run that replays this answer instead of writing the row again.
     */
    async requestApproval(input: { recommendationId: string; review: ApprovalReview }): Promise<string | null> {
      return classified(async () => {
        await db
          .update(competitiveRecommendations)
          .set({
            approval: sql`jsonb_set(
              coalesce(${competitiveRecommendations.approval}, '{"decisions": []}'::jsonb),
              '{waiting}',
              ${JSON.stringify(input.review)}::jsonb)`,
            updatedAt: new Date(),
          })
          .where(sql`${competitiveRecommendations.id} = ${input.recommendationId}`);
        return input.review.id ?? null;
      });
    },

    async recordApprovalDecision(input: ApprovalDecisionRecord): Promise<void> {
      const decisionId = `${input.stage}:${input.at}`;
      const entry = {
        id: decisionId,
        stage: input.stage,
        ...(input.platforms ? { platforms: input.platforms } : {}),
        ...(input.reviewId ? { reviewId: input.reviewId } : {}),
        decision: input.decision,
        by: input.by,
        note: input.note,
        at: input.at,
      };
      return classified(() =>
        db.transaction(async (tx) => {
          const updated = await tx
            .update(competitiveRecommendations)
            .set({
              approval: sql`jsonb_set(
                jsonb_set(coalesce(${competitiveRecommendations.approval}, '{"decisions": []}'::jsonb), '{waiting}', 'null'::jsonb),
                '{decisions}',
                coalesce(${competitiveRecommendations.approval}->'decisions', '[]'::jsonb) || ${JSON.stringify([entry])}::jsonb)`,
              updatedAt: new Date(),
            })
            .where(
              sql`${competitiveRecommendations.id} = ${input.recommendationId}
                  AND NOT coalesce(${competitiveRecommendations.approval}->'decisions', '[]'::jsonb)
                          @> ${JSON.stringify([{ id: decisionId }])}::jsonb`,
            )
            .returning({ id: competitiveRecommendations.id });
          // Already recorded by an earlier attempt: the audit row went with it.
          if (updated.length === 0) return;
          await tx.insert(auditLog).values({
            actor: input.by,
            action: `recommendation.${input.decision === 'approve' ? 'approve' : 'reject'}`,
            target: input.recommendationId,
            detail: {
              stage: input.stage,
              platforms: input.platforms ?? null,
              note: input.note,
              workflowId: input.workflowId,
              decisionId,
              reviewId: input.reviewId ?? null,
            },
          });
        }),
      );
    },
  };
}

/**
 * Of `platforms`, those a post of the idea may go to only after an editor's yes that no editor gave: the policy now
 * (this worker's REELFLOW_APPROVAL_POLICY, with the idea's jobConfig.approval and what its editors said before).
 * A republish's plan asks the editor for them; a post about to leave is refused (publish.ts).
 */
export async function approvalsMissing(
  pool: pg.Pool,
  policy: ApprovalPolicy,
  recommendationId: string,
  platforms: readonly PublishPlatform[],
): Promise<PublishPlatform[]> {
  const { rows } = await pool.query<{ source: string; job_config: unknown; approval: unknown }>(
    'SELECT source, job_config, approval FROM competitive_recommendations WHERE id = $1',
    [recommendationId],
  );
  const rec = rows[0];
  if (!rec) return [];
  const jobConfig = parseInput(jobConfigSchema, rec.job_config, `recommendation ${recommendationId} job_config`);
  // The idea's plan is its jobConfig.platforms (all platforms by default), as the workflow's plan reads it.
  const history = { decisions: recordedDecisions(rec.approval), planned: jobConfig.platforms };
  const needed = approvalPlan(policy, rec.source, platforms, jobConfig.approval, history).beforePublish;
  return postsNeedingApproval(platforms, needed, history);
}
