/**
 * The approval step's bookkeeping (base task queue): what waits for an editor
 * goes into competitive_recommendations.approval, where the dashboard, the API
 * and `reelflow status` read it; each decision is appended there and written
 * to the audit log, whichever way it arrived (dashboard, CLI, API or
 * `temporal workflow update`). Both are idempotent: a retried activity or a
 * replay never records a decision twice.
 */
import { sql } from 'drizzle-orm';
import { auditLog, competitiveRecommendations } from '../db/schema';
import type { PublishPlatform } from '../config/providers';
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
