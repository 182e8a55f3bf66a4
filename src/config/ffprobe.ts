/**
 * Which ffprobe runs when FFPROBE_PATH is not set. Every paid video is probed before anything is posted (the
 * archive's checks, a reel's clips and its cut), and Debian's ffprobe links about 215 shared libraries: starting it
 * costs about 0.2 s of CPU a probe on our 2-core machines, against 0.05 s for the static build that the optional
 * dependency @ffprobe-installer/linux-x64 ships (Linux x64 only). In the bench's throughput scenario Debian's probes
 * were about a fifth of the machine's CPU, and the static one took 200 workflows from 119-147 to 188-207 a minute
 * (docs/bench-history.md, "ffprobe's start"). Without the package, or where its binary may not run for this user
 * (its install script makes it executable for the owner only), the ffprobe on PATH, as before.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The executable looked up on PATH (Debian's package `ffmpeg`). */
export const SYSTEM_FFPROBE = 'ffprobe';

/** The bundled static ffprobe when this process may run it, else `ffprobe` on PATH. */
export function defaultFfprobePath(bundled: string | null = bundledFfprobe()): string {
  if (!bundled) return SYSTEM_FFPROBE;
  try {
    fs.accessSync(bundled, fs.constants.X_OK);
    return bundled;
  } catch {
    return SYSTEM_FFPROBE;
  }
}

/** Where the optional dependency put its binary; null when it is not installed (another OS or CPU). */
export function bundledFfprobe(): string | null {
  try {
    return path.join(path.dirname(require.resolve('@ffprobe-installer/linux-x64/package.json')), 'ffprobe');
  } catch {
    return null;
  }
}
