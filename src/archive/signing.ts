/**
 * Signed, expiring URLs to our copy of a video in the filesystem store: what Instagram and TikTok fetch (and
 * YouTube's upload reads) when no S3 presigner is there to sign them. HMAC-SHA256 over the key and the expiry,
 * checked in constant time by whatever serves REELFLOW_MEDIA_BASE_URL (the API's /media/archive/, or the media
 * server of the demo and tests). No Temporal here.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Path segment under the media base URL where archived videos are served. */
export const ARCHIVE_ROUTE = 'archive';

/** An archive key as served: videos/<recommendation id>.mp4. */
export const ARCHIVE_KEY = /^videos\/[A-Za-z0-9_-]{1,100}\.mp4$/;

function signature(secret: string, key: string, expires: number): string {
  return createHmac('sha256', secret).update(`${key}\n${expires}`).digest('hex');
}

/** `<base>/archive/<key>?expires=<unix s>&signature=<hex>`, valid until `expiresAt`. */
export function signArchiveUrl(baseUrl: string, key: string, secret: string, expiresAt: Date): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  const q = new URLSearchParams({ expires: String(expires), signature: signature(secret, key, expires) });
  return `${baseUrl.replace(/\/+$/, '')}/${ARCHIVE_ROUTE}/${key}?${q.toString()}`;
}

export type SignatureCheck = 'ok' | 'missing' | 'expired' | 'invalid';

/** Whether a request for `key` carries a valid, unexpired signature (`query`: its search params). */
export function checkArchiveSignature(key: string, query: URLSearchParams, secret: string, now = new Date()): SignatureCheck {
  const expiresRaw = query.get('expires');
  const given = query.get('signature');
  if (!expiresRaw || !given) return 'missing';
  const expires = Number(expiresRaw);
  if (!/^\d{1,12}$/.test(expiresRaw) || !/^[0-9a-f]{64}$/.test(given)) return 'invalid';
  const expected = Buffer.from(signature(secret, key, expires), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) return 'invalid';
  // Checked after the signature: an attacker learns nothing from the order of the answers.
  return expires * 1000 <= now.getTime() ? 'expired' : 'ok';
}
