/**
 * The yt-dlp executable, audio only (providers-2 §3): best audio-only format
 * under 160 kbit/s (else the smallest thing with audio), converted to a 64 kbit/s
 * mp3 so an hour fits one Whisper upload, no playlists, the final path printed.
 * Its failures are sorted into what the video is (unavailable, with yt-dlp's
 * reason) and what may pass (rate limits, network), so nothing retries forever.
 * No Temporal here.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ProviderError } from '../providers/errors';
import { MEDIA_PROVIDER, runTool, stderrTail, toolMissing } from './tools';

export interface YtDlpOptions {
  /** Default 'yt-dlp' (YT_DLP_PATH). */
  binary: string;
  /** Where yt-dlp finds ffmpeg and ffprobe when they are not on PATH (--ffmpeg-location). */
  ffmpegLocation?: string;
  /** Source files larger than this are not downloaded (--max-filesize; exit 0 without a file). */
  maxBytes: number;
}

/** Why a video cannot be fetched, ever (until a human changes something). */
export type UnavailableReason = 'private' | 'removed' | 'geo_blocked' | 'bot_check' | 'no_media';

export type YtDlpOutcome =
  | { kind: 'downloaded'; file: string }
  | { kind: 'unavailable'; reason: UnavailableReason; message: string }
  | { kind: 'too_large'; message: string };

/**
 * Order matters: the first match wins. Texts from yt-dlp's sources and issues
 * (providers-2 §3.3) and what the Debian 2023.03.04 build prints for HTTP errors
 * of a page (`Unable to download webpage: HTTP Error 404: Not Found`).
 */
const UNAVAILABLE_PATTERNS: ReadonlyArray<[RegExp, UnavailableReason]> = [
  [/confirm you.?re not a bot|captcha challenge/i, 'bot_check'],
  [/not made this video available in your country|not available from your location|geo.?restrict|HTTP Error 451/i, 'geo_blocked'],
  [/private video|sign in if you've been granted access|members.only|HTTP Error 403|HTTP Error 401/i, 'private'],
  [/video unavailable|has been removed|no longer available|account.*terminated|does not exist|HTTP Error 404|HTTP Error 410/i, 'removed'],
  [/unsupported url|no video formats found|requested format is not available/i, 'no_media'],
];

/**
 * Passing conditions: the host throttles us or the network failed. Retried with backoff, a bounded number of times.
 * Checked before the unavailable texts: YouTube's throttle reads "Video unavailable. This content isn't available, try
 * again later" (and a 403 on the media itself, after the page was read, is a refused or expired stream, not a private
 * video): both ended the video for good as removed or private, and nothing fetched it again.
 */
const RATE_LIMITED = /HTTP Error 429|rate.?limit|try again later/i;
/** YouTube's throttle lasts "up to an hour" and names no retry time: the attempts (the limits table's) come this far apart. */
export const YT_DLP_THROTTLE_RETRY_MS = 20 * 60_000;
const MEDIA_REFUSED = /unable to download video data: HTTP Error 403|fragment.*HTTP Error 403|HTTP Error 403.*fragment/i;
const TRANSIENT = /HTTP Error 5\d\d|timed out|connection (reset|refused|aborted)|temporary failure|network is unreachable|IncompleteRead/i;
const FFMPEG_MISSING = /ffprobe and ffmpeg not found|ffmpeg not found|ffprobe not found/i;
const TOO_LARGE = /larger than max-filesize/i;

/** yt-dlp's `ERROR:` lines: what ended the run (its WARNING lines before them do not). */
function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('ERROR:'));
}

/** yt-dlp's own reason, without its "please report this issue" boilerplate. */
export function ytDlpReason(stderr: string): string {
  const line = errorLines(stderr).at(-1) ?? stderrTail(stderr, 1);
  return line
    .replace(/^ERROR:\s*/, '')
    .replace(/\s*\(caused by .*$/s, '')
    .replace(/;?\s*please report this issue.*$/is, '')
    .slice(0, 500);
}

/**
 * What a finished yt-dlp run means. Throws ProviderError for what is not the
 * video's fault: rate_limited / transient (retry), permanent (our setup).
 */
export function classifyYtDlpRun(run: { code: number | null; stdout: string; stderr: string }, binary: string): YtDlpOutcome {
  if (run.code === 0) {
    if (TOO_LARGE.test(run.stdout + run.stderr)) return { kind: 'too_large', message: 'the source file is larger than the download cap' };
    const printed = run.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1);
    // --max-filesize (and --min-filesize) exit 0 without a file: only a file that exists is a download.
    if (printed && existsSync(printed)) return { kind: 'downloaded', file: printed };
    return { kind: 'too_large', message: 'yt-dlp exited 0 without a file (skipped by --max-filesize)' };
  }
  const reason = ytDlpReason(run.stderr);
  if (FFMPEG_MISSING.test(run.stderr)) throw toolMissing('ffmpeg', `${binary}'s ffmpeg`);
  if (run.code === 2)
    throw new ProviderError(MEDIA_PROVIDER, 'permanent', `yt-dlp refused its options: ${reason}`, { code: 'yt_dlp_usage' });
  // What ended the run is in its ERROR lines; a WARNING before them (a retried fragment) is not the video's state.
  const errors = errorLines(run.stderr);
  const text = errors.length ? errors.join('\n') : run.stderr;
  if (RATE_LIMITED.test(text))
    throw new ProviderError(MEDIA_PROVIDER, 'rate_limited', `yt-dlp: ${reason}`, {
      code: 'yt_dlp_rate_limited',
      retryAfterMs: YT_DLP_THROTTLE_RETRY_MS,
    });
  if (MEDIA_REFUSED.test(text)) throw new ProviderError(MEDIA_PROVIDER, 'transient', `yt-dlp: ${reason}`, { code: 'yt_dlp_media_refused' });
  for (const [pattern, kind] of UNAVAILABLE_PATTERNS) if (pattern.test(text)) return { kind: 'unavailable', reason: kind, message: reason };
  if (TRANSIENT.test(text)) throw new ProviderError(MEDIA_PROVIDER, 'transient', `yt-dlp: ${reason}`, { code: 'yt_dlp_network' });
  // Unknown errors are retried (bounded by the limits table's attempts): a new yt-dlp text must not end a video for good.
  throw new ProviderError(MEDIA_PROVIDER, 'transient', `yt-dlp exited ${run.code}: ${reason}`, { code: 'yt_dlp_failed' });
}

/** Downloads the audio of a video page into `outDir` as `<name>.mp3` (or an error/outcome above). */
export async function downloadWithYtDlp(
  options: YtDlpOptions,
  pageUrl: string,
  outDir: string,
  name: string,
  signal?: AbortSignal,
): Promise<YtDlpOutcome> {
  const args = [
    '--ignore-config',
    '--no-playlist',
    '--no-progress',
    '--newline',
    '--no-cache-dir',
    '--no-mtime',
    '-f',
    'ba[abr<=160]/ba/b',
    '-x',
    '--audio-format',
    'mp3',
    '--audio-quality',
    '64K',
    '--max-filesize',
    String(options.maxBytes),
    '-o',
    path.join(outDir, `${name}.%(ext)s`),
    '--print',
    'after_move:filepath',
    ...(options.ffmpegLocation ? ['--ffmpeg-location', options.ffmpegLocation] : []),
    '--',
    pageUrl,
  ];
  const run = await runTool('yt-dlp', options.binary, args, signal);
  return classifyYtDlpRun(run, options.binary);
}
