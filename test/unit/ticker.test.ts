/**
 * The background round the gate's loops share (src/shared/ticker.ts): rounds never overlap, a tick or poke during
 * a round makes exactly one more, a burst of pokes makes one round, a failed round is reported and the next tick
 * runs again, and nothing runs after stop().
 */
import { describe, expect, it } from 'vitest';
import { Ticker } from '../../src/shared/ticker';
import { sleep } from '../../src/shared/sleep';

describe('Ticker', () => {
  it('never overlaps a round, and a tick during one makes exactly one more', async () => {
    let inRound = 0;
    let maxInRound = 0;
    let rounds = 0;
    const ticker = new Ticker(
      async () => {
        rounds++;
        maxInRound = Math.max(maxInRound, ++inRound);
        await sleep(120); // six ticks land during each round
        inRound--;
      },
      { everyMs: 20, runAtStart: true, onError: () => {} },
    );
    ticker.start();
    await sleep(500);
    ticker.stop();
    const atStop = rounds;
    await sleep(300);
    expect(maxInRound).toBe(1);
    // Back to back, about 500 / 120 rounds: not one per tick (25), and none after stop beyond the one running.
    expect(atStop).toBeGreaterThanOrEqual(3);
    expect(atStop).toBeLessThanOrEqual(6);
    expect(rounds - atStop).toBeLessThanOrEqual(1);
  });

  it('runs one round for a burst of pokes, after the poke delay, and goes on after a failed round', async () => {
    const at: number[] = [];
    const errors: unknown[] = [];
    const t0 = Date.now();
    const ticker = new Ticker(
      async () => {
        at.push(Date.now() - t0);
        if (at.length === 1) throw new Error('database away');
      },
      { everyMs: 60_000, pokeDelayMs: 50, onError: (err) => errors.push(err) },
    );
    ticker.start();
    for (let i = 0; i < 10; i++) ticker.poke();
    await sleep(150);
    expect(at).toHaveLength(1);
    expect(at[0]).toBeGreaterThanOrEqual(45);
    expect(errors).toHaveLength(1);
    ticker.poke();
    await sleep(150);
    expect(at).toHaveLength(2);
    ticker.stop();
    ticker.poke();
    await sleep(100);
    expect(at).toHaveLength(2);
  });
});
