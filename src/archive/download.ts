/**
 * A paid video streamed to a staging file, resumed by range: a download cut short (a killed worker, a dropped
 * connection) is continued from the bytes already on disk when the server answers ranges (KIE's CDN, the
 * simulator, our media server), restarted only when it does not. Then checked before anything trusts it: not
 * empty, the size the server announced (and the sha256 and size we expect, when we know them), readable by
 * ffprobe as a video with a duration. No Temporal here.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkUrl, request, type PrivateHostPolicy } from '../media/download';
import { probeMedia, type FfmpegPaths } from '../media/ffmpeg';
import { ProviderError } from '../providers/errors';

/** The error provider name of archive failures (a step of ours, not a vendor). */
export const ARCHIVE_PROVIDER = 'archive';

const archiveError = (kind: 'transient' | 'permanent', message: string, code: string, status?: number) =>
  new ProviderError(ARCHIVE_PROVIDER, kind, message, { code, ...(status !== undefined ? { status } : {}) });

export interface StageOptions {
  allowPrivateHosts: PrivateHostPolicy;
  maxBytes: number;
  signal?: AbortSignal;
  /** Bytes on disk so far, after each chunk (the activity heartbeats them). */
  onProgress?: (bytes: number, total: number | null) => void;
}

export interface Staged {
  bytes: number;
  /** What the server said the whole file is (Content-Length, or the total of a Content-Range). */
  total: number;
  contentType: string;
  /** Where this call's request started: > 0 when it continued a partial file by range. */
  resumedFrom: number;
}

/** The sidecar of a staged file: which URL its bytes come from and how big the whole file is. */
interface Sidecar {
  url: string;
  total: number | null;
  contentType: string;
}

async function readSidecar(file: string): Promise<Sidecar | null> {
  try {
    return JSON.parse(await fs.readFile(`${file}.json`, 'utf8')) as Sidecar;
  } catch {
    return null;
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

/** Deletes a staged file and its sidecar (a corrupt download is fetched whole again). */
export async function discardStaged(file: string): Promise<void> {
  await fs.rm(file, { force: true });
  await fs.rm(`${file}.json`, { force: true });
}

/**
 * Downloads `rawUrl` into `file`, continuing what an earlier attempt left there (redirects followed, each hop
 * checked like the first); 401/403/404/410 mean the file is gone: permanent.
 */
export async function stageDownload(rawUrl: string, file: string, opts: StageOptions): Promise<Staged> {
  const url = checkUrl(rawUrl, opts.allowPrivateHosts, 'video URL');
  await fs.mkdir(path.dirname(file), { recursive: true });
  let sidecar = await readSidecar(file);
  let have = await sizeOf(file);
  if (!sidecar || sidecar.url !== rawUrl) {
    // Bytes from another URL (or of unknown origin) cannot be continued.
    await discardStaged(file);
    have = 0;
    sidecar = null;
  }
  if (sidecar?.total !== null && sidecar?.total !== undefined && have === sidecar.total && have > 0) {
    return { bytes: have, total: have, contentType: sidecar.contentType, resumedFrom: have };
  }
  const res = await openFollowingRedirects(url, opts, have > 0 ? { range: `bytes=${have}-` } : {});
  const status = res.statusCode ?? 0;
  const where = `${url.host}${url.pathname}`;
  if (status !== 200 && status !== 206) {
    res.resume();
    if (status === 416 && have > 0) {
      // Nothing after our bytes, or our bytes are more than the file: start over, the check decides.
      await discardStaged(file);
      return stageDownload(rawUrl, file, opts);
    }
    const message = `the video host answered HTTP ${status} for ${where}`;
    if ([401, 403, 404, 410].includes(status)) {
      throw archiveError('permanent', `${message}: the file is no longer there to archive`, 'source_gone', status);
    }
    throw archiveError('transient', message, 'download_failed', status);
  }
  let start = 0;
  let total: number | null = null;
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== have) {
      // A range we did not ask for: drop it and fetch the whole file.
      res.resume();
      await discardStaged(file);
      return stageDownload(rawUrl, file, { ...opts });
    }
    start = have;
    total = m[3] === '*' ? null : Number(m[3]);
  } else {
    const length = Number(res.headers['content-length'] ?? NaN);
    total = Number.isFinite(length) ? length : null;
  }
  if (total !== null && total > opts.maxBytes) {
    res.destroy();
    throw archiveError('permanent', `the video is ${total} bytes, over the ${opts.maxBytes}-byte cap`, 'too_large');
  }
  const contentType =
    String(res.headers['content-type'] ?? 'video/mp4')
      .split(';')[0]!
      .trim() || 'video/mp4';
  await fs.writeFile(`${file}.json`, JSON.stringify({ url: rawUrl, total, contentType } satisfies Sidecar));
  let bytes = start;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > opts.maxBytes) return done(archiveError('permanent', `the video passed the ${opts.maxBytes}-byte cap`, 'too_large'));
      opts.onProgress?.(bytes, total);
      done(null, chunk);
    },
  });
  try {
    // 200: the whole file again from byte 0; 206: our bytes continued.
    await pipeline(res, count, createWriteStream(file, { flags: status === 206 ? 'a' : 'w' }), { signal: opts.signal });
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    throw archiveError('transient', `the download from ${where} broke off at ${bytes} bytes: ${(err as Error).message}`, 'download_failed');
  }
  return { bytes, total: total ?? bytes, contentType, resumedFrom: start };
}

const MAX_REDIRECTS = 5;

/** GET with `headers` on every hop (a CDN may redirect a ranged request to its edge), each hop's address checked. */
async function openFollowingRedirects(first: URL, opts: StageOptions, headers: Record<string, string>) {
  let url = first;
  for (let hop = 0; ; hop += 1) {
    const res = await request(
      url,
      { maxBytes: opts.maxBytes, allowPrivateHosts: opts.allowPrivateHosts, signal: opts.signal },
      headers,
    ).catch((err: unknown) => {
      throw err instanceof ProviderError ? archiveError('transient', err.message.replace(/^[a-z_]+: /, ''), 'download_failed') : err;
    });
    const status = res.statusCode ?? 0;
    if (status < 300 || status >= 400 || !res.headers.location) return res;
    res.resume();
    if (hop >= MAX_REDIRECTS)
      throw archiveError('permanent', `the video URL redirected more than ${MAX_REDIRECTS} times`, 'too_many_redirects');
    url = checkUrl(new URL(res.headers.location, url).toString(), opts.allowPrivateHosts, 'video URL');
  }
}

export interface Verified {
  sha256: string;
  bytes: number;
  durationSeconds: number;
}

/**
 * The staged file is what was paid for, or a clear failure (transient: the next attempt downloads it again from
 * the source, never renders it again): empty, shorter or longer than announced, not the sha256 or size expected,
 * or nothing ffprobe reads as a video with a duration.
 */
export async function verifyStaged(
  file: string,
  staged: Pick<Staged, 'bytes' | 'total'>,
  expect: { sha256?: string; bytes?: number },
  paths: FfmpegPaths,
  signal?: AbortSignal,
): Promise<Verified> {
  const corrupt = (what: string) => archiveError('transient', `corrupt download: ${what}; downloading it again`, 'corrupt_download');
  const bytes = await sizeOf(file);
  if (bytes === 0) throw corrupt('the file is empty');
  if (bytes !== staged.total) throw corrupt(`${bytes} bytes on disk, the server announced ${staged.total}`);
  if (expect.bytes !== undefined && bytes !== expect.bytes) throw corrupt(`${bytes} bytes, expected ${expect.bytes}`);
  const sha256 = await sha256Of(file);
  if (expect.sha256 && sha256 !== expect.sha256) throw corrupt(`sha256 ${sha256.slice(0, 12)}…, expected ${expect.sha256.slice(0, 12)}…`);
  let durationSeconds: number;
  try {
    const probed = await probeMedia(paths, file, signal);
    durationSeconds = probed.durationSeconds;
    if (!/mp4|mov/.test(probed.formatName)) throw new Error(`format ${probed.formatName || 'unknown'}, not MP4`);
  } catch (err) {
    throw corrupt(`ffprobe cannot read it as a video (${(err as Error).message.replace(/^[a-z_]+: /, '')})`);
  }
  if (!(durationSeconds > 0)) throw corrupt('ffprobe finds no duration');
  return { sha256, bytes, durationSeconds };
}

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
