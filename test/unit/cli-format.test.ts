/** How the CLI words a waiting job's ETA and times around it (src/cli/format.ts); no server needed. */
import { describe, expect, it } from 'vitest';
import { clockTime, describeWait, fromNow } from '../../src/cli/format';

const now = new Date(2026, 10, 30, 14, 1, 0);
const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);

describe('fromNow and clockTime', () => {
  it('says how far, in the largest units that read well', () => {
    expect(fromNow(at(0.2), now)).toBe('now');
    expect(fromNow(at(4), now)).toBe('in 4 min');
    expect(fromNow(at(60), now)).toBe('in 1 h');
    expect(fromNow(at(130), now)).toBe('in 2 h 10 min');
    expect(fromNow(at(3 * 1440 + 250), now)).toBe('in 3 d 4 h');
    expect(fromNow(at(-5), now)).toBe('5 min ago');
  });

  it('gives the local time today and the date with it on another day', () => {
    expect(clockTime(at(4), now)).toBe('14:05');
    expect(clockTime(at(1440), now)).toBe('2026-12-01 14:01');
  });
});

describe('describeWait', () => {
  it('words each reason, with the quota it waits for', () => {
    const wait = { eta: at(4), waitingFor: 'quota' as const, waitingForQuota: 'instagram_posts' };
    expect(describeWait(wait, now)).toBe('starts ~14:05 (in 4 min; waiting for quota instagram_posts)');
    expect(describeWait(wait, now, true)).toBe('~14:05 in 4 min; quota instagram_posts');
    // Past midnight: the date comes with the time.
    expect(describeWait({ eta: at(600), waitingFor: 'budget', waitingForQuota: 'veo3_credits_day' }, now)).toBe(
      'starts ~2026-12-01 00:01 (in 10 h; waiting for budget veo3_credits_day)',
    );
    expect(describeWait({ eta: at(0), waitingFor: 'now', waitingForQuota: null }, now, true)).toBe('~14:01 now');
    expect(describeWait({ eta: at(1), waitingFor: 'spacing', waitingForQuota: null }, now)).toBe(
      "starts ~14:02 (in 1 min; waiting for the provider's start spacing)",
    );
  });

  it('says never, naming the quota, when the cost exceeds its whole limit; nothing for a job not in a line', () => {
    const never = { eta: null, waitingFor: 'quota' as const, waitingForQuota: 'youtube_api_units' };
    expect(describeWait(never, now)).toBe("never as configured: its cost exceeds quota youtube_api_units's whole limit");
    expect(describeWait(never, now, true)).toBe('never (quota youtube_api_units)');
    expect(describeWait({ eta: null, waitingFor: null, waitingForQuota: null }, now)).toBe('');
  });
});
