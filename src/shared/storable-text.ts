/**
 * Text PostgreSQL can store. Kept apart from src/validation (zod, the services) so the workflows' update validators
 * check the same thing.
 */
// eslint-disable-next-line no-control-regex -- U+0000 is the character looked for
const UNSTORABLE_CHARACTER = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const UNSTORABLE = 'holds a NUL character or half of a surrogate pair, which PostgreSQL cannot store';

/**
 * The path of the first string PostgreSQL refuses (text and jsonb hold no U+0000, UTF-8 no lone surrogate), or null.
 * Accepted, such a string failed a database write later, inside a workflow that retried it for ever (an approval's
 * note, a video's title after its paid analysis).
 */
export function unstorableText(value: unknown, path: Array<string | number> = []): Array<string | number> | null {
  if (typeof value === 'string') return UNSTORABLE_CHARACTER.test(value) ? path : null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unstorableText(item, [...path, i]);
      if (found) return found;
    }
  } else if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) {
      const found = unstorableText(key, [...path, key]) ?? unstorableText(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}
