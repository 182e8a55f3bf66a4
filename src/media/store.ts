/**
 * Serving finished reels (REELFLOW_MEDIA_DIR) over HTTP: Instagram and TikTok
 * download the video from its URL, YouTube's upload reads it the same way. The
 * API mounts it at /media/ (public: the platforms send no credentials; the
 * names are recommendation ids); the demo and the tests run it on its own port.
 * Only the files a reel publishes are served, never the directory. Our archived copies (REELFLOW_STORAGE=fs) are
 * served under /media/archive/ to signed, unexpired URLs only (src/archive/signing.ts): 401 without a signature,
 * 403 for a wrong or expired one. No Temporal here.
 */
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ARCHIVE_KEY, ARCHIVE_ROUTE, checkArchiveSignature } from '../archive/signing';

const SERVED = /^\/?([A-Za-z0-9_-]{1,100})\/(final\.mp4|cover\.jpg)$/;
const TYPES: Record<string, string> = { '.mp4': 'video/mp4', '.jpg': 'image/jpeg' };

export interface MediaReply {
  status: number;
  headers: Record<string, string>;
  body?: Readable | string;
}

/** The fs store's archive (REELFLOW_ARCHIVE_DIR) and the key its URLs are signed with. */
export interface ArchiveServing {
  dir: string;
  signingKey: string;
}

const plain = (status: number, body: string): MediaReply => ({ status, headers: { 'Content-Type': 'text/plain' }, body });

/** Which file GET <mediaBase>/<rel>?<query> may read, or the refusal. */
function servedFile(mediaDir: string, rel: string, archive: ArchiveServing | undefined, query: URLSearchParams): string | MediaReply {
  const prefix = `${ARCHIVE_ROUTE}/`;
  if (archive && rel.startsWith(prefix)) {
    const key = rel.slice(prefix.length);
    if (!ARCHIVE_KEY.test(key)) return plain(404, 'not found');
    const check = checkArchiveSignature(key, query, archive.signingKey);
    if (check === 'missing') return plain(401, 'a signed URL is required');
    if (check !== 'ok') return plain(403, check === 'expired' ? 'this URL has expired' : 'invalid signature');
    return path.join(archive.dir, key);
  }
  const m = SERVED.exec(rel);
  return m ? path.join(mediaDir, m[1]!, m[2]!) : plain(404, 'not found');
}

/** The answer to GET <mediaBase>/<rel>, with byte ranges (CDN fetchers and players resume with them). */
export async function mediaReply(
  mediaDir: string,
  rel: string,
  range?: string,
  archive?: ArchiveServing,
  query: URLSearchParams = new URLSearchParams(),
): Promise<MediaReply> {
  const file = servedFile(mediaDir, rel, archive, query);
  if (typeof file !== 'string') return file;
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch {
    return plain(404, 'not found');
  }
  const headers = { 'Content-Type': TYPES[path.extname(file)]!, 'Accept-Ranges': 'bytes' };
  const r = /^bytes=(\d*)-(\d*)$/.exec(range ?? '');
  if (r && (r[1] || r[2])) {
    const start = r[1] ? Number(r[1]) : Math.max(0, size - Number(r[2]));
    const end = r[1] && r[2] ? Math.min(Number(r[2]), size - 1) : size - 1;
    if (start >= size || start > end) return { status: 416, headers: { 'Content-Range': `bytes */${size}` } };
    return {
      status: 206,
      headers: { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': String(end - start + 1) },
      body: createReadStream(file, { start, end }),
    };
  }
  return { status: 200, headers: { ...headers, 'Content-Length': String(size) }, body: createReadStream(file) };
}

export interface MediaServer {
  /** The base URL to set as REELFLOW_MEDIA_BASE_URL. */
  url: string;
  stop(): Promise<void>;
}

/** REELFLOW_MEDIA_DIR on its own port (demo, tests, bench): GET /media/<id>/final.mp4 as the API answers it. */
export async function startMediaServer(opts: {
  mediaDir: string;
  archive?: ArchiveServing;
  host?: string;
  port?: number;
}): Promise<MediaServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const rel = url.pathname.startsWith('/media/') ? url.pathname.slice('/media/'.length) : '';
    mediaReply(opts.mediaDir, rel, req.headers.range, opts.archive, url.searchParams)
      .then((reply) => {
        res.writeHead(reply.status, reply.headers);
        if (req.method === 'HEAD' || reply.body === undefined) res.end();
        else if (typeof reply.body === 'string') res.end(reply.body);
        // A file that fails mid-read (a disk error, a directory where it was) drops this connection, not the server.
        else reply.body.on('error', () => res.destroy()).pipe(res);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/media`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
