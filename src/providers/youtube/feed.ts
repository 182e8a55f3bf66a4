/**
 * A small reader for YouTube's channel feed (Atom, `GET /feeds/videos.xml?channel_id=UC…`).
 * Google documents no contract for it (providers-2.md §1.1, third-party only), so it reads
 * what it needs and no more: per `<entry>` the video id, title, alternate link, published
 * time and `<media:statistics views>`, tolerant of attribute order, either quote style,
 * CDATA, entities, other namespace prefixes' absence and unknown elements. No XML
 * dependency: the shape is flat and the parser is not asked to validate XML.
 */
import { z } from 'zod';

export interface FeedEntry {
  videoId: string;
  title: string;
  /** The alternate link (a watch or /shorts/ page); null when absent. */
  link: string | null;
  published: string | null;
  /** Null when the entry carries no statistics (third-party code treats views="0" as upcoming or live). */
  views: number | null;
}

export interface Feed {
  /** `<yt:channelId>` of the feed, when present. */
  channelId: string | null;
  /** The channel's title (`<title>` before the first entry). */
  title: string | null;
  entries: FeedEntry[];
}

const entrySchema = z.object({
  videoId: z.string().regex(/^[A-Za-z0-9_-]{6,20}$/, 'yt:videoId must be a YouTube video id'),
  title: z.string(),
  link: z.string().url().nullable(),
  published: z.string().datetime({ offset: true }).nullable(),
  views: z.number().int().min(0).nullable(),
});

export class FeedFormatError extends Error {
  override name = 'FeedFormatError';
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeXmlText(raw: string): string {
  // CDATA sections are literal; everything else has its entities decoded.
  return raw
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part) =>
      part.startsWith('<![CDATA[')
        ? part.slice(9, -3)
        : part.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, name: string) => {
            if (name.startsWith('#x')) return safeCodePoint(parseInt(name.slice(2), 16)) ?? whole;
            if (name.startsWith('#')) return safeCodePoint(parseInt(name.slice(1), 10)) ?? whole;
            return ENTITIES[name] ?? whole;
          }),
    )
    .join('')
    .trim();
}

function safeCodePoint(n: number): string | undefined {
  return Number.isInteger(n) && n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Text of the first `<name …>text</name>` in `xml`; name may carry a prefix (`yt:videoId`). */
function elementText(xml: string, name: string): string | null {
  const m = new RegExp(`<${escape(name)}(?:\\s[^>]*)?>([\\s\\S]*?)</${escape(name)}\\s*>`).exec(xml);
  return m ? decodeXmlText(m[1]!) : null;
}

/** Attributes of each `<name …>` (self-closing or not) in `xml`. */
function elementAttributes(xml: string, name: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  const tag = new RegExp(`<${escape(name)}(\\s[^>]*?)?/?>`, 'g');
  for (const m of xml.matchAll(tag)) {
    const attrs: Record<string, string> = {};
    for (const a of (m[1] ?? '').matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]!] = decodeXmlText(a[2] ?? a[3] ?? '');
    out.push(attrs);
  }
  return out;
}

/**
 * Parses a channel feed. A body that is not an Atom feed throws FeedFormatError;
 * an entry without a usable video id is skipped (counted in `skipped`), so one odd
 * entry does not hide the others.
 */
export function parseChannelFeed(xml: string): Feed & { skipped: number } {
  if (!/<feed[\s>]/.test(xml)) throw new FeedFormatError(`not an Atom feed: ${xml.replace(/\s+/g, ' ').slice(0, 120)}`);
  const firstEntry = xml.search(/<entry[\s>]/);
  const head = firstEntry === -1 ? xml : xml.slice(0, firstEntry);
  const entries: FeedEntry[] = [];
  let skipped = 0;
  for (const m of xml.matchAll(/<entry(?:\s[^>]*)?>([\s\S]*?)<\/entry\s*>/g)) {
    const body = m[1]!;
    const videoId = elementText(body, 'yt:videoId') ?? /<id>\s*yt:video:([^<\s]+)\s*<\/id>/.exec(body)?.[1] ?? '';
    const alternate = elementAttributes(body, 'link').find((a) => (a.rel ?? 'alternate') === 'alternate');
    const viewsAttr = elementAttributes(body, 'media:statistics')[0]?.views;
    const candidate = {
      videoId,
      title: elementText(body, 'title') ?? elementText(body, 'media:title') ?? '',
      link: alternate?.href ?? null,
      published: elementText(body, 'published'),
      views: viewsAttr !== undefined && /^\d+$/.test(viewsAttr) ? Number(viewsAttr) : null,
    };
    const parsed = entrySchema.safeParse(candidate);
    if (parsed.success) entries.push(parsed.data);
    else skipped += 1;
  }
  return { channelId: elementText(head, 'yt:channelId'), title: elementText(head, 'title'), entries, skipped };
}
