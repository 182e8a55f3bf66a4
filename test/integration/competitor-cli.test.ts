/**
 * `reelflow competitor …` as a real process: an unknown handle (or one that
 * cannot be resolved without a key) is exit 2 with one line naming it and
 * nothing stored; add, list, check (through the real workflow), add-video and remove work end to end.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startHarness, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    limits: { youtube_data: { minStartIntervalMs: 0, pollIntervalMs: 50 } },
    env: { COMPETITOR_VIEW_READS: '86400' },
  });
});
afterAll(async () => h?.stop());

const cli = (args: string[], env: Record<string, string> = {}) => runCli(h, args, env);
const channels = async () => Number((await h.db.database.pool.query('SELECT count(*) AS n FROM competitor_channels')).rows[0].n);

describe('reelflow competitor', () => {
  it('refuses what the platform does not know with exit 2, one line naming it, and stores nothing', async () => {
    h.sims.youtube.discovery.addChannel({ handle: '@realchannel', title: 'Real Channel' });
    const key = { YOUTUBE_DATA_API_KEY: 'sim-key' };
    // A file of videos is held to what add-video is: a playlist in it was paid for as one of its entries.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'reelflow-ingest-'));
    const video = { platform: 'youtube', channel: 'Rival', title: 'Chollos', views: 10, publishedAt: null };
    const file = async (name: string, entries: unknown[]) => {
      await writeFile(path.join(dir, name), JSON.stringify(entries));
      return path.join(dir, name);
    };
    const playlist = await file('playlist.json', [{ ...video, url: 'https://www.youtube.com/playlist?list=PL123456' }]);
    const misspelt = await file('misspelt.json', [{ ...video, url: 'https://youtu.be/dQw4w9WgXcQ', mediaURL: 'https://x.test/a.mp4' }]);
    const localFile = await file('local.json', [{ ...video, url: 'https://youtu.be/dQw4w9WgXcQ', mediaUrl: 'file:///tmp/a.mp4' }]);
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['competitor', 'add', 'youtube', '@nobodyhere'], key, /no YouTube channel with handle @nobodyhere/],
      [['competitor', 'add', 'youtube', '@realchannel'], {}, /@realchannel\) needs YOUTUBE_DATA_API_KEY to resolve: give the channel id/],
      [['competitor', 'add', 'youtube', 'not a handle!'], key, /is not a YouTube handle \(@name\), channel id \(UC…\) or channel URL/],
      [['competitor', 'add', 'instagram', 'ghost_account'], {}, /no Instagram business or creator account/],
      [['competitor', 'add', 'myspace', 'x'], {}, /platform must be one of youtube, instagram, manual/],
      [['competitor', 'add', 'youtube'], {}, /add needs <youtube\|instagram\|manual>/],
      [['competitor', 'add-video', 'ftp://example.com/v.mp4'], {}, /url must be an http\(s\) URL/],
      // A page naming no video: a playlist (yt-dlp would read its entries into one audio), a channel, a profile.
      [['competitor', 'add-video', 'https://www.youtube.com/playlist?list=PL123456'], {}, /url: .* names no YouTube video/],
      [['competitor', 'add-video', 'https://www.youtube.com/@rival'], {}, /names no YouTube video .*competitor add youtube <channel>/],
      [['competitor', 'add-video', 'https://www.instagram.com/rivalfantasy/'], {}, /names no Instagram reel or post/],
      [['competitor', 'add-video', 'https://www.tiktok.com/@rival'], {}, /names no TikTok video/],
      [['competitor', 'ingest', playlist], {}, /playlist\.json: 0\.url names no YouTube video \(watch\?v=…/],
      [['competitor', 'ingest', misspelt], {}, /misspelt\.json: unknown field "0\.mediaURL"/],
      // Refused before any workflow or job: it used to start both, then fail in the fetch.
      [['competitor', 'ingest', localFile], {}, /local\.json: 0\.mediaUrl must be an http\(s\) URL/],
      [['competitor', 'remove', 'nobody'], {}, /no competitor channel "nobody"/],
      [['competitor', 'frobnicate'], {}, /competitor needs: add/],
      [['competitor', 'list', '--name', 'x'], {}, /competitor: unknown flag --name/],
    ];
    for (const [args, env, message] of cases) {
      const r = await cli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(await channels()).toBe(0);
  }, 120_000);

  it('adds a handle with a key, lists it, checks it now, adds a one-off video and removes the channel', async () => {
    const sim = h.sims.youtube.discovery.addChannel({ handle: '@chollosdiarios', title: 'Chollos Diarios', videos: 2 });
    const key = { YOUTUBE_DATA_API_KEY: 'sim-key' };
    const added = await cli(['competitor', 'add', 'youtube', '@chollosdiarios', '--name', 'Chollos D.'], key);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(new RegExp(`watching youtube channel Chollos D\\. \\(${sim.id}\\)`));

    const listed = await cli(['competitor', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ externalId: sim.id, handle: '@chollosdiarios', lastCheckedAt: null }),
    ]);

    const checked = await cli(['competitor', 'check', '@chollosdiarios'], key);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/checked Chollos D\.: 2 new video\(s\), 0 already known/);
    expect(checked.stdout).toContain(sim.uploads[0]!.id);
    const recheck = await cli(['competitor', 'check', sim.id], key);
    expect(recheck.stdout).toMatch(/0 new video\(s\), 2 already known/);

    const video = await cli(['competitor', 'add-video', 'https://www.instagram.com/reel/C0ffee123/', '--name', 'Rival IG']);
    expect(video.code, video.stderr).toBe(0);
    expect(video.stdout).toMatch(/analysing instagram video https:\/\/www\.instagram\.com\/reel\/C0ffee123\//);

    const removed = await cli(['competitor', 'remove', sim.id]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await channels()).toBe(0);
    const audit = await h.db.database.pool.query(`SELECT action FROM audit_log WHERE action LIKE 'competitor.%' ORDER BY id`);
    expect(audit.rows.map((r) => r.action)).toEqual(
      expect.arrayContaining(['competitor.add', 'competitor.check', 'competitor.add_video', 'competitor.remove']),
    );
  }, 120_000);
});
