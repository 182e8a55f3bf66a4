import { describe, expect, it } from 'vitest';
import { watchLoopStalls } from '../helpers/loop-stalls';
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
      expect(loop.earliestArrival(stamped)).toBeLessThanOrEqual(blockedFrom + 5);
      expect(loop.stalls()[0]!.ms).toBeGreaterThanOrEqual(115);
    } finally {
      loop.stop();
    }
  });
});
