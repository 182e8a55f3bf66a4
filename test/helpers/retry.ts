/** A failed idea to retry (`reelflow retry`, test/integration/retry.test.ts and the dashboard's retry alert). */
import { expect } from 'vitest';
import { approvalUpdate, stateQuery } from '../../src/shared/messages';
import { recommendationInput, type Harness } from './harness';
import { waitUntil } from './wait';

/** The message of a failed workflow's result with its causes ("" when it succeeded). */
export function workflowFailure(h: Harness, workflowId: string): Promise<string> {
  const chain = (e: unknown): string => (e instanceof Error ? `${e.message} / ${chain((e as { cause?: unknown }).cause)}` : '');
  return h.client.workflow
    .getHandle(workflowId)
    .result()
    .then(
      () => '',
      (err: unknown) => chain(err),
    );
}

/**
 * An idea whose render's worker died inside the paid submit, after KIE made the task: the state a kill leaves
 * (test/integration/callbacks.test.ts kills a worker there; without callbacks the next attempt fails at once).
 * The brief waits for an editor, so the render's job exists before anything runs it: KIE gets the task, the job
 * gets the mark of a submit gone out unanswered, then the editor approves and the render attempt finds it.
 */
export async function failInsideSubmit(h: Harness): Promise<{ id: string; workflowId: string; kieTask: string }> {
  const { recommendation, workflowId } = await h.service.enqueue(
    recommendationInput({ source: 'competitor', type: 'counter_argument', jobConfig: { platforms: ['instagram'] } }),
  );
  const handle = h.client.workflow.getHandle(workflowId);
  await waitUntil(async () => (await handle.query(stateQuery)).approval, { what: 'the brief waiting for approval' });
  // KIE made it from the prompt the render sends (the brief's): what the worker's request carried.
  const { taskId } = await h.runtime.providers.veo3.submit({ prompt: await videoPromptOf(h, recommendation.id), aspectRatio: '9:16' });
  await h.db.database.pool.query(
    `UPDATE automation_queue SET submit_attempted_at = now() WHERE recommendation_id = $1 AND step = 'generate'`,
    [recommendation.id],
  );
  await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'ana' }] });
  expect(await workflowFailure(h, workflowId)).toMatch(/died during the submit request.*reelflow retry .* --task <taskId>/);
  return { id: recommendation.id, workflowId, kieTask: taskId };
}

/** The prompt an idea's render sends: its brief's (the analysis job's result). */
export async function videoPromptOf(h: Harness, recId: string): Promise<string> {
  const { rows } = await h.db.database.pool.query<{ result: { videoPrompt: string } }>(
    `SELECT result FROM automation_queue WHERE recommendation_id = $1 AND step = 'analyze' AND status = 'completed'`,
    [recId],
  );
  return rows[0]!.result.videoPrompt;
}

/**
 * A recommendation posted on Instagram whose TikTok post died inside its request (the mark a worker killed there
 * leaves, set before the post runs) after TikTok made the post: partially_published, the post live on TikTok. Posted
 * on TikTok alone, it ends failed.
 */
export async function postOutcomeUnknown(h: Harness, { alone = false } = {}): Promise<{ recId: string; postId: string }> {
  const { pool } = h.db.database;
  const platforms = alone ? ['tiktok'] : ['instagram', 'tiktok'];
  const { recommendation } = await h.service.enqueue(recommendationInput({ jobConfig: { platforms } }));
  const recId = recommendation.id;
  await waitUntil(
    async () =>
      (
        await pool.query(
          `UPDATE automation_queue SET submit_attempted_at = now() WHERE recommendation_id = $1 AND step = 'publish:tiktok' RETURNING id`,
          [recId],
        )
      ).rowCount,
    { what: "the TikTok post's job" },
  );
  const tiktok = h.runtime.providers.tiktok;
  const { handle } = await tiktok.createUpload({ videoUrl: 'http://127.0.0.1:1/lost-answer.mp4', caption: 'lost', title: 'lost' });
  const { postId } = await waitUntil(() => tiktok.publish(handle).catch(() => null), { what: 'the post live on TikTok' });
  await waitUntil(
    async () =>
      (
        await pool.query(`SELECT 1 FROM competitive_recommendations WHERE id = $1 AND status = $2`, [
          recId,
          alone ? 'failed' : 'partially_published',
        ])
      ).rowCount,
    { timeoutMs: 60_000, what: 'the idea at the end of its run' },
  );
  return { recId, postId };
}
