/**
 * The approval watch against real PostgreSQL: a review still waiting for an editor is reminded each gap it waits (a
 * brief with a deadline half-way to it), once per reminder however many rounds run, all of a round's reviews in one
 * message; a round whose message could not start reminds at the next, and a crash between the start and the count
 * repeats the same message key (Temporal starts it once); a decided review is not reminded and its count goes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import {
  dueReminders,
  remindersDue,
  remindersKey,
  remindersText,
  startApprovalWatch,
  type DueReview,
} from '../../src/workers/approval-watch';
import type { ApprovalRow } from '../../src/db/queries';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { waitUntil } from '../helpers/wait';
import { quiet, toldAfterOneFailure } from '../helpers/told';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const HOUR = 3_600_000;

/** An idea whose review asked `hoursAgo` ago waits (status in_production), expiring `expiresIn` hours from now. */
async function waitingIdea(
  title: string,
  review: { id?: string; stage: 'render' | 'publish'; hoursAgo: number },
  expiresIn: number | null,
) {
  const requestedAt = new Date(Date.now() - review.hoursAgo * HOUR).toISOString();
  const waiting = {
    ...(review.id ? { id: review.id } : {}),
    stage: review.stage,
    requestedAt,
    title,
    caption: 'c',
    videoPrompt: null,
    videoUrl: null,
    platforms: ['instagram', 'youtube'],
  };
  const { rows } = await t.database.pool.query<{ id: string }>(
    `INSERT INTO competitive_recommendations (priority, recommendation_type, title, status, urgency_deadline, approval)
     VALUES ($1, 'player_spotlight', $2, 'in_production', $3, $4::jsonb) RETURNING id`,
    [
      expiresIn === null ? 'P3' : 'P0',
      title,
      expiresIn === null ? null : new Date(Date.now() + expiresIn * HOUR),
      JSON.stringify({ decisions: [], waiting }),
    ],
  );
  return rows[0]!.id;
}

it('counts the reminders due: each gap waited, half-way to a deadline, none past it', () => {
  const now = new Date('2026-12-08T12:00:00Z');
  const ago = (h: number) => new Date(now.getTime() - h * HOUR);
  const ahead = (h: number) => new Date(now.getTime() + h * HOUR);
  expect(remindersDue(ago(23), null, now, 24 * HOUR)).toBe(0);
  expect(remindersDue(ago(25), null, now, 24 * HOUR)).toBe(1);
  expect(remindersDue(ago(73), null, now, 24 * HOUR)).toBe(3);
  // A P0's brief asked with 24 h to go: reminded half-way (12 h), not at the 24 h gap, which is past its deadline.
  expect(remindersDue(ago(11), ahead(13), now, 24 * HOUR)).toBe(0);
  expect(remindersDue(ago(13), ahead(11), now, 24 * HOUR)).toBe(1);
  expect(remindersDue(ago(25), ahead(-1), now, 24 * HOUR)).toBe(0);
});

it('gathers the reviews due within the hour into the one message, which says how many it could not list', () => {
  const now = new Date('2026-12-08T12:00:00Z');
  const row = (n: number, hoursAgo: number): ApprovalRow => ({
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    title: `Idea ${n} ${'x'.repeat(200)}`,
    priority: 'P3',
    source: 'competitor',
    type: 'player_spotlight',
    workflowId: null,
    deadline: null,
    waiting: {
      id: `run-${n}/1`,
      stage: 'render',
      requestedAt: new Date(now.getTime() - hoursAgo * HOUR).toISOString(),
      platforms: ['tiktok'],
    },
    explanation: null,
    reviewKey: `run-${n}/1`,
    reminded: 0,
  });
  // One due, one due in 30 minutes (asked in the same batch), one asked an hour and a half later: only the first two.
  expect(dueReminders([row(1, 24.1), row(2, 23.5), row(3, 22.5)], now, 24 * HOUR).map((d) => d.reviewKey)).toEqual(['run-1/1', 'run-2/1']);
  expect(dueReminders([row(2, 23.5), row(3, 22.5)], now, 24 * HOUR)).toEqual([]);
  // Thirty long titles: the lines Discord would cut are counted instead, and the count is kept.
  const due = dueReminders(
    Array.from({ length: 30 }, (_, i) => row(i + 1, 25)),
    now,
    24 * HOUR,
  );
  const text = remindersText(due, now);
  expect(text.title).toBe('30 reviews still wait for an editor (the oldest 25 h)');
  expect(`${text.title}\n${text.lines}`.length).toBeLessThan(1_900);
  expect(text.lines).toMatch(/\nand \d+ more \(the dashboard's "Waiting for approval"\)$/);
  // A deadline close by is told in minutes, not as an hour.
  const soon = dueReminders([{ ...row(40, 1), deadline: new Date(now.getTime() + 5 * 60_000) }], now, 24 * HOUR);
  expect(remindersText(soon, now).lines).toContain('expires unpaid in 5 min');
});

it('reminds each waiting review once per reminder, in one message a round, again after a failed start, never a decided one', async () => {
  const { pool } = t.database;
  const brief = await waitingIdea('P0 brief', { id: 'run-a/1', stage: 'render', hoursAgo: 13 }, 11);
  const video = await waitingIdea('P3 video', { id: 'run-b/2', stage: 'publish', hoursAgo: 30 }, null);
  await waitingIdea('Fresh brief', { id: 'run-c/1', stage: 'render', hoursAgo: 1 }, null);
  const old = await waitingIdea('Review from before ids', { stage: 'render', hoursAgo: 50 }, null);

  const { told: messages, tell } = toldAfterOneFailure<DueReview[]>();
  const watch = startApprovalWatch(
    { database: t.database, log: pino({ level: 'silent' }) },
    {
      everyHours: 24,
      roundMs: 100,
      onDue: tell,
    },
  );
  try {
    // The first round's message failed to start: the next round sends it, and later rounds nothing more.
    await waitUntil(() => messages.length >= 1, { what: 'the reminders sent', timeoutMs: 10_000 });
    await quiet();
    expect(messages).toHaveLength(1);
    const first = messages[0]!;
    expect(first.map((d) => [d.recommendationId, d.reminder]).sort()).toEqual(
      [
        [brief, 1],
        [video, 1],
        [old, 2],
      ].sort(),
    );
    const text = remindersText(first, new Date());
    expect(text.title).toBe('3 reviews still wait for an editor (the oldest 2 d)');
    expect(text.lines).toContain(
      `[P0] P0 brief: the brief, before the paid render, waiting 13 h, expires unpaid in 11 h: ` +
        `reelflow approve|reject ${brief} --review run-a/1`,
    );
    expect(text.lines).toContain(
      `[P3] P3 video: the video, before posting on instagram, youtube, waiting 30 h: reelflow approve|reject ${video} --review run-b/2`,
    );
    expect(text.lines).toContain(`reelflow approve|reject ${old} --stage render`);
    const counted = await pool.query('SELECT recommendation_id, reminded FROM approval_reminders ORDER BY reminded');
    expect(counted.rows).toHaveLength(3);
    // The same reviews at the same reminders are the same message: a round repeated after a crash starts it once.
    expect(remindersKey([...first].reverse())).toBe(remindersKey(first));

    // A day later the video waits still (its second reminder); the brief was decided (its count goes).
    await pool.query(`UPDATE competitive_recommendations SET approval = jsonb_set(approval, '{waiting}', 'null'::jsonb) WHERE id = $1`, [
      brief,
    ]);
    await pool.query(
      `UPDATE competitive_recommendations
          SET approval = jsonb_set(approval, '{waiting,requestedAt}', to_jsonb($2::text)) WHERE id = $1`,
      [video, new Date(Date.now() - 49 * HOUR).toISOString()],
    );
    await waitUntil(() => messages.length >= 2, { what: 'the second reminder', timeoutMs: 10_000 });
    await quiet();
    expect(messages).toHaveLength(2);
    expect(messages[1]!.map((d) => [d.recommendationId, d.reminder])).toEqual([[video, 2]]);
    expect(remindersKey(messages[1]!)).not.toBe(remindersKey(first));
    const left = await pool.query('SELECT recommendation_id FROM approval_reminders');
    expect(left.rows.map((r: { recommendation_id: string }) => r.recommendation_id).sort()).toEqual([old, video].sort());
  } finally {
    watch.stop();
  }
});
