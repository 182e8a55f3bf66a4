/**
 * The first step of a retried idea's new run (`reelflow retry`, src/services/retry.ts): its failed and cancelled jobs
 * back in the plan, in one transaction with the idea itself. A job keeps its provider task (the run follows it, not
 * pays for it again); the one that died inside its paid submit gets the task the operator adopted, or is cleared to
 * submit again when the operator said nothing was made. Completed jobs are not touched: the run reads their results.
 */
import { sql } from 'drizzle-orm';
import { renderCredits } from '../config/env';
import { BadInputError } from '../shared/errors';
import { OPEN_RECOMMENDATION_STATUSES } from '../shared/statuses';
import { postMadeQuery, runningRepublishQuery } from '../services/publish-state';
import { diedInsideSubmit, RETRIED_JOB_STATUSES, RETRIED_STATUSES } from '../services/retry';
import type { RetryRequest } from '../workflows/recommendation';
import type { ActivityDeps } from './deps';
import type { Tx } from '../db/client';
import { classified } from './failures';

export interface ReopenInput extends RetryRequest {
  recommendationId: string;
  workflowId: string;
}

export interface ReopenOutcome {
  /** An editor approved the brief before the render: the kept analysis is that brief, so the run does not ask again. */
  briefApproved: boolean;
}

export function createRetryActivities(deps: Pick<ActivityDeps, 'database' | 'env'>) {
  async function reopen(tx: Tx, input: ReopenInput): Promise<ReopenOutcome> {
    const { rows: recs } = await tx.execute<{ status: string; brief_approved: boolean }>(
      sql`SELECT status, coalesce(approval->'decisions', '[]'::jsonb) @> '[{"stage": "render", "decision": "approve"}]' AS brief_approved
            FROM competitive_recommendations WHERE id = ${input.recommendationId} FOR UPDATE`,
    );
    const status = recs[0]?.status;
    const outcome = { briefApproved: recs[0]?.brief_approved === true };
    if (status === undefined) throw new BadInputError(`recommendation ${input.recommendationId} does not exist`);
    // Open already: this step ran and committed, and Temporal retried it (the retry command only starts a closed one).
    if ((OPEN_RECOMMENDATION_STATUSES as readonly string[]).includes(status)) return outcome;
    if (!(RETRIED_STATUSES as readonly string[]).includes(status)) {
      throw new BadInputError(`recommendation ${input.recommendationId} is ${status}: only a failed or expired idea is retried`);
    }
    // The command checked this too; a republish started since then would post beside this run.
    const republish = (await tx.execute(runningRepublishQuery(input.recommendationId))).rows[0];
    if (republish)
      throw new BadInputError(`a republish of ${input.recommendationId} is running (${republish.workflow_id}); retry when it ends`);
    const posted = (await tx.execute(postMadeQuery(input.recommendationId))).rows[0];
    if (posted) throw new BadInputError(`${input.recommendationId} has a post (${posted.step}): a republish posts it again, not a retry`);

    const { rows: jobs } = await tx.execute<{
      id: string;
      apiProvider: string;
      providerTaskId: string | null;
      submitAttemptedAt: unknown;
      jobConfig: { model?: string } | null;
    }>(
      sql`UPDATE automation_queue
          SET status = 'queued', attempts = 0, error = NULL, completed_at = NULL, stuck_since = NULL,
              waiting_since = NULL, parked = false, called_up_at = NULL, activity_worker = NULL, activity_token = NULL,
              armed_submit_key = NULL,
              deadline = CASE WHEN deadline IS NULL THEN NULL ELSE ${input.deadline}::timestamptz END,
              -- A job that runs again starts again; one that follows its task keeps the task's start.
              started_at = CASE WHEN provider_task_id IS NULL THEN NULL ELSE started_at END,
              updated_at = now()
        WHERE workflow_id = ${input.workflowId} AND status = ANY(${`{${RETRIED_JOB_STATUSES.join(',')}}`}::text[])
        RETURNING id, api_provider AS "apiProvider", provider_task_id AS "providerTaskId", submit_attempted_at AS "submitAttemptedAt",
                  job_config AS "jobConfig"`,
    );
    for (const job of jobs) {
      let detail: Record<string, unknown> = { by: input.by };
      if (diedInsideSubmit(job)) {
        if (input.adopt?.jobId === job.id) {
          const cost = renderCredits(deps.env, job.jobConfig?.model);
          await tx.execute(sql`SELECT record_provider_task(${job.id}, ${input.adopt.taskId}, ${cost})`);
          detail = { ...detail, adopted: input.adopt.taskId };
        } else if (input.resubmit) {
          await tx.execute(sql`UPDATE automation_queue SET submit_attempted_at = NULL WHERE id = ${job.id}`);
          detail = { ...detail, resubmit: true };
        } else {
          // The command checked this; a job that died inside a submit since then is the operator's to look at again.
          throw new BadInputError(`job ${job.id} died inside its paid submit: retry with --task <taskId> or --resubmit`);
        }
      }
      await tx.execute(sql`SELECT log_job_event(${job.id}, 'reopened', ${JSON.stringify(detail)}::jsonb)`);
    }
    await tx.execute(
      sql`UPDATE competitive_recommendations SET status = 'pending', error = NULL, urgency_deadline = ${input.deadline}::timestamptz,
          updated_at = now() WHERE id = ${input.recommendationId}`,
    );
    return outcome;
  }

  return {
    /** Idempotent: a second run of it finds the idea open and changes nothing. */
    async reopenForRetry(input: ReopenInput): Promise<ReopenOutcome> {
      return classified(() => deps.database.db.transaction((tx) => reopen(tx, input)));
    },
  };
}
