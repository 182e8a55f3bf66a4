/**
 * ffprobe and ffmpeg for competitor audio: how long a file is, its audio as a
 * small mp3, and that mp3 cut into pieces that each fit one transcription
 * upload. No Temporal here.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ProviderError } from '../providers/errors';
import { MEDIA_PROVIDER, runTool, stderrTail } from './tools';

export interface FfmpegPaths {
  /** Default 'ffmpeg' (FFMPEG_PATH). */
  ffmpeg: string;
  /** Default 'ffprobe' (FFPROBE_PATH). */
  ffprobe: string;
}

/**
 * Bitrate of the mp3 we make: speech stays intelligible to Whisper, and an
 * hour is ~27 MiB, so one chunk of < 24 MiB holds ~50 minutes.
 */
export const AUDIO_BITRATE_KBPS = 64;

function failed(what: string, stderr: string): ProviderError {
  // A file ffmpeg cannot read will not become readable on a retry.
  return new ProviderError(MEDIA_PROVIDER, 'permanent', `${what}: ${stderrTail(stderr) || 'no output'}`, { code: 'ffmpeg_failed' });
}

export interface ProbedMedia {
  durationSeconds: number;
  /** ffprobe's format name, e.g. "mp3", "mov,mp4,m4a,3gp,3g2,mj2". */
  formatName: string;
  hasAudio: boolean;
}

export async function probeMedia(paths: FfmpegPaths, file: string, signal?: AbortSignal): Promise<ProbedMedia> {
  const run = await runTool(
    'ffprobe',
    paths.ffprobe,
    ['-v', 'error', '-show_entries', 'format=duration,format_name:stream=codec_type', '-of', 'json', file],
    signal,
  );
  if (run.code !== 0) throw failed(`ffprobe could not read ${path.basename(file)}`, run.stderr);
  const parsed = JSON.parse(run.stdout) as {
    format?: { duration?: string; format_name?: string };
    streams?: Array<{ codec_type?: string }>;
  };
  const duration = Number(parsed.format?.duration);
  return {
    durationSeconds: Number.isFinite(duration) ? duration : 0,
    formatName: parsed.format?.format_name ?? '',
    hasAudio: (parsed.streams ?? []).some((s) => s.codec_type === 'audio'),
  };
}

/** The audio track of any media file as mono mp3 at AUDIO_BITRATE_KBPS. Tags (title, comment) are carried over. */
export async function extractMp3(paths: FfmpegPaths, source: string, dest: string, signal?: AbortSignal): Promise<void> {
  const run = await runTool(
    'ffmpeg',
    paths.ffmpeg,
    ['-nostdin', '-v', 'error', '-y', '-i', source, '-vn', '-ac', '1', '-c:a', 'libmp3lame', '-b:a', `${AUDIO_BITRATE_KBPS}k`, dest],
    signal,
  );
  if (run.code !== 0) throw failed(`ffmpeg could not extract the audio of ${path.basename(source)}`, run.stderr);
}

/**
 * Cuts an audio file into consecutive mp3 pieces of at most chunkSeconds,
 * re-encoded at a known bitrate so their size is predictable. Returns the
 * files in order. Tags are dropped: a piece is not the whole recording.
 */
export async function splitMp3(
  paths: FfmpegPaths,
  source: string,
  outDir: string,
  chunkSeconds: number,
  signal?: AbortSignal,
): Promise<string[]> {
  await fs.mkdir(outDir, { recursive: true });
  const pattern = path.join(outDir, 'chunk-%03d.mp3');
  const run = await runTool(
    'ffmpeg',
    paths.ffmpeg,
    [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-i',
      source,
      '-vn',
      '-map_metadata',
      '-1',
      '-ac',
      '1',
      '-c:a',
      'libmp3lame',
      '-b:a',
      `${AUDIO_BITRATE_KBPS}k`,
      '-f',
      'segment',
      '-segment_time',
      String(chunkSeconds),
      '-reset_timestamps',
      '1',
      pattern,
    ],
    signal,
  );
  if (run.code !== 0) throw failed(`ffmpeg could not split ${path.basename(source)}`, run.stderr);
  const files = (await fs.readdir(outDir)).filter((f) => /^chunk-\d{3}\.mp3$/.test(f)).sort();
  return files.map((f) => path.join(outDir, f));
}

/** Seconds of AUDIO_BITRATE_KBPS mp3 that stay under maxBytes, with 10% for frame headers and rounding. */
export function chunkSecondsFor(maxBytes: number): number {
  return Math.max(1, Math.floor((maxBytes * 0.9 * 8) / (AUDIO_BITRATE_KBPS * 1000)));
}
