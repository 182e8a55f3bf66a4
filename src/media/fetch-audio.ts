/**
 * fetchAudio: one competitor video's audio, ready for transcription, or the
 * reason it never will be.
 *
 *   direct mediaUrl (streamed, capped)  or  yt-dlp on the page URL (also when the mediaUrl is refused: expired)
 *   -> ffprobe: too long for COMPETITOR_MAX_AUDIO_MINUTES? -> too_long with the figure
 *   -> mp3 small enough for one upload? one chunk : ffmpeg pieces < the chunk cap, in order
 *
 * Files live under <audioDir>/<key>/ where key is stable per video (the
 * workflow's URL digest). A finished fetch writes result.json last, so a
 * retried activity finds it and downloads nothing. No Temporal here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ProviderError } from '../providers/errors';
import { assertPublicPage, downloadMedia, type PrivateHostPolicy } from './download';
import { chunkSecondsFor, extractMp3, probeMedia, splitMp3, type FfmpegPaths } from './ffmpeg';
import { MEDIA_PROVIDER } from './tools';
import { downloadWithYtDlp, type UnavailableReason } from './yt-dlp';

export interface AudioFetchConfig extends FfmpegPaths {
  /** Root of the audio files (AUDIO_DIR); chunk paths in results are relative to it. */
  audioDir: string;
  /** YT_DLP_PATH. */
  ytDlp: string;
  /** Longest audio we transcribe (COMPETITOR_MAX_AUDIO_MINUTES, in seconds here). */
  maxDurationSeconds: number;
  /** Largest file one transcription upload may carry (AUDIO_CHUNK_MAX_BYTES; OpenAI's cap is 25 MiB). */
  chunkMaxBytes: number;
  /** Largest source we download at all (MEDIA_MAX_DOWNLOAD_BYTES). */
  maxDownloadBytes: number;
  /** MEDIA_ALLOW_PRIVATE_HOSTS (true / false), or the private addresses allowed. */
  allowPrivateHosts: PrivateHostPolicy;
}

export interface AudioFetchInput {
  /** Stable per video: names the directory, so a retry reuses a finished download. */
  key: string;
  /** The video page (yt-dlp's input when there is no mediaUrl). */
  url: string;
  /** A direct media file when the platform gives one. */
  mediaUrl?: string | null;
  /** What the platform says, checked before downloading anything. */
  durationSeconds?: number | null;
}

export const audioChunkSchema = z.object({
  /** Relative to audioDir. */
  file: z.string(),
  /** Where this piece starts in the whole recording (segments are shifted by it). */
  startSeconds: z.number(),
  bytes: z.number().int(),
});
export type AudioChunk = z.infer<typeof audioChunkSchema>;

export const audioFetchResultSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ready'),
    /** sha256 of the whole mp3 (before any split). */
    audioSha256: z.string(),
    durationSeconds: z.number(),
    chunks: z.array(audioChunkSchema).min(1),
    source: z.enum(['media_url', 'yt_dlp']),
  }),
  z.object({ status: z.literal('unavailable'), reason: z.string() }),
  z.object({ status: z.literal('too_long'), reason: z.string(), durationSeconds: z.number().nullable() }),
]);
export type AudioFetchResult = z.infer<typeof audioFetchResultSchema>;

const RESULT_FILE = 'result.json';

function unavailable(kind: UnavailableReason | 'http', message: string): AudioFetchResult {
  return { status: 'unavailable', reason: `${kind}: ${message}` };
}

function tooLong(seconds: number, maxSeconds: number): AudioFetchResult {
  const minutes = (s: number) => (s / 60).toFixed(1);
  return {
    status: 'too_long',
    reason: `audio is ${minutes(seconds)} min, over the ${minutes(maxSeconds)}-min maximum (COMPETITOR_MAX_AUDIO_MINUTES)`,
    durationSeconds: seconds,
  };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The keys name directories: nothing that walks out of audioDir. */
const KEY = /^[A-Za-z0-9_-]{1,80}$/;

export async function fetchAudio(config: AudioFetchConfig, input: AudioFetchInput, signal?: AbortSignal): Promise<AudioFetchResult> {
  if (!KEY.test(input.key)) throw new ProviderError(MEDIA_PROVIDER, 'permanent', `audio key "${input.key}" must match ${KEY}`);
  if (input.durationSeconds && input.durationSeconds > config.maxDurationSeconds) {
    return tooLong(input.durationSeconds, config.maxDurationSeconds);
  }
  const finalDir = path.join(config.audioDir, input.key);
  const done = await readFinished(finalDir);
  if (done) return done;

  // Work in a private directory and rename it into place at the end: a crash leaves no half-made chunks.
  await fs.mkdir(config.audioDir, { recursive: true });
  const work = path.join(config.audioDir, `.${input.key}.${randomBytes(4).toString('hex')}.tmp`);
  await fs.mkdir(work, { recursive: true });
  try {
    const result = await fetchInto(config, input, work, signal);
    if (result.status !== 'ready') return result;
    await fs.writeFile(path.join(work, RESULT_FILE), JSON.stringify(result));
    try {
      await fs.rename(work, finalDir);
    } catch (err) {
      // Another attempt finished first (ENOTEMPTY/EEXIST): its files are as good as ours.
      const again = await readFinished(finalDir);
      if (again) return again;
      throw err;
    }
    return result;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function readFinished(dir: string): Promise<AudioFetchResult | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, RESULT_FILE), 'utf8');
  } catch {
    return null;
  }
  const parsed = audioFetchResultSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : null;
}

async function fetchInto(config: AudioFetchConfig, input: AudioFetchInput, work: string, signal?: AbortSignal): Promise<AudioFetchResult> {
  let audio: string;
  let source: 'media_url' | 'yt_dlp';
  const raw = path.join(work, 'source.media');
  const direct = input.mediaUrl
    ? await downloadMedia(input.mediaUrl, raw, {
        maxBytes: config.maxDownloadBytes,
        allowPrivateHosts: config.allowPrivateHosts,
        ...(signal ? { signal } : {}),
      })
    : null;
  // A media URL refused (401/403/404/410/451) may only have expired: Instagram's are signed CDN links that answer
  // 403 some days after discovery, long before the post goes. The page still says what the video is: yt-dlp asks it.
  const refused = direct?.kind === 'unavailable' && input.url !== input.mediaUrl ? direct.message : null;
  if (direct && !refused) {
    source = 'media_url';
    if (direct.kind === 'unavailable') return unavailable('http', direct.message);
    if (direct.kind === 'too_large') return { status: 'too_long', reason: direct.message, durationSeconds: null };
    const probed = await probeMedia(config, raw, signal);
    if (!probed.hasAudio) return unavailable('no_media', 'the media file has no audio track');
    if (probed.durationSeconds > config.maxDurationSeconds) return tooLong(probed.durationSeconds, config.maxDurationSeconds);
    audio = path.join(work, 'audio.mp3');
    // An mp3 is uploaded as it came; anything else (an mp4 reel) becomes a small mp3.
    if (probed.formatName === 'mp3') await fs.rename(raw, audio);
    else await extractMp3(config, raw, audio, signal);
  } else {
    source = 'yt_dlp';
    await assertPublicPage(input.url, config.allowPrivateHosts);
    const ffmpegLocation = config.ffmpeg.includes('/') ? path.dirname(config.ffmpeg) : undefined;
    const got = await downloadWithYtDlp(
      { binary: config.ytDlp, maxBytes: config.maxDownloadBytes, ...(ffmpegLocation ? { ffmpegLocation } : {}) },
      input.url,
      work,
      'audio',
      signal,
    );
    if (got.kind === 'unavailable') return unavailable(got.reason, refused ? `${got.message} (its media URL: ${refused})` : got.message);
    if (got.kind === 'too_large')
      return { status: 'too_long', reason: `${got.message} (${config.maxDownloadBytes} bytes)`, durationSeconds: null };
    audio = got.file;
  }

  const probed = await probeMedia(config, audio, signal);
  if (probed.durationSeconds > config.maxDurationSeconds) return tooLong(probed.durationSeconds, config.maxDurationSeconds);
  const audioSha256 = await sha256File(audio);
  const { size } = await fs.stat(audio);
  if (size === 0) return unavailable('no_media', 'the downloaded audio is empty');

  const rel = (file: string) => path.join(input.key, path.relative(work, file));
  if (size <= config.chunkMaxBytes) {
    return {
      status: 'ready',
      audioSha256,
      durationSeconds: probed.durationSeconds,
      source,
      chunks: [{ file: rel(audio), startSeconds: 0, bytes: size }],
    };
  }
  // Equal pieces: cutting at the cap would leave a last piece of a few frames, which ffmpeg cannot even read back.
  const pieces = Math.ceil(probed.durationSeconds / chunkSecondsFor(config.chunkMaxBytes));
  const files = await splitMp3(config, audio, path.join(work, 'chunks'), probed.durationSeconds / pieces + 0.5, signal);
  const chunks: AudioChunk[] = [];
  let start = 0;
  for (const file of files) {
    const bytes = (await fs.stat(file)).size;
    if (bytes > config.chunkMaxBytes) {
      throw new ProviderError(MEDIA_PROVIDER, 'permanent', `chunk ${path.basename(file)} is ${bytes} bytes, over AUDIO_CHUNK_MAX_BYTES`);
    }
    const { durationSeconds } = await probeMedia(config, file, signal);
    chunks.push({ file: rel(file), startSeconds: Math.round(start * 1000) / 1000, bytes });
    start += durationSeconds;
  }
  // The whole mp3 is not needed once cut: keep the disk to what transcription reads.
  await fs.rm(audio, { force: true });
  return { status: 'ready', audioSha256, durationSeconds: probed.durationSeconds, source, chunks };
}
