/** The demo's line for one recommendation (what it runs, waits for, or does next) and its providers' slots. */
import { describe, expect, it } from 'vitest';
import { progressDetail, slotsLine } from '../../src/demo/progress';

type Rec = Parameters<typeof progressDetail>[0];
type Job = Parameters<typeof progressDetail>[1][number];

const rec = (over: Partial<Rec> = {}) => ({ status: 'in_production', error: null, approval: null, scheduleAfter: null, ...over }) as Rec;
const job = (step: string, status: string, waitingSince: Date | null = null) => ({ step, status, waitingSince }) as Job;

describe('progressDetail', () => {
  it('names the running and the waiting jobs', () => {
    const jobs = [job('analyze', 'completed'), job('generate:1', 'processing'), job('generate:2', 'queued', new Date())];
    expect(progressDetail(rec(), jobs)).toBe('running generate:1; waiting for slot: generate:2');
  });

  it('names the next step in pipeline order between two jobs (the workflow deciding, or a job handed back at Ctrl-C)', () => {
    const jobs = [
      job('publish:instagram', 'queued'),
      job('assemble', 'queued'),
      job('generate:10', 'queued'),
      job('generate:2', 'queued'),
      job('generate:1', 'completed'),
      job('analyze', 'completed'),
    ];
    expect(progressDetail(rec(), jobs)).toBe('next: generate:2');
    expect(progressDetail(rec(), [job('publish:youtube', 'queued'), job('publish:instagram', 'queued')])).toBe('next: publish:instagram');
  });

  it('says an approval is awaited, and a closed one shows its error or nothing', () => {
    const waiting = rec({ approval: { waiting: { stage: 'publish' } } });
    expect(progressDetail(waiting, [job('publish:tiktok', 'queued')])).toBe('waiting for approval (before posting)');
    expect(progressDetail(rec({ status: 'failed', error: 'veo3: content policy' }), [job('generate', 'failed')])).toBe(
      'veo3: content policy',
    );
    expect(progressDetail(rec({ status: 'published' }), [job('generate', 'completed')])).toBe('');
  });

  it('shows a start later than now', () => {
    const now = new Date('2026-12-04T12:00:00Z');
    const later = rec({ scheduleAfter: new Date('2026-12-04T14:05:00Z') });
    expect(progressDetail(later, [job('analyze', 'queued')], now)).toBe('scheduled for 14:05:00');
  });
});

describe('slotsLine', () => {
  const c = (provider: string, inUse: number, maxConcurrent: number, waiting = 0) => ({ provider, inUse, maxConcurrent, waiting });
  it("shows VEO3's slots always and another provider's only while it has work, counting the idle ones", () => {
    expect(slotsLine([c('openai', 0, 5), c('veo3', 2, 2, 11), c('instagram', 0, 3), c('audio_fetch', 1, 2), c('assembly', 0, 1, 2)])).toBe(
      'slots  veo3 2/2 (+11 waiting)   audio_fetch 1/2   assembly 0/1 (+2 waiting)   2 other providers idle',
    );
    expect(slotsLine([c('openai', 0, 5), c('veo3', 0, 2)])).toBe('slots  veo3 0/2   1 other provider idle');
    expect(slotsLine([c('veo3', 1, 2)])).toBe('slots  veo3 1/2');
  });
});
