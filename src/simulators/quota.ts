/**
 * Calendar quotas for the simulators (YouTube units, a TikTok creator's posts, API-Football requests): a number
 * of units per period and account, back to zero when the period turns. The period is the provider's day (midnight
 * in its time zone), or, for tests and benches that compress time, every windowMs since the epoch.
 * Moving windows (Instagram) are counted from the posts themselves, in instagram.ts.
 */
import { z } from 'zod';
import { isTimeZone, localDate, nextMidnight } from '../providers/calendar';

export interface CalendarQuotaKnobs {
  /** Units per period and account; null: unlimited. */
  limit: number | null;
  /** Period length in ms, counted from the epoch (time compression); null: the real day of timeZone. */
  windowMs: number | null;
  /** Whose midnight ends the day when windowMs is null (an IANA zone, e.g. America/Los_Angeles). */
  timeZone: string;
}

/** A patch of CalendarQuotaKnobs as /__sim/quotas accepts it (a bad field is a 400 naming it). */
export const calendarKnobsPatch = z
  .object({
    limit: z.number().int().min(0).nullable(),
    windowMs: z.number().int().min(1).nullable(),
    timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone, e.g. UTC or America/Los_Angeles'),
  })
  .partial()
  .strict();

/** The period `now` falls in, and when it ends. */
export function calendarPeriod(now: number, knobs: Pick<CalendarQuotaKnobs, 'windowMs' | 'timeZone'>): { key: string; resetAt: Date } {
  if (knobs.windowMs !== null) {
    const n = Math.floor(now / knobs.windowMs);
    return { key: `w${knobs.windowMs}:${n}`, resetAt: new Date((n + 1) * knobs.windowMs) };
  }
  const at = new Date(now);
  return { key: `${knobs.timeZone}:${localDate(knobs.timeZone, at)}`, resetAt: nextMidnight(knobs.timeZone, at) };
}

export type SpendResult = { ok: true } | { ok: false; resetAt: Date; used: number; limit: number };

export class CalendarQuota {
  private usage: Record<string, { period: string; used: number }> = {};
  knobs: CalendarQuotaKnobs;

  /** @param initial the knobs a reset() returns to. */
  constructor(private readonly initial: CalendarQuotaKnobs) {
    this.knobs = { ...initial };
  }

  configure(patch: z.input<typeof calendarKnobsPatch>): CalendarQuotaKnobs {
    this.knobs = { ...this.knobs, ...calendarKnobsPatch.parse(patch) };
    return { ...this.knobs };
  }

  /** Units `account` has spent in the current period. */
  used(account: string, now = Date.now()): number {
    const entry = this.usage[account];
    return entry && entry.period === calendarPeriod(now, this.knobs).key ? entry.used : 0;
  }

  /** Spends `cost` units of `account`, or, when they do not fit, spends nothing and says when the period ends. */
  spend(account: string, cost: number, now = Date.now()): SpendResult {
    const { key, resetAt } = calendarPeriod(now, this.knobs);
    const used = this.used(account, now);
    const { limit } = this.knobs;
    if (limit !== null && used + cost > limit) return { ok: false, resetAt, used, limit };
    this.usage[account] = { period: key, used: used + cost };
    return { ok: true };
  }

  /** Nothing spent, the knobs of the constructor: a fresh simulator's quota. */
  reset(): void {
    this.usage = {};
    this.knobs = { ...this.initial };
  }

  /** Usage only: the knobs come from the constructor and /__sim/quotas, not from a previous run. */
  toJSON(): Record<string, { period: string; used: number }> {
    return this.usage;
  }

  load(usage: Record<string, { period: string; used: number }> | undefined): void {
    this.usage = { ...usage };
  }
}
