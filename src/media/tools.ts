/**
 * Running the media executables (yt-dlp, ffmpeg, ffprobe): one helper that
 * runs a tool to its exit through the spawn relay (./spawn-relay.ts: a worker
 * must not fork itself), reads stdout and stderr to the end, stops the child on
 * abort and turns a missing executable into an error saying what to install.
 * No Temporal here.
 */
import { ProviderError } from '../providers/errors';
import { spawnRelay, type RelayResult } from './spawn-relay';

/** The provider name media errors carry (the audio_fetch row of the limits table). */
export const MEDIA_PROVIDER = 'audio_fetch';

export const INSTALL_HINT = 'install it (Debian/Ubuntu: apt-get install yt-dlp ffmpeg) or set its path';

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Which variable names each executable's path, for the "not found" message. */
export type ToolName = 'yt-dlp' | 'ffmpeg' | 'ffprobe';
export const PATH_VARIABLE: Record<ToolName, string> = { 'yt-dlp': 'YT_DLP_PATH', ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };

/** The tools that do not start at all (not installed, or not at the path given), as toolMissing errors. */
export async function missingTools(binaryOf: (tool: ToolName) => string): Promise<ProviderError[]> {
  const tools = Object.keys(PATH_VARIABLE) as ToolName[];
  const failures = await Promise.all(
    tools.map((tool) =>
      runTool(tool, binaryOf(tool), [tool === 'yt-dlp' ? '--version' : '-version']).then(
        () => null,
        (err: unknown) => (err instanceof ProviderError && err.details.code === 'tool_missing' ? err : null),
      ),
    ),
  );
  return failures.filter((e): e is ProviderError => e !== null);
}

export function toolMissing(tool: ToolName, binary: string, provider: string = MEDIA_PROVIDER): ProviderError {
  // Permanent: no retry installs a package. The message is what an operator needs to act.
  return new ProviderError(provider, 'permanent', `${tool} not found at "${binary}": ${INSTALL_HINT} (${PATH_VARIABLE[tool]})`, {
    code: 'tool_missing',
  });
}

export interface RunToolOptions {
  /** Working directory (relative paths in ffmpeg filter arguments need no escaping). */
  cwd?: string;
  /** The provider its errors name. Default MEDIA_PROVIDER. */
  provider?: string;
}

/** Runs to exit; rejects only when the executable cannot start (missing: toolMissing) or the signal aborts it. */
export async function runTool(
  tool: ToolName,
  binary: string,
  args: string[],
  signal?: AbortSignal,
  opts: RunToolOptions = {},
): Promise<ToolRun> {
  const provider = opts.provider ?? MEDIA_PROVIDER;
  let run: RelayResult;
  try {
    run = await spawnRelay.run(binary, args, opts.cwd, signal);
  } catch (err) {
    if (signal?.aborted) throw new ProviderError(provider, 'transient', `${tool} stopped: the activity was cancelled`);
    throw err;
  }
  if ('code' in run) return run;
  const { code, message } = run.startError;
  if (code === 'ENOENT' || code === 'EACCES') throw toolMissing(tool, binary, provider);
  throw Object.assign(new Error(message), { code });
}

/** The last meaningful lines of a tool's stderr, for messages and status reasons. */
export function stderrTail(stderr: string, lines = 3): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ')
    .slice(0, 500);
}
