import { describe, expect, it } from 'vitest';
import { earliestArrival, watchLoopStalls } from '../helpers/loop-stalls';
import { sleep } from '../../src/shared/sleep';

describe('watchLoopStalls', () => {
  it('moves a stamp taken just after a busy loop back to the stall start, and leaves a quiet stamp alone', async () => {
    // Stamped before the watch began: no stall it can see covers it. (A stamp taken during the test could follow a
    // real stall of this busy CI process, and would rightly be moved back.)
    const quiet = Date.now() - 1;
    const loop = watchLoopStalls();
    try {
      await sleep(30);
      expect(loop.earliestArrival(quiet)).toBe(quiet);
      const blockedFrom = Date.now();
      while (Date.now() - blockedFrom < 120) {
        // busy: no timer can run
      }
      // What a request handler would stamp: in the turn that follows the stall, after its due timers.
      const stamped = await new Promise<number>((resolve) => setTimeout(() => resolve(Date.now()), 0));
      // Asked after the checks are done, as the spacing check asks (capacity.test): the watch has ticked since.
      await sleep(30);
      expect(loop.earliestArrival(stamped)).toBeLessThanOrEqual(blockedFrom + 5);
      expect(loop.stalls()[0]!.ms).toBeGreaterThanOrEqual(115);
    } finally {
      loop.stop();
    }
  });

  it('takes a stamp in a stall that began at the very tick ending another back to the first stall', () => {
    // The ticks at 220 and at 300 ran; nothing between 220 and 245: a request that came at 150 is stamped at 241.
    const stalls = [
      { from: 100, to: 220 },
      { from: 220, to: 245 },
      { from: 300, to: 330 },
    ];
    expect(earliestArrival(stalls, 241, 5)).toBe(100);
    expect(earliestArrival(stalls, 224, 5)).toBe(100);
    // A tick ran at 250 and the loop turned before the stall at 300: requests before it were stamped then.
    expect(earliestArrival(stalls, 310, 5)).toBe(300);
    expect(earliestArrival(stalls, 265, 5)).toBe(265);
    // The process off its core 12 ms between the tick ending a stall and the stamp: under three ticks, no stall was
    // written down for it (CI, 2026-12-05: a stamp about 18 ms after the busy loop ended).
    expect(earliestArrival(stalls, 257, 5)).toBe(100);
    expect(earliestArrival(stalls, 345, 5)).toBe(300);
  });
});
