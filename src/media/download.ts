/**
 * Downloads a direct media URL (Instagram's media_url and the like) to a file:
 * http(s) only, streamed, byte-capped, redirects followed by hand so each hop
 * is checked, and no connection to a private, loopback or link-local address
 * unless the deployment allows it (the simulators live on 127.0.0.1). The
 * address check runs in the socket's DNS lookup, so a name cannot resolve to a
 * public address for the check and a private one for the connection.
 * No Temporal here.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { ProviderError } from '../providers/errors';
import { MEDIA_PROVIDER } from './tools';

export interface DownloadOptions {
  /** Refuse (and stop reading) beyond this many bytes. */
  maxBytes: number;
  /**
   * Private and loopback addresses allowed: all (true: MEDIA_ALLOW_PRIVATE_HOSTS, for the
   * simulators), none (false, the default) or just these addresses (e.g. ['127.0.0.1']).
   */
  allowPrivateHosts?: PrivateHostPolicy;
  /** Default 5. */
  maxRedirects?: number;
  /** Per hop: connect and headers. Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type DownloadOutcome =
  | { kind: 'downloaded'; bytes: number; contentType: string }
  | { kind: 'unavailable'; status: number; message: string }
  | { kind: 'too_large'; message: string };

const permanent = (message: string, code: string) => new ProviderError(MEDIA_PROVIDER, 'permanent', message, { code });

export type PrivateHostPolicy = boolean | readonly string[];

function refused(address: string, policy: PrivateHostPolicy): boolean {
  if (policy === true || !isPrivateAddress(address)) return false;
  return policy === false || !policy.includes(address.replace(/^::ffff:/i, ''));
}

/** Loopback, private, link-local, CGNAT, unique-local and unspecified ranges, v4 and v6 (v4-mapped included). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  if (net.isIPv4(ip)) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  const v6 = ip.toLowerCase();
  return v6 === '::' || v6 === '::1' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || /^ff/.test(v6);
}

/** A dns.lookup that refuses private answers: the check and the connection use the same address. */
function guardedLookup(allowPrivate: PrivateHostPolicy): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as dns.LookupAddress[];
      const blocked = list.find((a) => refused(a.address, allowPrivate));
      if (blocked) {
        const e = permanent(
          `media host ${hostname} resolves to the private address ${blocked.address}: refused (MEDIA_ALLOW_PRIVATE_HOSTS is off)`,
          'private_address',
        );
        return callback(e as unknown as NodeJS.ErrnoException, '', 4);
      }
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
}

export function checkUrl(raw: string, allowPrivate: PrivateHostPolicy, what = 'mediaUrl'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw permanent(`${what} "${raw.slice(0, 100)}" is not a URL`, 'bad_url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw permanent(`${what} must be http or https, got ${url.protocol}`, 'bad_url');
  // A literal address never reaches the lookup: check it here.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) && refused(host, allowPrivate)) {
    throw permanent(`${what} points at the private address ${host}: refused (MEDIA_ALLOW_PRIVATE_HOSTS is off)`, 'private_address');
  }
  return url;
}

/**
 * Refuses a page URL whose host is (or resolves to) a private address before
 * yt-dlp is pointed at it. Partial by nature: yt-dlp does its own lookups and
 * follows its own redirects, so this stops the obvious case (a link to an
 * internal service), not a hostile DNS server.
 */
export async function assertPublicPage(raw: string, allowPrivate: PrivateHostPolicy): Promise<void> {
  const url = checkUrl(raw, allowPrivate, 'url');
  if (allowPrivate === true) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host)) return;
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true });
  } catch (err) {
    throw new ProviderError(MEDIA_PROVIDER, 'transient', `cannot resolve ${host}: ${(err as Error).message}`);
  }
  const blocked = addresses.find((a) => refused(a.address, allowPrivate));
  if (blocked)
    throw permanent(
      `page host ${host} resolves to the private address ${blocked.address}: refused (MEDIA_ALLOW_PRIVATE_HOSTS is off)`,
      'private_address',
    );
}

/** One GET with the private-address guard (`headers`: e.g. a Range); the caller reads or drains the answer. */
export function request(url: URL, opts: DownloadOptions, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, {
      lookup: guardedLookup(opts.allowPrivateHosts ?? false),
      timeout: opts.timeoutMs ?? 30_000,
      headers: { 'user-agent': 'reelflow-audio-fetch/1', accept: '*/*', ...headers },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    req.on('response', resolve);
    req.on('timeout', () => req.destroy(new ProviderError(MEDIA_PROVIDER, 'transient', `media host ${url.host} did not answer in time`)));
    req.on('error', (err) => {
      if (err instanceof ProviderError) return reject(err);
      if (err.name === 'AbortError') return reject(new ProviderError(MEDIA_PROVIDER, 'transient', 'media download cancelled'));
      reject(new ProviderError(MEDIA_PROVIDER, 'transient', `media download from ${url.host} failed: ${err.message}`));
    });
  });
}

/** Streams `rawUrl` into `dest` (written whole or not at all). */
export async function downloadMedia(rawUrl: string, dest: string, opts: DownloadOptions): Promise<DownloadOutcome> {
  const allowPrivate = opts.allowPrivateHosts ?? false;
  const maxRedirects = opts.maxRedirects ?? 5;
  let url = checkUrl(rawUrl, allowPrivate);
  for (let hop = 0; ; hop += 1) {
    const res = await request(url, opts);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= maxRedirects) throw permanent(`mediaUrl redirected more than ${maxRedirects} times`, 'too_many_redirects');
      url = checkUrl(new URL(res.headers.location, url).toString(), allowPrivate);
      continue;
    }
    if (status !== 200) {
      res.resume();
      const message = `media host answered HTTP ${status} for ${url.host}${url.pathname}`;
      if (status === 429) throw new ProviderError(MEDIA_PROVIDER, 'rate_limited', message, { status });
      if (status >= 500 || status === 408) throw new ProviderError(MEDIA_PROVIDER, 'transient', message, { status });
      // 401/403/404/410/451: the file is gone or not ours to read; asking again will not change it.
      return { kind: 'unavailable', status, message };
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      res.destroy();
      return { kind: 'too_large', message: `media file is ${declared} bytes, over the ${opts.maxBytes}-byte cap` };
    }
    let bytes = 0;
    let over = false;
    const cap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > opts.maxBytes) {
          over = true;
          return done(new Error('over the byte cap'));
        }
        done(null, chunk);
      },
    });
    const part = `${dest}.part`;
    try {
      await pipeline(res, cap, createWriteStream(part));
    } catch (err) {
      await fs.rm(part, { force: true });
      if (over) return { kind: 'too_large', message: `media file passed the ${opts.maxBytes}-byte cap while downloading` };
      throw new ProviderError(MEDIA_PROVIDER, 'transient', `media download from ${url.host} broke off: ${(err as Error).message}`);
    }
    await fs.rename(part, dest);
    return { kind: 'downloaded', bytes, contentType: String(res.headers['content-type'] ?? '') };
  }
}
