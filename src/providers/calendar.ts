/**
 * Calendar days in a provider's time zone, for quotas that reset at local midnight (YouTube: midnight
 * America/Los_Angeles). Computed with Intl, never a fixed offset: PST and PDT differ by an hour, and the
 * day the clocks change is 23 or 25 hours long. Shared by the clients (resetAt) and the simulators.
 */

/** The YouTube Data API's day (providers.md §5, providers-2.md §6). */
export const PACIFIC = 'America/Los_Angeles';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at instant `ms`. Throws RangeError for an unknown zone. */
function wallClock(
  ms: number,
  timeZone: string,
): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** How far the zone's wall clock is ahead of UTC at instant `ms` (whole seconds, as Intl reports). */
function offsetMs(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/** The local date at `now` in `timeZone`, as YYYY-MM-DD. */
export function localDate(timeZone: string, now: Date = new Date()): string {
  const w = wallClock(now.getTime(), timeZone);
  return `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/**
 * The first local midnight in `timeZone` after `now`. The offset is read at the answer itself (second pass),
 * so a day on which the clocks change still ends at its own midnight, not an hour off.
 */
export function nextMidnight(timeZone: string, now: Date = new Date()): Date {
  const w = wallClock(now.getTime(), timeZone);
  // Next midnight's wall clock, written as if it were UTC; Date.UTC rolls day 32 into the next month.
  const target = Date.UTC(w.year, w.month - 1, w.day + 1);
  let at = target - offsetMs(target, timeZone);
  at = target - offsetMs(at, timeZone);
  return new Date(at);
}

/** Whether Intl knows the IANA zone (for validating configuration). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}
