/**
 * Competitor discovery on Instagram: Graph API Business Discovery (providers-2.md §2).
 * Asked on our own professional account (INSTAGRAM_GRAPH_USER_ID, a Facebook-Login
 * token on graph.facebook.com) about another business or creator account by username.
 * Personal, age-gated or missing accounts answer (#110) or code 100 (sources disagree):
 * both read as "no such account". media_url is missing for most reels with library
 * audio, so a video keeps its permalink for the audio fetcher. No view counts here.
 */
import { ProviderError } from '../errors';
import { HttpClient, statusError, tryJson, type HttpResponse } from '../http';
import type { ChannelDiscovery, DiscoveredChannel, DiscoveredVideo } from '../discovery';
import { kindForGraphError } from './client';
import { graphErrorSchema } from './schemas';
import { businessDiscoverySchema, type DiscoveryMedia } from './discovery-schemas';

const PROVIDER = 'instagram_graph';

const MEDIA_FIELDS = 'id,caption,media_type,media_product_type,media_url,permalink,timestamp,like_count,comments_count';
const USERNAME = /^[A-Za-z0-9._]{1,30}$/;

export interface InstagramDiscoveryOptions {
  /** Host plus pinned version, e.g. https://graph.facebook.com/v25.0 */
  baseUrl: string;
  accessToken?: string;
  /** Our professional account's IG user id. */
  userId?: string;
  /** Media per page (Graph's default and maximum are unconfirmed). Default 25. */
  pageSize?: number;
  /** Default 30 000 ms. */
  timeoutMs?: number;
}

/** A username from what an operator typed: name, @name or a profile URL. */
export function parseInstagramUsername(raw: string): string {
  const input = raw.trim();
  const fromUrl = /^https?:\/\/(?:www\.)?instagram\.com\/([^/?#]+)/i.exec(input)?.[1];
  const name = (fromUrl ?? input).replace(/^@/, '');
  if (!USERNAME.test(name)) {
    throw new ProviderError(
      PROVIDER,
      'permanent',
      `"${input.slice(0, 80)}" is not an Instagram username (letters, digits, "." and "_", at most 30)`,
      {
        code: 'bad_channel',
      },
    );
  }
  return name.toLowerCase();
}

export class InstagramDiscoveryClient implements ChannelDiscovery {
  readonly platform = 'instagram' as const;
  private readonly http: HttpClient;

  constructor(private readonly options: InstagramDiscoveryOptions) {
    this.http = new HttpClient({
      provider: PROVIDER,
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
      describeError: describeDiscoveryError,
    });
  }

  async resolve(input: string): Promise<DiscoveredChannel> {
    const username = parseInstagramUsername(input);
    const { business_discovery: account } = await this.call(username, 'username,name,media_count');
    return { externalId: username, displayName: account.name ?? account.username ?? username };
  }

  async latest(channel: DiscoveredChannel): Promise<DiscoveredVideo[]> {
    return (await this.page(channel.externalId)).videos;
  }

  /** One page of media, newest first; `after` continues from a previous page's cursor. */
  async page(username: string, after?: string): Promise<{ videos: DiscoveredVideo[]; after: string | null }> {
    const limit = this.options.pageSize ?? 25;
    const media = `media${after ? `.after(${after})` : ''}.limit(${limit}){${MEDIA_FIELDS}}`;
    const { business_discovery: account } = await this.call(username, `username,${media}`);
    const page = account.media;
    return {
      videos: (page?.data ?? []).filter(isVideo).map((m) => toVideo(m)),
      after: page?.paging?.next ? (page.paging.cursors?.after ?? null) : null,
    };
  }

  /** Business Discovery gives no view count for another account's media (unconfirmed either way): no readings. */
  async views(): Promise<Map<string, number>> {
    return new Map();
  }

  private call(username: string, fields: string) {
    const { accessToken, userId } = this.options;
    if (!accessToken || !userId) {
      throw new ProviderError(
        PROVIDER,
        'permanent',
        'Instagram discovery needs INSTAGRAM_GRAPH_ACCESS_TOKEN and INSTAGRAM_GRAPH_USER_ID (Facebook Login)',
        {
          code: 'not_configured',
        },
      );
    }
    return this.http.json(
      {
        method: 'GET',
        path: `/${encodeURIComponent(userId)}`,
        query: { fields: `business_discovery.username(${username}){${fields}}`, access_token: accessToken },
      },
      businessDiscoverySchema,
    );
  }
}

function isVideo(m: DiscoveryMedia): boolean {
  return m.media_type === 'VIDEO' || m.media_product_type === 'REELS';
}

function toVideo(m: DiscoveryMedia): DiscoveredVideo {
  const caption = (m.caption ?? '').split('\n')[0]!.trim();
  return {
    externalId: m.id,
    url: m.permalink ?? `https://www.instagram.com/reel/${m.id}/`,
    title: caption ? caption.slice(0, 200) : `Instagram ${m.media_product_type === 'REELS' ? 'reel' : 'video'} ${m.id}`,
    publishedAt: m.timestamp ? normaliseGraphTime(m.timestamp) : null,
    views: null,
    durationSeconds: null,
    mediaUrl: m.media_url ?? null,
  };
}

/** Graph writes 2026-09-30T10:00:00+0000; ISO-8601 wants the colon. */
function normaliseGraphTime(value: string): string | null {
  const fixed = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  return Number.isNaN(Date.parse(fixed)) ? null : new Date(fixed).toISOString();
}

// (#110) Invalid user id, or code 100 with Business Discovery's "cannot find user" wording.
const UNKNOWN_USER_CODES = new Set([110]);

function describeDiscoveryError(res: HttpResponse): ProviderError | undefined {
  const parsed = graphErrorSchema.safeParse(tryJson(res.text));
  if (!parsed.success) return undefined;
  const e = parsed.data.error;
  const unknownUser =
    (e.code !== undefined && UNKNOWN_USER_CODES.has(e.code)) ||
    (e.code === 100 && e.error_subcode === 2207013) ||
    (e.code === 100 && /invalid user id|cannot find user|does not exist/i.test(e.message));
  if (unknownUser) {
    return new ProviderError(
      PROVIDER,
      'permanent',
      'no Instagram business or creator account by that username ' +
        `(personal and age-gated accounts are not visible to Business Discovery): ${e.message}`,
      { status: res.status, code: 'unknown_user' },
    );
  }
  const code = e.error_subcode ?? e.code;
  return statusError(PROVIDER, res, `${e.message}${e.code !== undefined ? ` (code ${e.code})` : ''}`, {
    kind: kindForGraphError(e, res.status),
    ...(code !== undefined ? { code } : {}),
  });
}
