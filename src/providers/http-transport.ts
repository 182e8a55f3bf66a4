/**
 * The provider clients' wire: one HTTP request over node:http(s) with keep-alive agents, its whole body read.
 *
 * Why not fetch: on this project's 2-core machines a fetch POST to a process on 127.0.0.1 took about a millisecond
 * more than the same request on node:http (p50 2.7 vs 1.6 ms after a 300 ms pause; docs/bench-history.md, "Provider
 * requests on node:http instead of fetch"), and a paid start is one such request on the slot's hand-over. The
 * contract is fetch's as HttpClient used it: no redirect followed, the timeout covers connect, headers and the whole
 * body, compressed bodies are decoded, and failures carry a `code` (ECONNREFUSED, ...) or are an AbortError.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

export interface WireRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: Uint8Array | string | undefined;
  signal: AbortSignal;
}

export interface WireResponse {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
}

/**
 * Sockets kept between requests: a provider's next poll or start skips the TCP (and TLS) handshake. An idle one is
 * closed after 4 s (undici's default, and sooner when the server's Keep-Alive header says so): a request on a socket
 * the server has just closed fails without an answer, which for a paid submit means an outcome we cannot know. With
 * NODE_USE_ENV_PROXY=1, HTTP(S)_PROXY and NO_PROXY are honoured as Node's fetch honours them (Node 24; ignored by 20).
 */
const AGENT_OPTIONS = {
  keepAlive: true,
  timeout: 4_000,
  keepAliveMsecs: 1_000,
  maxSockets: 64,
  maxFreeSockets: 16,
  scheduling: 'lifo',
  ...(process.env.NODE_USE_ENV_PROXY ? { proxyEnv: process.env } : {}),
} as const;
const httpAgent = new http.Agent(AGENT_OPTIONS);
const httpsAgent = new https.Agent(AGENT_OPTIONS);

/** Who wants to know when the next request leaves (whenRequestLeaves), across the awaits between. */
const departures = new AsyncLocalStorage<{ listener: (() => void) | null }>();

/**
 * Runs `fn`; the first request it sends calls `listener` once its bytes are handed to the OS (the request's 'finish':
 * after the socket is assigned, a new connection made, the body written). What a claimed start needs to know: how
 * late after its stamp the paid request really left (SlotGate.startLeft).
 */
export function whenRequestLeaves<T>(listener: () => void, fn: () => Promise<T>): Promise<T> {
  return departures.run({ listener }, fn);
}

const DECODERS: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};
const ACCEPT_ENCODING = 'gzip, deflate, br';

export function sendOnWire(req: WireRequest): Promise<WireResponse> {
  const body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
  const headers: Record<string, string> = { 'accept-encoding': ACCEPT_ENCODING, ...lowerCased(req.headers) };
  if (body !== undefined) headers['content-length'] = String(body.byteLength);
  const { url } = req;
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') {
    return Promise.reject(Object.assign(new TypeError(`unsupported protocol ${url.protocol}`), { code: 'ERR_INVALID_URL' }));
  }
  return new Promise<WireResponse>((resolve, reject) => {
    const request = (secure ? https : http).request(
      url,
      { method: req.method, headers, agent: secure ? httpsAgent : httpAgent, signal: req.signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        // A response cut short (the server or the signal closed the socket mid-body) is an error, never a short body.
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete)
            reject(req.signal.aborted ? abortError(req.signal) : Object.assign(new Error('response ended early'), { code: 'ECONNRESET' }));
        });
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const decode =
            DECODERS[
              String(res.headers['content-encoding'] ?? '')
                .trim()
                .toLowerCase()
            ];
          const finish = (bytes: Buffer) =>
            resolve({ status: res.statusCode ?? 0, headers: toHeaders(res.rawHeaders), bytes: new Uint8Array(bytes) });
          if (!decode || raw.byteLength === 0) finish(raw);
          else decode(raw).then(finish, reject);
        });
      },
    );
    request.on('error', (err) => reject(req.signal.aborted ? abortError(req.signal, err) : err));
    const departure = departures.getStore();
    if (departure?.listener) {
      request.once('finish', departure.listener);
      departure.listener = null;
    }
    request.end(body);
  });
}

/** As fetch reports it: the signal's reason when it is an error (a TimeoutError), else an AbortError. */
function abortError(signal: AbortSignal, cause?: unknown): Error {
  if (signal.reason instanceof Error) return signal.reason;
  return Object.assign(new Error('the request was aborted'), { name: 'AbortError', cause });
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

function toHeaders(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}
