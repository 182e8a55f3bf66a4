/**
 * Reminds the editors of reviews still waiting for them (event `approval`). The approval step tells them once, when a
 * review starts waiting; a P3's brief or a video before its posts has no deadline, so one missed message left it
 * waiting for ever, and a P0's brief was next heard of when it expired unpaid a day later. Now a review is reminded
 * every REELFLOW_APPROVAL_REMIND_HOURS it waits, and a brief with a deadline half-way to it (a P0's about 12 h before
 * it expires), all of a round's in one message, most urgent first.
 *
 * Workers on the base queue run it. A reminder's message is started before it is counted (approval_reminders,
 * drizzle/0062) under a key made of the reviews and their reminder numbers: two workers finding the same reviews due,
 * or a round repeated after a crash between the start and the count, start one message (finding a different set, a
 * review may be reminded twice: never not at all); a round that could not start it tries again next.
 */
import { awaitingApproval, type ApprovalRow } from '../db/queries';
import { digestKey } from '../notifications/digest-key';
import { listWithin } from '../notifications/notify';
import type { ApprovalReview } from '../shared/messages';
import { Ticker } from '../shared/ticker';
import type { Runtime } from './runtime';

/** A review due a reminder. */
export interface DueReview {
  recommendationId: string;
  /** The review's id, or `<idea>@<requestedAt>` for a review asked before reviews had ids. */
  reviewKey: string;
  title: string;
  priority: string;
  stage: ApprovalReview['stage'];
  platforms: string[];
  requestedAt: Date;
  /** When its idea expires unpaid if nobody decides (a brief's only). */
  expiresAt: Date | null;
  /** This reminder's number (1 for the first). */
  reminder: number;
  /** The command deciding it (names the review when it has an id). */
  decide: string;
}

/** The shortest gap between two reminders of a review with a close deadline. */
const MIN_GAP_MS = 15 * 60_000;

/**
 * How many reminders a review is due by `now`: one each `everyMs` waited, or each half of the time its brief had to
 * its deadline when that is shorter; none once the deadline passed (the idea expires, and that is told).
 */
export function remindersDue(requestedAt: Date, expiresAt: Date | null, now: Date, everyMs: number): number {
  const waited = now.getTime() - requestedAt.getTime();
  if (waited <= 0) return 0;
  let gap = everyMs;
  if (expiresAt) {
    if (now >= expiresAt) return 0;
    gap = Math.min(gap, Math.max((expiresAt.getTime() - requestedAt.getTime()) / 2, MIN_GAP_MS));
  }
  return Math.floor(waited / gap);
}

/** The review's key (its id, or the idea and its request time) and what a reminder of it would say. */
function reviewOf(row: ApprovalRow): Omit<DueReview, 'reminder'> {
  const w = row.waiting as unknown as Pick<ApprovalReview, 'id' | 'stage' | 'requestedAt' | 'platforms' | 'workflowId'>;
  return {
    recommendationId: row.id,
    reviewKey: row.reviewKey ?? '',
    title: row.title,
    priority: row.priority,
    stage: w.stage,
    platforms: w.platforms ?? [],
    requestedAt: new Date(w.requestedAt),
    // Only a brief waits against the idea's deadline; a video waits whatever it (paid for), a republish past it.
    expiresAt: w.stage === 'render' && !w.workflowId ? row.deadline : null,
    decide: `reelflow approve|reject ${row.id}${w.id ? ` --review ${w.id}` : ` --stage ${w.stage}`}`,
  };
}

/**
 * Once one review is due, those due within this much later go in the same message: the reviews of a batch of ideas
 * asked minutes apart are one reminder a day, not one each.
 */
const GATHER_AHEAD_MS = 3_600_000;

/** Of the reviews waiting now, those due a reminder they have not had (with those due within the hour, once any is). */
export function dueReminders(rows: readonly ApprovalRow[], now: Date, everyMs: number): DueReview[] {
  const reviews = rows.flatMap((row) => {
    const review = reviewOf(row);
    return review.reviewKey && !Number.isNaN(review.requestedAt.getTime()) ? [{ review, reminded: row.reminded }] : [];
  });
  const ahead = new Date(now.getTime() + GATHER_AHEAD_MS);
  const at = (time: Date) => reviews.map(({ review }) => remindersDue(review.requestedAt, review.expiresAt, time, everyMs));
  const [dueNow, dueAhead] = [at(now), at(ahead)];
  if (!reviews.some(({ reminded }, i) => dueNow[i]! > reminded)) return [];
  // In the rows' order (most urgent first). A worker away for days sends one reminder for the missed ones, numbered as
  // the latest; one whose deadline comes within the hour keeps the number it has now.
  return reviews.flatMap(({ review, reminded }, i) => {
    const reminder = Math.max(dueNow[i]!, dueAhead[i]!);
    return reminder > reminded ? [{ ...review, reminder }] : [];
  });
}

/** The message's key: the same reviews at the same reminders are the same message, whoever starts it. */
export function remindersKey(due: readonly DueReview[]): string {
  return digestKey(
    'reminders',
    due.map((d) => `${d.reviewKey}#${d.reminder}`),
  );
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  if (h < 1) return `${Math.max(1, Math.round(ms / 60_000))} min`;
  return h >= 48 ? `${Math.floor(h / 24)} d` : `${Math.round(h)} h`;
}

/** The message's head and its lines: each review, how long it has waited, what expires when, the command. */
export function remindersText(due: readonly DueReview[], now: Date): { title: string; lines: string } {
  const oldest = Math.max(...due.map((d) => now.getTime() - d.requestedAt.getTime()));
  const title =
    due.length === 1
      ? `1 review still waits for an editor (${hours(oldest)})`
      : `${due.length} reviews still wait for an editor (the oldest ${hours(oldest)})`;
  const lines = due.map((d) => {
    const what = d.stage === 'render' ? 'the brief, before the paid render' : `the video, before posting on ${d.platforms.join(', ')}`;
    const expires = d.expiresAt ? `, expires unpaid in ${hours(d.expiresAt.getTime() - now.getTime())}` : '';
    return `[${d.priority}] ${d.title}: ${what}, waiting ${hours(now.getTime() - d.requestedAt.getTime())}${expires}: ${d.decide}`;
  });
  return { title, lines: listWithin(lines, (left) => `and ${left} more (the dashboard's "Waiting for approval")`) };
}

export function startApprovalWatch(
  runtime: Pick<Runtime, 'database' | 'log'>,
  opts: {
    /** REELFLOW_APPROVAL_REMIND_HOURS: the gap between two reminders of a review; 0 reminds of none. */
    everyHours: number;
    /** How often the waiting reviews are read. */
    roundMs?: number;
    onDue: (due: DueReview[]) => Promise<unknown>;
  },
) {
  const { pool } = runtime.database;
  const gapMs = opts.everyHours * 3_600_000;
  const ticker = new Ticker(
    async () => {
      const waiting = await awaitingApproval(pool);
      // The counts of reviews no longer waiting (decided, replaced by another, their idea closed) go.
      // (A review with no key, neither id nor request time, would make every comparison NULL: none deleted.)
      const keys = waiting.flatMap((w) => (w.reviewKey ? [w.reviewKey] : []));
      await pool.query('DELETE FROM approval_reminders WHERE NOT (review_id = ANY($1::text[]))', [keys]);
      const due = dueReminders(waiting, new Date(), gapMs);
      if (due.length === 0) return;
      runtime.log.info({ reviews: due.map((d) => d.reviewKey) }, 'reviews still wait for an editor: reminding');
      // Started first, then counted: a crash in between repeats this round's message under its key, never drops it.
      await opts.onDue(due);
      await pool.query(
        `INSERT INTO approval_reminders (review_id, recommendation_id, reminded)
           SELECT * FROM unnest($1::text[], $2::uuid[], $3::int[])
         ON CONFLICT (review_id) DO UPDATE
           SET reminded = greatest(approval_reminders.reminded, EXCLUDED.reminded), reminded_at = now()`,
        [due.map((d) => d.reviewKey), due.map((d) => d.recommendationId), due.map((d) => d.reminder)],
      );
    },
    {
      everyMs: opts.roundMs ?? 60_000,
      onError: (err) => runtime.log.warn({ err }, 'approval reminders failed; trying again next round'),
    },
  );
  if (gapMs > 0) ticker.start();
  return { stop: () => ticker.stop() };
}
