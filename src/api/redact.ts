/**
 * The KIE hook is authenticated by a secret path segment (KIE cannot send our
 * tokens), so its URL is a credential: whatever logs or stores a URL goes
 * through redactUrl first.
 */
const KIE_HOOK_SECRET = /^(\/hooks\/kie\/)[^/?#]*/;

export function redactUrl(url: string): string {
  return url.replace(KIE_HOOK_SECRET, '$1<redacted>');
}
