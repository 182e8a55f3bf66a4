/**
 * Real MP4 clips for the VEO3 simulator, made with ffmpeg: a test pattern and a
 * tone, 8 s, 720x1280 (9:16) or 1280x720, H.264/AAC, so assembly, ffprobe and
 * the publishers handle real video. An extend chain is the clips before it
 * plus its own, joined without re-encoding (what Google's Veo 3.1 extension
 * returns: the whole video so far).
 *
 * Clips are cached on disk by what they contain (a handful of tones), shared by
 * every simulator on the machine: only the first test or demo run pays ffmpeg.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTool, stderrTail } from '../media/tools';

/** Tones of the clips (A4, C5, E5, G5, B5): each segment of a chain sounds different, so a test can hear the cuts. */
export const CLIP_TONES_HZ = [440, 523, 659, 784, 988] as const;

export interface ClipSpec {
  /** Index into CLIP_TONES_HZ (taken modulo its length). */
  tone: number;
  width: number;
  height: number;
  seconds: number;
}

export interface ClipMaker {
  /** A single render's clip. */
  clip(spec: ClipSpec): Promise<string>;
  /** The clips joined end to end (an extend chain). */
  chain(specs: readonly ClipSpec[]): Promise<string>;
}

export function clipMaker(opts: { ffmpeg?: string; dir?: string } = {}): ClipMaker {
  const ffmpeg = opts.ffmpeg ?? process.env.FFMPEG_PATH ?? 'ffmpeg';
  const dir = opts.dir ?? path.join(os.tmpdir(), 'reelflow-sim-clips');
  const pending = new Map<string, Promise<string>>();

  /** Makes `file` once: concurrent requests share the work, other processes find the finished file. */
  const once = (file: string, make: (tmp: string) => Promise<void>): Promise<string> => {
    const existing = pending.get(file);
    if (existing) return existing;
    const job = (async () => {
      if (await exists(file)) return file;
      await fs.mkdir(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp.mp4`;
      try {
        await make(tmp);
        await fs.rename(tmp, file);
      } finally {
        await fs.rm(tmp, { force: true });
      }
      return file;
    })();
    pending.set(file, job);
    job.catch(() => pending.delete(file));
    return job;
  };

  const clip = (spec: ClipSpec): Promise<string> => {
    const hz = CLIP_TONES_HZ[spec.tone % CLIP_TONES_HZ.length]!;
    const file = path.join(dir, `clip-${spec.width}x${spec.height}-${spec.seconds}s-${hz}hz.mp4`);
    return once(file, async (tmp) => {
      const run = await runTool('ffmpeg', ffmpeg, [
        '-nostdin',
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `testsrc=size=${spec.width}x${spec.height}:rate=24:duration=${spec.seconds}`,
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=${hz}:sample_rate=48000:duration=${spec.seconds}`,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-crf',
        '35',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
        '-b:a',
        '64k',
        '-shortest',
        '-movflags',
        '+faststart',
        tmp,
      ]);
      if (run.code !== 0) throw new Error(`simulator: ffmpeg could not make a clip: ${stderrTail(run.stderr)}`);
    });
  };

  const chain = async (specs: readonly ClipSpec[]): Promise<string> => {
    if (specs.length === 1) return clip(specs[0]!);
    const parts = await Promise.all(specs.map(clip));
    const key = createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
    const file = path.join(dir, `chain-${specs.length}-${key}.mp4`);
    return once(file, async (tmp) => {
      const list = `${tmp}.txt`;
      await fs.writeFile(list, parts.map((p) => `file '${p.replace(/'/g, "'\\''")}'`).join('\n'));
      try {
        const run = await runTool('ffmpeg', ffmpeg, [
          '-nostdin',
          '-v',
          'error',
          '-y',
          '-f',
          'concat',
          '-safe',
          '0',
          '-i',
          list,
          '-c',
          'copy',
          '-movflags',
          '+faststart',
          tmp,
        ]);
        if (run.code !== 0) throw new Error(`simulator: ffmpeg could not join an extend chain: ${stderrTail(run.stderr)}`);
      } finally {
        await fs.rm(list, { force: true });
      }
    });
  };

  return { clip, chain };
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).size > 0;
  } catch {
    return false;
  }
}
