/**
 * Competitor audio for real: the Debian yt-dlp and ffmpeg against pages and
 * files served on 127.0.0.1 (the YouTube simulator's media host and a plain
 * HTTP server), the media-URL download with its byte cap and private-address
 * refusal, every unavailable reason ending in its state, a long audio split
 * and transcribed in order, and a video found again costing nothing. Real
 * Temporal, real PostgreSQL, no mock of yt-dlp.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SavedCompetitorVideo } from '../../src/activities/competitor';
import { audioFetchConfig } from '../../src/activities/audio-fetch';
import { JOB_ESTIMATES_SECONDS } from '../../src/config/providers';
import { competitiveVideos } from '../../src/db/schema';
import { downloadMedia } from '../../src/media/download';
import { fetchAudio } from '../../src/media/fetch-audio';
import { classifyYtDlpRun } from '../../src/media/yt-dlp';
import { ProviderError } from '../../src/providers/errors';
import { competitorVideoWorkflowId, startCompetitorVideo } from '../../src/recommendations/ingest';
import { COMPETITOR_ANALYSIS_SCHEMA_NAME } from '../../src/recommendations/analysis';
import { canonicalVideoUrl } from '../../src/recommendations/save-video';
import { analysisResponder } from '../../src/simulators/analysis-stand-in';
import { DEFAULT_TRANSCRIPT, SimRefusal } from '../../src/simulators/openai';
import { readSampleVideos, sampleCompetitorVideoInputs } from '../../src/simulators/sample';
import type { CompetitorVideoInput } from '../../src/workflows/competitor-video';
import { runCli, startHarness, type Harness } from '../helpers/harness';
import { waitUntil } from '../helpers/wait';

/** Small enough that a 170 s 64 kbit/s mp3 (~1.4 MB) makes four pieces (at most 45 s each under this cap). */
const CHUNK_MAX_BYTES = 400_000;
const MAX_MINUTES = 4;

let h: Harness;
let tmp: string;
let audioDir: string;
const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await h.db.database.pool.query(text, params)).rows as T[];

/** ffmpeg makes the test media: a sine tone of `seconds` (mp3), or a tiny video with the tone as AAC and a tag. */
function makeMedia(file: string, seconds: number, opts: { video?: boolean; comment?: string } = {}): Buffer {
  const args = ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`];
  if (opts.video) args.push('-f', 'lavfi', '-i', `color=c=black:s=64x64:d=${seconds}`, '-c:v', 'libx264', '-c:a', 'aac', '-shortest');
  else args.push('-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k');
  if (opts.comment) args.push('-metadata', `comment=${opts.comment}`);
  execFileSync('ffmpeg', [...args, file]);
  return execFileSync('cat', [file], { maxBuffer: 64 * 1024 * 1024 });
}

function input(overrides: Partial<CompetitorVideoInput> & { url: string }): CompetitorVideoInput {
  return { platform: 'web', channel: 'Canal de prueba', title: 'Vídeo de prueba', views: 1_000, publishedAt: null, ...overrides };
}

async function run(video: CompetitorVideoInput): Promise<SavedCompetitorVideo> {
  return (await startCompetitorVideo(h.client, h.taskQueue, video)).result() as Promise<SavedCompetitorVideo>;
}

/** While this file exists, yt-dlp answers as YouTube's bot check makes it (which no page on 127.0.0.1 can provoke). */
let botCheckFlag: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'reelflow-audio-test-'));
  audioDir = path.join(tmp, 'audio');
  botCheckFlag = path.join(tmp, 'bot-check');
  const ytDlp = path.join(tmp, 'yt-dlp');
  await fs.writeFile(
    ytDlp,
    `#!/bin/sh\nif [ -f '${botCheckFlag}' ]; then\n` +
      `  echo "ERROR: [youtube] x: Sign in to confirm you're not a bot. Use --cookies-from-browser or --cookies" >&2\n  exit 1\nfi\n` +
      'exec yt-dlp "$@"\n',
    { mode: 0o755 },
  );
  h = await startHarness({
    env: {
      AUDIO_DIR: audioDir,
      AUDIO_CHUNK_MAX_BYTES: String(CHUNK_MAX_BYTES),
      COMPETITOR_MAX_AUDIO_MINUTES: String(MAX_MINUTES),
      YT_DLP_PATH: ytDlp,
    },
    limits: { audio_fetch: { minStartIntervalMs: 0, pollIntervalMs: 50 } },
    queues: ['base', 'openai', 'audio_fetch'],
  });
  const media = h.sims.youtube.media;
  media.add('tone3min', makeMedia(path.join(tmp, 'tone3.mp3'), 170), { title: 'Casi tres minutos' });
  media.add('tone5min', makeMedia(path.join(tmp, 'tone5.mp3'), 300), { title: 'Cinco minutos' });
  const clip = makeMedia(path.join(tmp, 'clip.mp4'), 4, { video: true, comment: 'rfaudio:mp4clip' });
  media.add('mp4clip', clip, { ext: 'mp4', title: 'Un vídeo' });
  const jingle = makeMedia(path.join(tmp, 'jingle.mp3'), 3);
  media.add('jingle', jingle, { title: 'Solo música' });
  h.sims.openai.registerAudio(jingle, '¡Vamos, vamos!');
  h.sims.openai.registerAudio(clip, 'Esto es un vídeo con audio AAC que yt-dlp convierte a mp3.');
  for (const [id, state] of [
    ['privateVid', 'private'],
    ['removedVid', 'removed'],
    ['goneVid', 'gone'],
    ['geoVid', 'geo_blocked'],
  ] as const) {
    media.add(id, Buffer.from('ID3'), { state });
  }
}, 120_000);

afterAll(async () => {
  await h?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('yt-dlp through its generic extractor', () => {
  it('downloads the audio of a video page on 127.0.0.1 and converts it to mp3 (the tag survives the re-encode)', async () => {
    const config = audioFetchConfig(h.env);
    const result = await fetchAudio(config, { key: 'direct-ytdlp-mp4', url: h.sims.youtube.media.watchUrl('mp4clip') });
    expect(result).toMatchObject({ status: 'ready', source: 'yt_dlp' });
    if (result.status !== 'ready') return;
    expect(result.durationSeconds).toBeGreaterThan(3);
    expect(result.chunks).toHaveLength(1);
    const mp3 = await fs.readFile(path.join(audioDir, result.chunks[0]!.file));
    expect(mp3.subarray(0, 3).toString()).toBe('ID3');
    expect(h.sims.openai.transcriptOf(mp3)).toEqual({ text: 'Esto es un vídeo con audio AAC que yt-dlp convierte a mp3.', known: true });

    // A retried activity finds the finished download: no second request to the host.
    const pages = h.sims.youtube.media.stats().pages;
    expect(await fetchAudio(config, { key: 'direct-ytdlp-mp4', url: h.sims.youtube.media.watchUrl('mp4clip') })).toEqual(result);
    expect(h.sims.youtube.media.stats().pages).toBe(pages);
  });

  it('--max-filesize skips a large source with exit 0 and no file: too_long, not a crash or a retry', async () => {
    const config = { ...audioFetchConfig(h.env), maxDownloadBytes: 1_000 };
    expect(await fetchAudio(config, { key: 'over-cap', url: h.sims.youtube.media.watchUrl('mp4clip') })).toEqual({
      status: 'too_long',
      reason: 'yt-dlp exited 0 without a file (skipped by --max-filesize) (1000 bytes)',
      durationSeconds: null,
    });
  });

  it('a missing executable says what to install', async () => {
    const config = { ...audioFetchConfig(h.env), ytDlp: '/nonexistent/yt-dlp' };
    const err = await fetchAudio(config, { key: 'no-tool', url: h.sims.youtube.media.watchUrl('mp4clip') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('permanent');
    expect((err as ProviderError).message).toContain('apt-get install yt-dlp ffmpeg');
    expect((err as ProviderError).message).toContain('YT_DLP_PATH');
  });

  it('sorts stderr texts into unavailable reasons, rate limits and passing failures', () => {
    const err = (stderr: string) => ({ code: 1, stdout: '', stderr });
    const bot =
      'ERROR: [youtube] abc: Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication. ' +
      'See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp  for how to manually pass cookies. ' +
      'Also see  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#exporting-youtube-cookies  ' +
      'for tips on effectively exporting YouTube cookies';
    expect(classifyYtDlpRun(err(bot), 'yt-dlp')).toMatchObject({ kind: 'unavailable', reason: 'bot_check' });
    expect(
      classifyYtDlpRun(err('ERROR: [youtube] abc: The uploader has not made this video available in your country'), 'yt-dlp'),
    ).toMatchObject({ kind: 'unavailable', reason: 'geo_blocked' });
    expect(
      classifyYtDlpRun(err('ERROR: [generic] abc: This video is not available from your location due to geo restriction'), 'yt-dlp'),
    ).toMatchObject({ kind: 'unavailable', reason: 'geo_blocked' });
    expect(
      classifyYtDlpRun(err("ERROR: [youtube] abc: Private video. Sign in if you've been granted access to this video"), 'yt-dlp'),
    ).toMatchObject({ kind: 'unavailable', reason: 'private', message: expect.stringContaining('Private video') });
    expect(classifyYtDlpRun(err('ERROR: [youtube] abc: Video unavailable'), 'yt-dlp')).toMatchObject({ reason: 'removed' });
    expect(classifyYtDlpRun(err('ERROR: [youtube] abc: This video has been removed by the uploader'), 'yt-dlp')).toMatchObject({
      reason: 'removed',
    });
    const rateLimited = () =>
      classifyYtDlpRun(
        err("ERROR: [youtube] abc: This content isn't available, try again later. Your account has been rate-limited"),
        'yt-dlp',
      );
    expect(rateLimited).toThrow(expect.objectContaining({ kind: 'rate_limited' }) as Error);
    // YouTube's throttle as yt-dlp prints it begins with "Video unavailable": it ended the video for good as removed.
    const throttled =
      "ERROR: [youtube] abc: Video unavailable. This content isn't available, try again later. " +
      'The current session has been rate-limited by YouTube for up to an hour.';
    expect(() => classifyYtDlpRun(err(throttled), 'yt-dlp')).toThrow(
      expect.objectContaining({ kind: 'rate_limited', details: expect.objectContaining({ retryAfterMs: 20 * 60_000 }) }) as Error,
    );
    // A 403 on the stream once the page was read (a refused or expired media URL) passes; a page's 403 is a private video.
    expect(() => classifyYtDlpRun(err('ERROR: unable to download video data: HTTP Error 403: Forbidden'), 'yt-dlp')).toThrow(
      expect.objectContaining({ kind: 'transient', details: expect.objectContaining({ code: 'yt_dlp_media_refused' }) }) as Error,
    );
    // A warning about a retried fragment is not the video's state: the ERROR line says what ended the run.
    const warned = 'WARNING: [youtube] abc: Video unavailable in some formats\nERROR: Unable to download webpage: HTTP Error 503';
    expect(() => classifyYtDlpRun(err(warned), 'yt-dlp')).toThrow(expect.objectContaining({ kind: 'transient' }) as Error);
    expect(() => classifyYtDlpRun(err('ERROR: Unable to download webpage: HTTP Error 503: Service Unavailable'), 'yt-dlp')).toThrow(
      expect.objectContaining({ kind: 'transient' }) as Error,
    );
    // --max-filesize: exit 0 and no file.
    expect(classifyYtDlpRun({ code: 0, stdout: '/nowhere/audio.mp3\n', stderr: '' }, 'yt-dlp')).toMatchObject({ kind: 'too_large' });
  });
});

describe('direct media URL', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    const bytes = await fs.readFile(readSampleVideos()[0]!.audioFile);
    server = http.createServer((req, res) => {
      if (req.url === '/audio.mp3') return res.writeHead(200, { 'Content-Type': 'audio/mpeg', 'Content-Length': bytes.length }).end(bytes);
      // No Content-Length: the cap must hold while streaming.
      if (req.url === '/chunked.mp3') {
        res.writeHead(200, { 'Content-Type': 'audio/mpeg' });
        res.write(bytes.subarray(0, 40_000));
        return res.end(bytes.subarray(40_000));
      }
      if (req.url === '/to-other-loopback') return res.writeHead(302, { Location: `http://127.0.0.2:${port()}/audio.mp3` }).end();
      if (req.url === '/to-self') return res.writeHead(301, { Location: '/audio.mp3' }).end();
      // What Instagram's CDN answers for a media_url past its signed expiry.
      if (req.url === '/expired.mp4') return res.writeHead(403, { 'Content-Type': 'text/plain' }).end('URL signature expired');
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${port()}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = () => (server.address() as AddressInfo).port;

  it('streams to a file, follows a redirect it may follow, and stops at the byte cap', async () => {
    const dest = path.join(tmp, 'direct.mp3');
    const got = await downloadMedia(`${base}/to-self`, dest, { maxBytes: 1_000_000, allowPrivateHosts: ['127.0.0.1'] });
    expect(got).toMatchObject({ kind: 'downloaded', contentType: 'audio/mpeg' });
    expect((await fs.stat(dest)).size).toBe((await fs.stat(readSampleVideos()[0]!.audioFile)).size);

    expect(await downloadMedia(`${base}/audio.mp3`, dest, { maxBytes: 10_000, allowPrivateHosts: ['127.0.0.1'] })).toMatchObject({
      kind: 'too_large',
      message: expect.stringMatching(/is \d+ bytes, over the 10000-byte cap/),
    });
    expect(await downloadMedia(`${base}/chunked.mp3`, dest + '2', { maxBytes: 50_000, allowPrivateHosts: ['127.0.0.1'] })).toMatchObject({
      kind: 'too_large',
    });
    await expect(fs.stat(dest + '2.part')).rejects.toThrow(/ENOENT/);
    expect(await downloadMedia(`${base}/missing.mp3`, dest, { maxBytes: 10_000, allowPrivateHosts: ['127.0.0.1'] })).toMatchObject({
      kind: 'unavailable',
      status: 404,
    });
  });

  it('a media URL refused (expired) falls back to yt-dlp on the page: the page says whether the video is still there', async () => {
    const config = audioFetchConfig(h.env);
    const mediaUrl = `${base}/expired.mp4`;
    const page = await fetchAudio(config, { key: 'expired-media-url', url: h.sims.youtube.media.watchUrl('mp4clip'), mediaUrl });
    expect(page).toMatchObject({ status: 'ready', source: 'yt_dlp' });
    const gone = await fetchAudio(config, { key: 'expired-media-url-gone', url: h.sims.youtube.media.watchUrl('removedVid'), mediaUrl });
    expect(gone).toEqual({
      status: 'unavailable',
      reason: expect.stringMatching(
        /^removed: .*HTTP Error 404.*\(its media URL: media host answered HTTP 403 for 127\.0\.0\.1:\d+\/expired\.mp4\)$/,
      ),
    });
    // A media URL that is the page itself is not asked twice.
    expect(await fetchAudio(config, { key: 'expired-media-url-self', url: mediaUrl, mediaUrl })).toEqual({
      status: 'unavailable',
      reason: expect.stringMatching(/^http: media host answered HTTP 403/),
    });
  });

  it('refuses private addresses: a redirect to another one, a loopback name and a literal, and non-http schemes', async () => {
    const dest = path.join(tmp, 'refused.mp3');
    const refusedWith = async (url: string, allowPrivateHosts: boolean | string[], pattern: RegExp) => {
      const err = await downloadMedia(url, dest, { maxBytes: 1_000_000, allowPrivateHosts }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).kind).toBe('permanent');
      expect((err as ProviderError).message).toMatch(pattern);
    };
    await refusedWith(`${base}/to-other-loopback`, ['127.0.0.1'], /private address 127\.0\.0\.2: refused/);
    await refusedWith(`${base}/audio.mp3`, false, /private address 127\.0\.0\.1: refused \(MEDIA_ALLOW_PRIVATE_HOSTS is off\)/);
    await refusedWith(`http://localhost:${port()}/audio.mp3`, false, /localhost resolves to the private address/);
    await refusedWith('file:///etc/passwd', true, /must be http or https, got file:/);
    await expect(fs.stat(dest)).rejects.toThrow(/ENOENT/);
  });
});

describe('competitor video workflow on real audio', () => {
  it('the demo path: yt-dlp reads a sample watch page, the OpenAI simulator hears the sample transcript', async () => {
    const video = sampleCompetitorVideoInputs(h.sims.youtube.url)[1]!;
    const saved = await run(video);
    expect(saved).toMatchObject({ status: 'analysed', alreadyKnown: false });
    const [row] = await h.db.database.db.select().from(competitiveVideos).where(eq(competitiveVideos.url, video.url));
    expect(row?.transcript).toBe(readSampleVideos()[1]!.transcript);
    expect(row).toMatchObject({ platform: 'youtube', externalId: video.externalId, status: 'analysed' });
  });

  it.each([
    ['privateVid', 'private', /^private: .*HTTP Error 403/],
    ['removedVid', 'removed', /^removed: .*HTTP Error 404/],
    ['goneVid', 'gone', /^removed: .*HTTP Error 410/],
    ['geoVid', 'geo_blocked', /^geo_blocked: .*HTTP Error 451/],
  ])('a %s page (%s) ends unavailable with yt-dlp reason, one attempt, no transcription', async (id, _state, reason) => {
    const url = h.sims.youtube.media.watchUrl(id);
    const saved = await run(input({ url }));
    expect(saved.status).toBe('unavailable');
    expect(saved.statusReason).toMatch(reason);
    const jobs = await q(`SELECT job_type, status, attempts FROM automation_queue WHERE workflow_id = $1`, [
      competitorVideoWorkflowId(url),
    ]);
    expect(jobs).toEqual([{ job_type: 'audio_download', status: 'completed', attempts: 1 }]);
    // Its length unknown (no duration given), the fetch is given the time a long video needs, not a short's 30 s.
    const [fetch] = await q<{ estimated_duration_seconds: number }>(
      `SELECT estimated_duration_seconds FROM automation_queue WHERE workflow_id = $1`,
      [competitorVideoWorkflowId(url)],
    );
    expect(fetch!.estimated_duration_seconds).toBe(300);
  });

  it("a bot check parks YouTube's downloads: the video waits in line, no attempt spent, others go on; fetched once trusted", async () => {
    h.sims.youtube.media.add('botCheckVid', makeMedia(path.join(tmp, 'bot.mp3'), 4), { title: 'Tras el bot check' });
    const url = h.sims.youtube.media.watchUrl('botCheckVid');
    const workflowId = competitorVideoWorkflowId(url);
    const fetchJob = () =>
      q<{ status: string; attempts: number; job_type: string }>(
        `SELECT status, attempts, job_type FROM automation_queue WHERE workflow_id = $1 AND api_provider = 'audio_fetch'`,
        [workflowId],
      );
    await fs.writeFile(botCheckFlag, '');
    try {
      const handle = await startCompetitorVideo(h.client, h.taskQueue, input({ url, platform: 'youtube' }));
      const [parked] = await waitUntil(
        () => q<{ parked_reason: string | null }>(`SELECT parked_reason FROM quota_status WHERE name = 'youtube_downloads'`),
        { what: "YouTube's downloads parked", until: (rows) => rows[0]?.parked_reason != null },
      );
      expect(parked!.parked_reason).toMatch(/^audio_fetch: bot check: change the address or give yt-dlp cookies \(bot_check: .*not a bot/);
      // Before, the video was saved unavailable: found again, it would never have been fetched.
      expect(await q(`SELECT 1 FROM competitive_videos WHERE url = $1`, [canonicalVideoUrl(url)])).toEqual([]);
      const [job] = await fetchJob();
      expect(job).toMatchObject({ status: 'queued', job_type: 'youtube_audio_download' });
      // An Instagram reel (its media URL, no YouTube) is fetched and analysed meanwhile: the park is YouTube's alone.
      const reel = await run(
        input({
          url: 'https://www.instagram.com/reel/BotCheckOther1/',
          platform: 'instagram',
          mediaUrl: h.sims.youtube.media.mediaUrl('jingle'),
        }),
      );
      expect(reel.status).not.toBe('unavailable');
      // The address is trusted again (cookies given) and the operator lifts the park (docs/operations.md).
      await fs.rm(botCheckFlag);
      await q(`UPDATE provider_quotas SET parked_until = NULL WHERE name = 'youtube_downloads'`);
      const saved = (await handle.result()) as SavedCompetitorVideo;
      expect(saved.status).toBe('analysed');
      expect(await fetchJob()).toEqual([{ status: 'completed', attempts: job!.attempts, job_type: 'youtube_audio_download' }]);
    } finally {
      await fs.rm(botCheckFlag, { force: true });
      await q(`UPDATE provider_quotas SET parked_until = NULL WHERE name = 'youtube_downloads'`);
    }
  });

  it('a long audio is cut into pieces under the chunk cap and transcribed in order, each prompted with the text before', async () => {
    h.sims.openai.reset();
    const url = h.sims.youtube.media.watchUrl('tone3min');
    const saved = await run(input({ url }));
    expect(saved.status).toBe('analysed');

    const log = h.sims.openai.transcriptionLog();
    expect(log.map((t) => t.filename)).toEqual(['chunk-000.mp3', 'chunk-001.mp3', 'chunk-002.mp3', 'chunk-003.mp3']);
    for (const t of log) expect(t.bytes).toBeLessThan(CHUNK_MAX_BYTES);
    expect(log[0]!.prompt).toBeNull();
    for (const t of log.slice(1)) expect(DEFAULT_TRANSCRIPT.endsWith(t.prompt!)).toBe(true);

    const [row] = await h.db.database.db.select().from(competitiveVideos).where(eq(competitiveVideos.url, url));
    expect(row?.transcript).toBe(Array(4).fill(DEFAULT_TRANSCRIPT).join(' '));
    expect(row?.durationSeconds).toBeCloseTo(170, 0);
    const starts = (row?.transcriptSegments as Array<{ start: number }>).map((s) => s.start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(starts.at(-1)).toBeGreaterThan(125);

    const jobs = await q<{ step: string }>(`SELECT step FROM automation_queue WHERE workflow_id = $1 ORDER BY created_at`, [
      competitorVideoWorkflowId(url),
    ]);
    expect(jobs.map((j) => j.step.split(':')[0])).toEqual([
      'audio',
      'transcribe-1',
      'transcribe-2',
      'transcribe-3',
      'transcribe-4',
      'analyze',
    ]);
  });

  it('a long analysis refused on its third piece asks again for that piece only: the two before it were kept', async () => {
    const bytes = makeMedia(path.join(tmp, 'talk.mp3'), 5);
    h.sims.youtube.media.add('longTalk', bytes, { title: 'Una hora de chollos' });
    // Three pieces of ANALYSIS_CHUNK_CHARS: Budimir in the first, Muriqi in the last.
    const sentences = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}, fichad ya, jornada ${(i % 30) + 1}.`);
    h.sims.openai.registerAudio(bytes, [...sentences('Budimir', 180), ...sentences('Sancet', 180), ...sentences('Muriqi', 150)].join(' '));
    const asked: string[] = [];
    let refused = false;
    const unregister = h.sims.openai.registerResponder(COMPETITOR_ANALYSIS_SCHEMA_NAME, (messages) => {
      const user = String(messages.at(-1)?.content);
      asked.push(['Budimir', 'Sancet', 'Muriqi'].filter((name) => user.includes(`${name}, fichad`)).join('+'));
      if (asked.length === 3 && !refused) {
        refused = true;
        return new SimRefusal('I cannot help with that.');
      }
      return analysisResponder(messages);
    });
    try {
      const url = h.sims.youtube.media.watchUrl('longTalk');
      const saved = await run(input({ url }));
      expect(saved.status).toBe('analysed');
      // Four answers paid for, not six: the second attempt started at the refused piece.
      expect(asked).toHaveLength(4);
      expect(asked[2]).toBe(asked[3]);
      const [job] = await q<{ attempts: number; parts: number; estimated_duration_seconds: number }>(
        `SELECT attempts, (SELECT count(*)::int FROM job_parts p WHERE p.job_id = j.id) AS parts, estimated_duration_seconds
           FROM automation_queue j WHERE workflow_id = $1 AND job_type = 'openai_analysis'`,
        [competitorVideoWorkflowId(url)],
      );
      // One request's time per piece (the 2x bound and the stuck watch read it): planned with one request's, before
      // the transcript existed, a long video's analysis was stopped a piece or two in, on every attempt.
      expect(job).toEqual({ attempts: 2, parts: 3, estimated_duration_seconds: 3 * JOB_ESTIMATES_SECONDS.openai_analysis });
      // What the merge cut (over 50 claims for one player) is saved with it: such a save used to be refused, after the analysis was paid.
      const [row] = await q<{ analysis: { players: Array<{ name: string }>; skipped?: unknown } }>(
        `SELECT analysis FROM competitive_videos WHERE url = $1`,
        [saved.url],
      );
      expect(row!.analysis.players.map((p) => p.name).sort()).toEqual(['Budimir', 'Muriqi', 'Sancet']);
      expect(row!.analysis.skipped).toEqual([expect.objectContaining({ what: 'claims', reason: 'over 50 claims for one player' })]);
    } finally {
      unregister();
      h.sims.openai.registerResponder(COMPETITOR_ANALYSIS_SCHEMA_NAME, analysisResponder);
    }
  });

  it('over the maximum length: too_long with the figure, measured or as the platform says (then nothing is downloaded)', async () => {
    const measured = await run(input({ url: h.sims.youtube.media.watchUrl('tone5min') }));
    expect(measured).toMatchObject({ status: 'too_long' });
    expect(measured.statusReason).toBe('audio is 5.0 min, over the 4.0-min maximum (COMPETITOR_MAX_AUDIO_MINUTES)');

    const pages = h.sims.youtube.media.stats().pages;
    const declared = await run(input({ url: h.sims.youtube.media.watchUrl('tone3min') + '&long=1', durationSeconds: 3_600 }));
    expect(declared).toMatchObject({
      status: 'too_long',
      statusReason: 'audio is 60.0 min, over the 4.0-min maximum (COMPETITOR_MAX_AUDIO_MINUTES)',
    });
    expect(h.sims.youtube.media.stats().pages).toBe(pages);
  });

  it('a transcript of a few words (music, a jingle) ends as no_speech: no analysis is paid, its step is closed', async () => {
    h.sims.openai.reset();
    const url = h.sims.youtube.media.watchUrl('jingle');
    const saved = await run(input({ url }));
    expect(saved).toMatchObject({ status: 'no_speech', statusReason: 'transcript has 2 words (fewer than 8)' });
    // One transcription, no chat completion.
    expect(h.sims.openai.transcriptionLog()).toHaveLength(1);
    expect(h.sims.openai.stats().submissions).toBe(1);
    const jobs = await q<{ step: string; status: string }>(
      `SELECT step, status FROM automation_queue WHERE workflow_id = $1 ORDER BY step`,
      [competitorVideoWorkflowId(url)],
    );
    // Steps carry the run id after a colon.
    expect(jobs.map((j) => ({ ...j, step: j.step.split(':')[0] }))).toEqual([
      { step: 'analyze', status: 'cancelled' },
      { step: 'audio', status: 'completed' },
      { step: 'transcribe-1', status: 'completed' },
    ]);
  });

  it('a video found again under another URL form costs nothing: no download, no OpenAI call, no job', async () => {
    const sample = readSampleVideos()[2]!;
    const first = await run(
      input({ url: sample.url, platform: 'youtube', externalId: sample.id, mediaUrl: h.sims.youtube.media.mediaUrl(sample.id) }),
    );
    expect(first).toMatchObject({ status: 'analysed', alreadyKnown: false });
    const before = {
      downloads: h.sims.youtube.media.stats().downloads,
      pages: h.sims.youtube.media.stats().pages,
      openai: h.sims.openai.stats().submissions,
      jobs: (await q(`SELECT count(*)::int AS n FROM automation_queue`))[0],
    };

    // youtu.be with a share parameter and no media URL: were it fetched, yt-dlp would go to youtube.com.
    const again = { ...input({ url: `https://youtu.be/${sample.id}?si=abc`, platform: 'youtube' }) };
    expect(competitorVideoWorkflowId(again.url)).toBe(competitorVideoWorkflowId(sample.url));
    const second = await run(again);
    expect(second).toMatchObject({ status: 'analysed', alreadyKnown: true, videoId: first.videoId });
    expect({
      downloads: h.sims.youtube.media.stats().downloads,
      pages: h.sims.youtube.media.stats().pages,
      openai: h.sims.openai.stats().submissions,
      jobs: (await q(`SELECT count(*)::int AS n FROM automation_queue`))[0],
    }).toEqual(before);
  });

  it('`competitor ingest` starts the shipped sample on the simulator (default) or a file of inputs; again costs nothing', async () => {
    const sample = sampleCompetitorVideoInputs(h.sims.youtube.url);
    const first = await runCli(h, ['competitor', 'ingest', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const ids = JSON.parse(first.stdout) as string[];
    expect(ids).toEqual(sample.map((v) => competitorVideoWorkflowId(v.url)));
    const results = (await Promise.all(ids.map((id) => h.client.workflow.getHandle(id).result()))) as SavedCompetitorVideo[];
    expect(results.map((r) => r.status)).toEqual(sample.map(() => 'analysed'));
    const rows = await q<{ url: string; transcript: string }>(`SELECT url, transcript FROM competitive_videos WHERE url LIKE $1`, [
      `${h.sims.youtube.url}/watch%`,
    ]);
    const transcripts = new Map(rows.map((r) => [r.url, r.transcript]));
    for (const [i, video] of readSampleVideos().entries()) expect(transcripts.get(sample[i]!.url)).toBe(video.transcript);

    const downloads = h.sims.youtube.media.stats().downloads;
    const file = path.join(tmp, 'inputs.json');
    await fs.writeFile(file, JSON.stringify([sample[0], input({ url: h.sims.youtube.media.watchUrl('removedVid') + '&from=file' })]));
    const second = await runCli(h, ['competitor', 'ingest', file, '--json']);
    expect(second.code).toBe(0);
    const again = (await Promise.all(
      (JSON.parse(second.stdout) as string[]).map((id) => h.client.workflow.getHandle(id).result()),
    )) as SavedCompetitorVideo[];
    expect(again.map((r) => [r.status, r.alreadyKnown])).toEqual([
      ['analysed', true],
      ['unavailable', false],
    ]);
    expect(h.sims.youtube.media.stats().downloads).toBe(downloads);

    await fs.writeFile(file, JSON.stringify([{ url: 'https://example.com/v', platform: 'vimeo' }]));
    const bad = await runCli(h, ['competitor', 'ingest', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/platform/);
  }, 120_000);
});
