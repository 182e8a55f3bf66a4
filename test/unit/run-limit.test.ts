import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RunLimit } from '../../src/activities/run-limit';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('RunLimit', () => {
  it('fires after the work has run its limit, not counting the paused time', () => {
    const limit = new RunLimit(1_000, () => new Error('still running'));
    vi.advanceTimersByTime(400);
    const resume = limit.pause();
    vi.advanceTimersByTime(5_000); // waiting for a start: not work
    expect(limit.signal.aborted).toBe(false);
    resume();
    vi.advanceTimersByTime(599);
    expect(limit.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(limit.signal.aborted).toBe(true);
    expect((limit.signal.reason as Error).message).toBe('still running');
  });

  it('runs again only when the last of nested pauses resumes (each resume counts once), and never after it ended', () => {
    const limit = new RunLimit(1_000, () => new Error('x'));
    const outer = limit.pause();
    const inner = limit.pause();
    inner();
    inner();
    vi.advanceTimersByTime(2_000);
    expect(limit.signal.aborted).toBe(false);
    outer();
    vi.advanceTimersByTime(1_000);
    expect(limit.signal.aborted).toBe(true);

    const ended = new RunLimit(1_000, () => new Error('x'));
    const resumeEnded = ended.pause();
    ended.end();
    resumeEnded();
    vi.advanceTimersByTime(5_000);
    expect(ended.signal.aborted).toBe(false);
  });
});
