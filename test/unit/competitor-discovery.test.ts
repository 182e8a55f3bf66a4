/**
 * The pure parts of competitor discovery: the channel feed reader (entities,
 * CDATA, attribute order, missing statistics, an odd entry, not a feed), the
 * Data API's durations, what an operator may type for a channel, the views
 * formula, the quota reset, platforms of one-off URLs and the shared workflow key.
 */
import { describe, expect, it } from 'vitest';
import { parseInstagramUsername } from '../../src/providers/instagram/discovery-client';
import { msUntilPacificMidnight, parseYouTubeChannelInput } from '../../src/providers/youtube/discovery-client';
import { parseIsoDuration } from '../../src/providers/youtube/discovery-schemas';
import { FeedFormatError, parseChannelFeed } from '../../src/providers/youtube/feed';
import { competitorVideoWorkflowId, videoKey } from '../../src/recommendations/ingest';
import { potentialFromVelocity, raisedPotential, viewVelocity } from '../../src/recommendations/view-velocity';
import { nonVideoReason, videoPlatform } from '../../src/recommendations/save-video';
import { competitorVideoWorkflowId as idOfKey } from '../../src/shared/workflow-ids';

const FEED = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id=UCabcdefghijklmnopqrstuv"/>
 <id>yt:channel:UCabcdefghijklmnopqrstuv</id>
 <yt:channelId>UCabcdefghijklmnopqrstuv</yt:channelId>
 <title>Chollos &amp; Fantasy</title>
 <entry>
  <id>yt:video:AAAAAAAAAAA</id>
  <yt:videoId>AAAAAAAAAAA</yt:videoId>
  <title><![CDATA[Capitanes <jornada 14> & más]]></title>
  <link href='https://www.youtube.com/shorts/AAAAAAAAAAA' rel='alternate'/>
  <published>2026-11-28T10:00:00+00:00</published>
  <media:group><media:community><media:statistics views="12345"/></media:community></media:group>
 </entry>
 <entry>
  <id>yt:video:BBBBBBBBBBB</id>
  <title>Directo &#8212; &#x1F525; mañana</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v=BBBBBBBBBBB"/>
  <published>2026-11-27T10:00:00+00:00</published>
 </entry>
 <entry><title>sin id</title></entry>
</feed>`;

describe('channel feed reader', () => {
  it('reads ids, titles (CDATA, entities), links in any attribute order, times and views', () => {
    const feed = parseChannelFeed(FEED);
    expect(feed.channelId).toBe('UCabcdefghijklmnopqrstuv');
    expect(feed.title).toBe('Chollos & Fantasy');
    expect(feed.skipped).toBe(1);
    expect(feed.entries).toEqual([
      {
        videoId: 'AAAAAAAAAAA',
        title: 'Capitanes <jornada 14> & más',
        link: 'https://www.youtube.com/shorts/AAAAAAAAAAA',
        published: '2026-11-28T10:00:00+00:00',
        views: 12345,
      },
      // No yt:videoId element: the id comes from <id>; no statistics: views unknown.
      {
        videoId: 'BBBBBBBBBBB',
        title: 'Directo — 🔥 mañana',
        link: 'https://www.youtube.com/watch?v=BBBBBBBBBBB',
        published: '2026-11-27T10:00:00+00:00',
        views: null,
      },
    ]);
  });

  it('refuses a body that is not a feed (an HTML error page)', () => {
    expect(() => parseChannelFeed('<html><body>Error 404</body></html>')).toThrow(FeedFormatError);
  });
});

describe('inputs', () => {
  it('reads YouTube channel ids, handles and channel URLs, and names what it cannot read', () => {
    expect(parseYouTubeChannelInput('UCabcdefghijklmnopqrstuv')).toEqual({ channelId: 'UCabcdefghijklmnopqrstuv' });
    expect(parseYouTubeChannelInput('https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv/videos')).toEqual({
      channelId: 'UCabcdefghijklmnopqrstuv',
    });
    expect(parseYouTubeChannelInput('chollos')).toEqual({ handle: '@chollos' });
    expect(parseYouTubeChannelInput('https://youtube.com/@Chollos.Pro')).toEqual({ handle: '@Chollos.Pro' });
    expect(() => parseYouTubeChannelInput('two words')).toThrow(/"two words" is not a YouTube handle/);
    expect(parseInstagramUsername('https://www.instagram.com/Rival.Fantasy/')).toBe('rival.fantasy');
    expect(() => parseInstagramUsername('no spaces please')).toThrow(/is not an Instagram username/);
  });

  it('reads the Data API durations', () => {
    expect([parseIsoDuration('PT59S'), parseIsoDuration('PT1M5S'), parseIsoDuration('PT1H2M3S'), parseIsoDuration('P1DT1S')]).toEqual([
      59, 65, 3723, 86_401,
    ]);
    expect(parseIsoDuration('PT')).toBeNull();
    expect(parseIsoDuration(undefined)).toBeNull();
  });

  it('infers the platform of a one-off URL from its host', () => {
    expect(videoPlatform('https://youtu.be/dQw4w9WgXcQ')).toEqual({ platform: 'youtube', externalId: 'dQw4w9WgXcQ' });
    expect(videoPlatform('https://www.instagram.com/reel/C0ffee/')).toEqual({ platform: 'instagram', externalId: 'C0ffee' });
    // Every form of a reel's link names it: under its account, /reels/, /tv/, with share parameters.
    for (const form of [
      'https://www.instagram.com/rival/reel/C0ffee/',
      'https://instagram.com/tv/C0ffee',
      'https://www.instagram.com/reels/C0ffee/?igsh=x',
    ]) {
      expect(videoPlatform(form)).toEqual({ platform: 'instagram', externalId: 'C0ffee' });
    }
    expect(videoPlatform('https://www.tiktok.com/@x/video/123')).toEqual({ platform: 'tiktok', externalId: '123' });
    expect(videoPlatform('https://m.tiktok.com/v/123.html')).toEqual({ platform: 'tiktok', externalId: '123' });
    // Share links name their video once followed (yt-dlp follows them); a profile names none.
    expect(nonVideoReason('https://www.tiktok.com/t/ZT8abc123/')).toBeNull();
    expect(nonVideoReason('https://vm.tiktok.com/ZMabc123/')).toBeNull();
    expect(nonVideoReason('https://www.tiktok.com/@rival')).toMatch(/names no TikTok video/);
    expect(videoPlatform('https://example.com/clip')).toEqual({ platform: 'web', externalId: null });
  });

  it('keys a video the same way as `competitor ingest` and add-video, whatever the URL form', () => {
    const url = 'https://youtu.be/dQw4w9WgXcQ';
    expect(idOfKey(videoKey(url))).toBe(competitorVideoWorkflowId(url));
    expect(videoKey('https://www.youtube.com/shorts/dQw4w9WgXcQ')).toBe(videoKey(url));
  });
});

describe('views over time', () => {
  it('is views per hour between the last two readings, and raises (never lowers) the potential of a fresh video', () => {
    const history = [
      { at: '2026-11-29T10:00:00Z', views: 1_000 },
      { at: '2026-11-29T11:00:00Z', views: 3_000 },
      { at: '2026-11-29T11:30:00Z', views: 4_400 },
    ];
    expect(viewVelocity(history)).toBe(2_800);
    expect(viewVelocity(history.slice(0, 1))).toBeNull();
    expect(potentialFromVelocity(2_800, 3)).toBe(8);
    expect(potentialFromVelocity(100, 3)).toBe(4.7);
    expect(potentialFromVelocity(1_000_000, 3)).toBe(10);
    expect(potentialFromVelocity(50_000, 72)).toBeNull();
    expect(potentialFromVelocity(0, 1)).toBeNull();
    expect(raisedPotential(9, 8)).toBe(9);
    expect(raisedPotential(3, 8)).toBe(8);
    expect(raisedPotential(null, null)).toBeNull();
  });

  it('waits for the Data API quota until midnight Pacific, summer or winter', () => {
    // 23:00 UTC on a winter day is 15:00 PST: 9 h to go; in summer 16:00 PDT: 8 h.
    expect(msUntilPacificMidnight(new Date('2026-01-15T23:00:00Z'))).toBe(9 * 3_600_000);
    expect(msUntilPacificMidnight(new Date('2026-07-15T23:00:00Z'))).toBe(8 * 3_600_000);
  });
});
