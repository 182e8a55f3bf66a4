/**
 * assembleReel: a reel's rendered segments cut into the video we publish.
 *
 *   download each segment's clip (kept: a retry downloads nothing twice) -> ffprobe each (named error if unreadable)
 *   -> one timeline: the clips end to end, or in chained mode the last link when each extend returned the whole video
 *   -> ffmpeg: 1080x1920, Spanish subtitles from the spoken lines, data cards, logo, loudness -14 LUFS,
 *      H.264/AAC, faststart -> cover frame -> ffprobe checks -> result.json (written last)
 *
 * Files live under <mediaDir>/<key>/ (key: the recommendation id). A finished
 * assembly's result.json is returned as is, so a retried job encodes nothing.
 * A cut that fails its checks is deleted and reported as a transient error:
 * the assembly runs again, the segments are never rendered again. No Temporal here.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ProviderError } from '../providers/errors';
import { downloadMedia, type PrivateHostPolicy } from './download';
import type { FfmpegPaths } from './ffmpeg';
import { runTool, stderrTail } from './tools';

/** The provider our assembly errors name (its row in the limits table). */
export const ASSEMBLY_PROVIDER = 'assembly';

/** What Reels, TikTok and Shorts play full screen. */
export const REEL_WIDTH = 1080;
export const REEL_HEIGHT = 1920;
export const REEL_FPS = 30;
/** Instagram's and YouTube's loudness for short video; TikTok plays it unchanged. */
export const TARGET_LUFS = -14;
/** How far the checked figures may stray: AAC priming and frame rounding move the length by a frame or two. */
const DURATION_TOLERANCE_SECONDS = 0.5;
const LOUDNESS_TOLERANCE_LU = 1.5;

export interface ReelConfig extends FfmpegPaths {
  /** REELFLOW_MEDIA_DIR. */
  mediaDir: string;
  /** REELFLOW_MEDIA_BASE_URL: what serves mediaDir. */
  mediaBaseUrl: string;
  /** REELFLOW_ASSEMBLY_PRESET. */
  preset: string;
  /** REELFLOW_LOGO_PATH. */
  logoPath: string;
  /** REELFLOW_REEL_FONT. */
  font: string;
  maxDownloadBytes: number;
  allowPrivateHosts: PrivateHostPolicy;
}

export interface ReelSegmentInput {
  index: number;
  videoUrl: string;
  spokenLine: string;
  onScreenText: string[];
}

export interface ReelInput {
  /** Names the directory (the recommendation id): letters, digits, - and _. */
  key: string;
  mode: 'chained' | 'independent';
  segmentSeconds: number;
  segments: ReelSegmentInput[];
}

export const assembledReelSchema = z.object({
  videoUrl: z.string(),
  coverUrl: z.string(),
  /** Where in the cut the cover frame is (TikTok's video_cover_timestamp_ms); absent in cuts made before it was kept. */
  coverAtMs: z.number().int().min(0).optional(),
  /** Relative to mediaDir. */
  file: z.string(),
  durationSeconds: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
  sha256: z.string(),
  loudnessLufs: z.number(),
  /** Where each segment sits in the cut. */
  timeline: z.array(z.object({ index: z.number().int(), start: z.number(), end: z.number() })),
  /** chained-whole: the last extend's video carried the whole chain; concat: the clips end to end. */
  source: z.enum(['concat', 'chained-whole']),
  encodeSeconds: z.number(),
});
export type AssembledReel = z.infer<typeof assembledReelSchema>;

const RESULT_FILE = 'result.json';
const FINAL_FILE = 'final.mp4';
const COVER_FILE = 'cover.jpg';
/** Where the cover frame is taken: 1.5 s in, the first card on screen (half the cut when it is shorter). */
export const COVER_AT_SECONDS = 1.5;

const fail = (kind: 'permanent' | 'transient', message: string, code: string) =>
  new ProviderError(ASSEMBLY_PROVIDER, kind, message, { code });

export async function assembleReel(config: ReelConfig, input: ReelInput, signal?: AbortSignal): Promise<AssembledReel> {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(input.key))
    throw fail('permanent', `reel key "${input.key}" must be letters, digits, - or _`, 'bad_key');
  if (input.segments.length === 0) throw fail('permanent', 'the reel has no segments to assemble', 'no_segments');
  const dir = path.join(config.mediaDir, input.key);
  await fs.mkdir(dir, { recursive: true });
  const done = await readResult(dir);
  if (done) return done;

  const clips: ProbedClip[] = [];
  for (const segment of input.segments) clips.push(await fetchSegment(config, dir, segment, signal));
  const plan = timeline(input, clips);

  await fs.writeFile(path.join(dir, 'subtitles.ass'), assScript(input.segments, plan.spans, config.font));
  const started = Date.now();
  const tmp = `final.${process.pid}.tmp.mp4`;
  try {
    await encode(config, dir, plan.inputs, tmp, signal);
    const check = await checkCut(config, path.join(dir, tmp), plan.duration, signal);
    await fs.rename(path.join(dir, tmp), path.join(dir, FINAL_FILE));
    const encodeSeconds = (Date.now() - started) / 1000;
    const coverAt = Math.min(COVER_AT_SECONDS, plan.duration / 2);
    await cover(config, dir, coverAt, signal);
    const base = `${config.mediaBaseUrl.replace(/\/+$/, '')}/${encodeURIComponent(input.key)}`;
    const result: AssembledReel = {
      videoUrl: `${base}/${FINAL_FILE}`,
      coverUrl: `${base}/${COVER_FILE}`,
      coverAtMs: Math.round(coverAt * 1000),
      file: path.posix.join(input.key, FINAL_FILE),
      durationSeconds: check.durationSeconds,
      width: check.width,
      height: check.height,
      bytes: check.bytes,
      sha256: await sha256(path.join(dir, FINAL_FILE)),
      loudnessLufs: check.loudnessLufs,
      timeline: plan.spans.map((s, i) => ({ index: input.segments[i]!.index, start: round(s.start), end: round(s.end) })),
      source: plan.source,
      encodeSeconds: round(encodeSeconds),
    };
    // Last: its presence means everything above is on disk.
    const resultTmp = path.join(dir, `${RESULT_FILE}.${process.pid}.tmp`);
    await fs.writeFile(resultTmp, JSON.stringify(result, null, 2));
    await fs.rename(resultTmp, path.join(dir, RESULT_FILE));
    return result;
  } finally {
    await fs.rm(path.join(dir, tmp), { force: true });
  }
}

async function readResult(dir: string): Promise<AssembledReel | null> {
  try {
    const parsed = assembledReelSchema.safeParse(JSON.parse(await fs.readFile(path.join(dir, RESULT_FILE), 'utf8')));
    if (!parsed.success) return null;
    await fs.access(path.join(dir, FINAL_FILE));
    return parsed.data;
  } catch {
    return null;
  }
}

interface ProbedClip {
  index: number;
  /** File name inside the reel's directory. */
  file: string;
  durationSeconds: number;
}

/** A segment's clip on disk and readable, or an error naming the segment. */
async function fetchSegment(config: ReelConfig, dir: string, segment: ReelSegmentInput, signal?: AbortSignal): Promise<ProbedClip> {
  const file = `segment-${segment.index}.mp4`;
  const full = path.join(dir, file);
  const at = `segment ${segment.index}`;
  let probed = await probeClip(config, full, signal).catch(() => null);
  if (!probed) {
    const tmp = `${full}.${process.pid}.tmp`;
    const outcome = await downloadMedia(segment.videoUrl, tmp, {
      maxBytes: config.maxDownloadBytes,
      allowPrivateHosts: config.allowPrivateHosts,
      signal,
    }).catch((err: unknown) => {
      throw fail('transient', `${at}: downloading its clip failed: ${(err as Error).message}`, 'download_failed');
    });
    if (outcome.kind !== 'downloaded') {
      await fs.rm(tmp, { force: true });
      // KIE keeps results 14 days: a 404 now will not heal, but a 5xx may.
      const kind = outcome.kind === 'unavailable' && outcome.status >= 500 ? 'transient' : 'permanent';
      throw fail(kind, `${at}: its clip could not be downloaded from ${segment.videoUrl}: ${outcome.message}`, 'download_failed');
    }
    await fs.rename(tmp, full);
    try {
      probed = await probeClip(config, full, signal);
    } catch (err) {
      // Delete it so the next attempt downloads again: a truncated transfer is the likely cause.
      await fs.rm(full, { force: true });
      throw fail('transient', `${at}: ffprobe cannot read its clip (${segment.videoUrl}): ${(err as Error).message}`, 'unreadable_clip');
    }
  }
  return { index: segment.index, file, durationSeconds: probed.durationSeconds };
}

interface StreamInfo {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  channels?: number;
  sample_rate?: string;
}

async function ffprobeJson(config: ReelConfig, file: string, signal?: AbortSignal) {
  const run = await runTool(
    'ffprobe',
    config.ffprobe,
    [
      '-v',
      'error',
      '-show_entries',
      'format=duration:stream=codec_type,codec_name,width,height,pix_fmt,channels,sample_rate',
      '-of',
      'json',
      file,
    ],
    signal,
    { provider: ASSEMBLY_PROVIDER },
  );
  if (run.code !== 0) throw new Error(stderrTail(run.stderr) || `ffprobe exited ${run.code}`);
  const parsed = JSON.parse(run.stdout) as { format?: { duration?: string }; streams?: StreamInfo[] };
  const duration = Number(parsed.format?.duration);
  return { durationSeconds: Number.isFinite(duration) ? duration : 0, streams: parsed.streams ?? [] };
}

/** A clip we can cut: video and audio, and longer than a blink. */
async function probeClip(config: ReelConfig, file: string, signal?: AbortSignal): Promise<{ durationSeconds: number }> {
  const probe = await ffprobeJson(config, file, signal);
  if (!probe.streams.some((s) => s.codec_type === 'video')) throw new Error('no video stream');
  if (!probe.streams.some((s) => s.codec_type === 'audio')) throw new Error('no audio stream (VEO3 clips carry the spoken line)');
  if (probe.durationSeconds < 0.5) throw new Error(`it lasts ${probe.durationSeconds.toFixed(2)} s`);
  return { durationSeconds: probe.durationSeconds };
}

interface Span {
  start: number;
  end: number;
}

interface Timeline {
  /** Files (in the reel's directory) joined end to end. */
  inputs: string[];
  spans: Span[];
  duration: number;
  source: AssembledReel['source'];
}

/**
 * Where each segment sits. KIE does not document whether an extend's video is the new part
 * alone or the whole chain so far (Google's Veo 3.1 returns the whole): when every link is
 * the one before plus about one segment, the last link is the reel and the links' lengths
 * are the cut points; otherwise the clips are joined end to end.
 */
export function timeline(input: Pick<ReelInput, 'mode' | 'segmentSeconds'>, clips: ProbedClip[]): Timeline {
  const grows = (i: number) => {
    const added = clips[i]!.durationSeconds - clips[i - 1]!.durationSeconds;
    return added > 0.5 * input.segmentSeconds && added < 1.5 * input.segmentSeconds;
  };
  const whole = input.mode === 'chained' && clips.length > 1 && clips.every((_, i) => i === 0 || grows(i));
  if (whole) {
    const last = clips.at(-1)!;
    const spans = clips.map((c, i) => ({ start: i === 0 ? 0 : clips[i - 1]!.durationSeconds, end: c.durationSeconds }));
    return { inputs: [last.file], spans, duration: last.durationSeconds, source: 'chained-whole' };
  }
  let at = 0;
  const spans = clips.map((c) => {
    const span = { start: at, end: at + c.durationSeconds };
    at = span.end;
    return span;
  });
  return { inputs: clips.map((c) => c.file), spans, duration: at, source: 'concat' };
}

/** ASS times are h:mm:ss.cc. */
function assTime(seconds: number): string {
  const cs = Math.max(0, Math.round(seconds * 100));
  const h = Math.floor(cs / 360_000);
  const m = Math.floor((cs % 360_000) / 6_000);
  const s = Math.floor((cs % 6_000) / 100);
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(cs % 100).padStart(2, '0')}`;
}

/** Script text is the model's: braces would start ASS override tags and backslashes escapes. */
function assText(text: string): string {
  return text
    .replace(/[{}]/g, (c) => (c === '{' ? '(' : ')'))
    .replace(/\\/g, '/')
    .replace(/[\r\n]+/g, ' ')
    .trim();
}

/** Card text size: CARD_MAX_LINE_CHARS characters of it fit across the card (src/config/reel.ts). */
export const REEL_CARD_FONT_SIZE = 62;

/**
 * Subtitles (bottom, the spoken line of each segment) and data cards (top, a boxed panel of
 * our figures), one libass script: libass wraps, outlines and boxes text, which drawtext cannot.
 */
export function assScript(segments: Pick<ReelSegmentInput, 'spokenLine' | 'onScreenText'>[], spans: Span[], font: string): string {
  const fontName = font.replace(/,/g, ' ');
  const events = segments.flatMap((seg, i) => {
    const { start, end } = spans[i]!;
    const out = [`Dialogue: 0,${assTime(start)},${assTime(end)},Spoken,,0,0,0,,${assText(seg.spokenLine)}`];
    const card = seg.onScreenText.map(assText).filter(Boolean);
    if (card.length) out.push(`Dialogue: 1,${assTime(start)},${assTime(end)},Card,,0,0,0,,${card.join('\\N')}`);
    return out;
  });
  return [
    '[Script Info]',
    'ScriptType: v4.00+',
    `PlayResX: ${REEL_WIDTH}`,
    `PlayResY: ${REEL_HEIGHT}`,
    'WrapStyle: 0',
    'ScaledBorderAndShadow: yes',
    '',
    '[V4+ Styles]',
    'Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, ' +
      'StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding',
    // Bottom centre, white with a black outline, clear of the platforms' caption and buttons.
    `Style: Spoken,${fontName},56,&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,1,0,0,0,100,100,0,0,1,4,1,2,90,90,330,1`,
    // Top centre, on an opaque dark box (BorderStyle 3), below the logo.
    `Style: Card,${fontName},${REEL_CARD_FONT_SIZE},&H00FFFFFF,&H00FFFFFF,&H00202020,&H00202020,1,0,0,0,100,100,0,0,3,20,0,8,90,90,260,1`,
    '',
    '[Events]',
    'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
    ...events,
    '',
  ].join('\n');
}

async function encode(config: ReelConfig, dir: string, inputs: string[], out: string, signal?: AbortSignal): Promise<void> {
  const logo = path.resolve(config.logoPath);
  try {
    await fs.access(logo);
  } catch {
    throw fail('permanent', `logo not found at ${logo} (REELFLOW_LOGO_PATH)`, 'logo_missing');
  }
  const n = inputs.length;
  const joined = inputs.map((_, i) => `[${i}:v:0][${i}:a:0]`).join('');
  const filter = [
    `${joined}concat=n=${n}:v=1:a=1[vcat][acat]`,
    // Fill 9:16 whatever the clip's ratio (VEO3 9:16 is 720x1280): scale up, pad the rest.
    `[vcat]scale=${REEL_WIDTH}:${REEL_HEIGHT}:force_original_aspect_ratio=decrease,` +
      `pad=${REEL_WIDTH}:${REEL_HEIGHT}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${REEL_FPS},ass=subtitles.ass[vsub]`,
    `[${n}:v]scale=180:-1[logo]`,
    '[vsub][logo]overlay=W-w-48:48,format=yuv420p[v]',
    // Single-pass loudnorm lands within a fraction of a LU on 8-second clips; two passes would decode everything twice.
    `[acat]loudnorm=I=${TARGET_LUFS}:TP=-1.5:LRA=11,aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[a]`,
  ].join(';');
  const args = [
    '-nostdin',
    '-v',
    'error',
    '-y',
    ...inputs.flatMap((f) => ['-i', f]),
    '-i',
    logo,
    '-filter_complex',
    filter,
    '-map',
    '[v]',
    '-map',
    '[a]',
    '-c:v',
    'libx264',
    '-preset',
    config.preset,
    '-crf',
    '21',
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '160k',
    '-ar',
    '48000',
    // The index first: a platform can start processing (and a phone playing) before the last byte arrives.
    '-movflags',
    '+faststart',
    out,
  ];
  const run = await runTool('ffmpeg', config.ffmpeg, args, signal, { cwd: dir, provider: ASSEMBLY_PROVIDER });
  if (run.code !== 0)
    throw fail('transient', `ffmpeg could not assemble the reel: ${stderrTail(run.stderr) || 'no output'}`, 'ffmpeg_failed');
}

async function cover(config: ReelConfig, dir: string, at: number, signal?: AbortSignal): Promise<void> {
  const run = await runTool(
    'ffmpeg',
    config.ffmpeg,
    ['-nostdin', '-v', 'error', '-y', '-ss', at.toFixed(2), '-i', FINAL_FILE, '-frames:v', '1', '-q:v', '3', COVER_FILE],
    signal,
    { cwd: dir, provider: ASSEMBLY_PROVIDER },
  );
  if (run.code !== 0) throw fail('transient', `ffmpeg could not take the cover frame: ${stderrTail(run.stderr)}`, 'ffmpeg_failed');
}

export interface CutCheck {
  durationSeconds: number;
  width: number;
  height: number;
  bytes: number;
  loudnessLufs: number;
}

/**
 * What must hold before anything is published: the length the segments add up to, 1080x1920
 * H.264 yuv420p, AAC stereo 48 kHz, the index before the media (faststart) and the loudness.
 * Every failed check is named; the caller deletes the cut and assembly runs again.
 */
export async function checkCut(config: ReelConfig, file: string, expectedSeconds: number, signal?: AbortSignal): Promise<CutCheck> {
  const problems: string[] = [];
  let probe: Awaited<ReturnType<typeof ffprobeJson>>;
  try {
    probe = await ffprobeJson(config, file, signal);
  } catch (err) {
    throw fail('transient', `the assembled reel is unreadable: ${(err as Error).message}`, 'bad_cut');
  }
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  if (Math.abs(probe.durationSeconds - expectedSeconds) > DURATION_TOLERANCE_SECONDS) {
    problems.push(`lasts ${probe.durationSeconds.toFixed(2)} s, the segments add up to ${expectedSeconds.toFixed(2)} s`);
  }
  if (!video) problems.push('has no video');
  else {
    if (video.width !== REEL_WIDTH || video.height !== REEL_HEIGHT)
      problems.push(`is ${video.width}x${video.height}, not ${REEL_WIDTH}x${REEL_HEIGHT}`);
    if (video.codec_name !== 'h264' || video.pix_fmt !== 'yuv420p')
      problems.push(`video is ${video.codec_name}/${video.pix_fmt}, not h264/yuv420p`);
  }
  if (!audio) problems.push('has no audio');
  else if (audio.codec_name !== 'aac' || audio.channels !== 2 || audio.sample_rate !== '48000') {
    problems.push(`audio is ${audio.codec_name} ${audio.channels} ch ${audio.sample_rate} Hz, not AAC stereo 48000 Hz`);
  }
  const layout = await mp4Layout(file);
  if (!layout.complete) problems.push('is cut short: its last MP4 box ends past the end of the file');
  if (!layout.moovFirst) problems.push('has its index (moov) after the media: not faststart');
  const loudness = audio ? await integratedLoudness(config, file, signal) : NaN;
  if (audio && !(Math.abs(loudness - TARGET_LUFS) <= LOUDNESS_TOLERANCE_LU)) {
    problems.push(
      `loudness is ${Number.isFinite(loudness) ? loudness.toFixed(1) : 'unmeasurable'} LUFS, not ${TARGET_LUFS} ± ${LOUDNESS_TOLERANCE_LU}`,
    );
  }
  if (problems.length) throw fail('transient', `the assembled reel failed its checks: it ${problems.join('; it ')}`, 'bad_cut');
  const { size } = await fs.stat(file);
  return { durationSeconds: probe.durationSeconds, width: video!.width!, height: video!.height!, bytes: size, loudnessLufs: loudness };
}

/** EBU R128 integrated loudness of the audio track (an audio-only decode: about a second for a reel). */
async function integratedLoudness(config: ReelConfig, file: string, signal?: AbortSignal): Promise<number> {
  const run = await runTool(
    'ffmpeg',
    config.ffmpeg,
    ['-nostdin', '-hide_banner', '-nostats', '-i', file, '-map', '0:a:0', '-af', 'ebur128', '-f', 'null', '-'],
    signal,
    {
      provider: ASSEMBLY_PROVIDER,
    },
  );
  const summary = run.stderr.slice(run.stderr.lastIndexOf('Summary:'));
  const m = /I:\s+(-?[\d.]+) LUFS/.exec(summary);
  return m ? Number(m[1]) : NaN;
}

/** Top-level MP4 boxes in order: faststart puts moov before mdat. */
export async function moovFirst(file: string): Promise<boolean> {
  return (await mp4Layout(file)).moovFirst;
}

/**
 * Walks the top-level MP4 boxes: whether moov comes before mdat (faststart) and whether every box
 * ends within the file. A cut short (a full disk, a killed copy) keeps a readable index at the front,
 * so ffprobe alone would pass it.
 */
export async function mp4Layout(file: string): Promise<{ moovFirst: boolean; complete: boolean }> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const header = Buffer.alloc(16);
    let seen: 'moov' | 'mdat' | undefined;
    let offset = 0;
    while (offset + 8 <= size) {
      await handle.read(header, 0, 16, offset);
      let box = header.readUInt32BE(0);
      const type = header.toString('latin1', 4, 8);
      if (box === 1) box = Number(header.readBigUInt64BE(8));
      else if (box === 0) box = size - offset; // "to the end of the file"
      if (box < 8) return { moovFirst: seen === 'moov', complete: false };
      if (!seen && (type === 'moov' || type === 'mdat')) seen = type;
      offset += box;
    }
    return { moovFirst: seen === 'moov', complete: offset === size };
  } finally {
    await handle.close();
  }
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
