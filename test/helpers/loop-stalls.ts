/**
 * When this process's event loop could not run. A simulator in the test process
 * stamps a request when its handler runs; if the loop was busy (a loaded CI
 * machine, a GC pause) the request may have arrived long before its stamp, and
 * two starts spaced correctly by the workers look closer than they were (seen:
 * 98 ms apart for a 300 ms interval). The watch bounds that error instead of
 * ignoring it: a request stamped inside or just after a stall may have arrived
 * as early as the stall's start, and no earlier.
 */
export interface LoopStallWatch {
  /** The earliest a request stamped at `stampedAt` (Date.now()) can have arrived. */
  earliestArrival(stampedAt: number): number;
  /** The stalls seen, longest first (for a failure message). */
  stalls(): { from: number; ms: number }[];
  stop(): void;
}

/** A tick this many intervals late is a stall; a shorter delay is within the ordinary timer jitter. */
const STALL_TICKS = 3;

export function watchLoopStalls(tickMs = 5): LoopStallWatch {
  const seen: { from: number; to: number }[] = [];
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - last > STALL_TICKS * tickMs) seen.push({ from: last, to: now });
    last = now;
  }, tickMs);
  // A watch left running by a failed test must not keep its process alive.
  timer.unref();
  return {
    earliestArrival: (stampedAt) => earliestArrival(seen, stampedAt, tickMs),
    stalls: () => seen.map((s) => ({ from: s.from, ms: s.to - s.from })).sort((a, b) => b.ms - a.ms),
    stop: () => clearInterval(timer),
  };
}

/**
 * Timers run before I/O in a loop turn: a request held up by a stall is stamped just after the tick that saw it. Unless
 * the loop stalls again right after that tick (the CI machine took the process off its core between the timers and the
 * I/O, seen: 21 ms): the stamp then falls in the second stall, and the request may have arrived during the first. Two
 * stalls with no tick between them (the second starts where the first ended) are one for this bound. A second delay
 * shorter than a stall is not written down at all (CI, 2026-12-05: a stamp 138 ms after the start of a 120 ms busy
 * loop, and no second stall): so a stamp up to a stall's length of ticks after one's end may be of a request held in it.
 * Ask once the watch has ticked after the stamp, or a stall still going on at the stamp is not known yet.
 */
export function earliestArrival(stalls: readonly { from: number; to: number }[], stampedAt: number, tickMs: number): number {
  let i = stalls.findIndex((s) => stampedAt >= s.from && stampedAt <= s.to + STALL_TICKS * tickMs);
  if (i < 0) return stampedAt;
  while (i > 0 && stalls[i - 1]!.to === stalls[i]!.from) i -= 1;
  return stalls[i]!.from;
}
