/**
 * Views over time → velocity → viral potential (pure; no I/O). A fresh video
 * gaining views fast is the urgent opportunity: its viral_potential is raised
 * so the existing rules (rules.ts: viralMinPotential, viralResponseMaxAgeHours)
 * treat it as viral before its view count alone would.
 *
 *   velocity  = (views₂ − views₁) / hours between the last two reads
 *   potential = 10 · log10(1 + velocity) / log10(1 + VELOCITY_FOR_TEN), capped at 10,
 *               only while the video is at most FRESH_HOURS old
 *
 * With VELOCITY_FOR_TEN = 20 000 views/h: 100/h → 4.7, 1 000/h → 7.0,
 * 2 800/h → 8.0 (the rules' viral threshold), 10 000/h → 9.3. A logarithm because
 * view rates span orders of magnitude; the potential is only ever raised, never
 * lowered, so the analysis' own judgement stands when it is higher.
 */

export interface ViewReading {
  /** ISO-8601. */
  at: string;
  views: number;
}

/** Views per hour that earn the top potential. */
export const VELOCITY_FOR_TEN = 20_000;
/** Older than this, speed no longer makes a video urgent (the rules' viral window is 48 h too). */
export const FRESH_HOURS = 48;

/** Views per hour between the last two readings; null with fewer than two, or no time between them. */
export function viewVelocity(history: readonly ViewReading[]): number | null {
  if (history.length < 2) return null;
  const a = history[history.length - 2]!;
  const b = history[history.length - 1]!;
  const hours = (Date.parse(b.at) - Date.parse(a.at)) / 3_600_000;
  if (!(hours > 0)) return null;
  return Math.max(0, (b.views - a.views) / hours);
}

/** The potential a velocity earns a video of this age, or null (too old, or not gaining). */
export function potentialFromVelocity(velocity: number | null, ageHours: number | null): number | null {
  if (velocity === null || velocity <= 0) return null;
  if (ageHours !== null && ageHours > FRESH_HOURS) return null;
  const score = (10 * Math.log10(1 + velocity)) / Math.log10(1 + VELOCITY_FOR_TEN);
  return Math.round(Math.min(10, score) * 10) / 10;
}

/** Only ever raised: the higher of the stored potential and the velocity's. */
export function raisedPotential(current: number | null, fromVelocity: number | null): number | null {
  if (fromVelocity === null) return current;
  return current === null ? fromVelocity : Math.max(current, fromVelocity);
}
