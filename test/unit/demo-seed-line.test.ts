import { describe, expect, it } from 'vitest';
import { competitorVideosLine } from '../../src/demo/seed';

describe('the demo seed says what its competitor videos cost', () => {
  it('counts a link an earlier run analysed as known, not fetched; a failed one as neither', () => {
    const fresh = { alreadyKnown: false };
    const known = { alreadyKnown: true };
    expect(competitorVideosLine(2, [fresh, fresh, fresh])).toBe('competitor videos: 5 fetched (yt-dlp), transcribed and analysed');
    expect(competitorVideosLine(0, [known, known, null])).toBe(
      'competitor videos: 0 fetched (yt-dlp), transcribed and analysed; 2 already analysed by an earlier run (not fetched or paid again)',
    );
    expect(competitorVideosLine(1, [known, fresh])).toMatch(/^competitor videos: 2 fetched .*; 1 already analysed/);
  });
});
