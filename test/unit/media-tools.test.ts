/**
 * runTool through the spawn relay (src/media/spawn-relay.ts): the tools are children of the relay, not of this
 * process; what they print, their exit code, a missing executable, an abort and a relay that died. And which ffprobe
 * runs by default (src/config/ffprobe.ts).
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledFfprobe, defaultFfprobePath, SYSTEM_FFPROBE } from '../../src/config/ffprobe';
import { loadEnv } from '../../src/config/env';
import { spawnRelay } from '../../src/media/spawn-relay';
import { probeMedia } from '../../src/media/ffmpeg';
import { runTool } from '../../src/media/tools';
import { ProviderError } from '../../src/providers/errors';
import { waitUntil } from '../helpers/wait';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reelflow-tools-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runTool', () => {
  it('starts tools from the relay, not from this process, and returns their exit code and output', async () => {
    const run = await runTool('ffprobe', '/bin/sh', ['-c', 'echo "parent $PPID in $(pwd)"; echo oops >&2; exit 3'], undefined, {
      cwd: dir,
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('oops\n');
    const relay = spawnRelay.pid();
    expect(relay).not.toBeNull();
    expect(relay).not.toBe(process.pid);
    expect(run.stdout).toBe(`parent ${relay} in ${dir}\n`);
  });

  it('names what to install when the executable is missing', async () => {
    const failed = runTool('ffprobe', path.join(dir, 'no-such-ffprobe'), ['-version']);
    await expect(failed).rejects.toBeInstanceOf(ProviderError);
    await expect(failed).rejects.toMatchObject({ details: { code: 'tool_missing' } });
    await expect(failed).rejects.toThrow(/ffprobe not found at .*apt-get install yt-dlp ffmpeg.*FFPROBE_PATH/);
  });

  it('stops the tool when the signal aborts', async () => {
    const pidFile = path.join(dir, 'sleeper.pid');
    const controller = new AbortController();
    const running = runTool('ffmpeg', '/bin/sh', ['-c', `echo $$ > ${pidFile}; exec sleep 30`], controller.signal);
    const pid = Number(await waitUntil(() => readFile(pidFile, 'utf8').then((s) => s.trim()), { what: 'the tool started' }));
    controller.abort();
    await expect(running).rejects.toThrow('ffmpeg stopped: the activity was cancelled');
    await waitUntil(() => !alive(pid), { what: 'the aborted tool gone', timeoutMs: 5_000 });
  });

  it('fails the runs of a relay that died, and the next run starts a new relay', async () => {
    const pidFile = path.join(dir, 'orphan.pid');
    const running = runTool('ffmpeg', '/bin/sh', ['-c', `echo $$ > ${pidFile}; exec sleep 30`]);
    const orphan = Number(await waitUntil(() => readFile(pidFile, 'utf8').then((s) => s.trim()), { what: 'the tool started' }));
    const first = spawnRelay.pid()!;
    process.kill(first, 'SIGKILL');
    await expect(running).rejects.toThrow(/media spawn relay exited \(SIGKILL\)/);
    process.kill(orphan, 'SIGKILL'); // a relay killed outright cannot stop its tools
    const next = await runTool('ffprobe', '/bin/sh', ['-c', 'echo $PPID']);
    expect(next.stdout.trim()).toBe(String(spawnRelay.pid()));
    expect(spawnRelay.pid()).not.toBe(first);
  });
});

describe('the default ffprobe', () => {
  it('is the static build the optional dependency ships, and it reads a video as the checks ask', async () => {
    const bundled = bundledFfprobe();
    expect(bundled, 'npm ci installs @ffprobe-installer/linux-x64 on Linux x64').not.toBeNull();
    expect(loadEnv({}).FFPROBE_PATH).toBe(bundled);
    const version = await runTool('ffprobe', bundled!, ['-version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^ffprobe version \S+-static/);
    // The archive's own question of a video (src/media/ffmpeg.ts probeMedia), on a clip ffmpeg makes here.
    const clip = path.join(dir, 'clip.mp4');
    const made = await runTool('ffmpeg', 'ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'color=c=blue:s=64x64:d=1', '-f', 'lavfi', '-i', 'sine=d=1'],
      ...['-c:v', 'libx264', '-c:a', 'aac', '-shortest', clip],
    ]);
    expect(made.code, made.stderr).toBe(0);
    const probe = await probeMedia({ ffmpeg: 'ffmpeg', ffprobe: bundled! }, clip);
    expect(probe.formatName).toContain('mp4');
    expect(probe.hasAudio).toBe(true);
    expect(probe.durationSeconds).toBeGreaterThan(0.9);
  });

  it('is the ffprobe on PATH when the bundled one is missing or may not run for this user', async () => {
    // Only the execute bit is asked (one access call), so any small file stands in for the binary.
    const stand = path.join(dir, 'ffprobe');
    await writeFile(stand, '#!/bin/sh\n', { mode: 0o644 });
    expect(defaultFfprobePath(stand)).toBe(SYSTEM_FFPROBE);
    await chmod(stand, 0o755);
    expect(defaultFfprobePath(stand)).toBe(stand);
    expect(defaultFfprobePath(null)).toBe(SYSTEM_FFPROBE);
    expect(defaultFfprobePath(path.join(dir, 'absent'))).toBe(SYSTEM_FFPROBE);
    expect(loadEnv({ FFPROBE_PATH: '/opt/ffprobe' }).FFPROBE_PATH).toBe('/opt/ffprobe');
  });
});
