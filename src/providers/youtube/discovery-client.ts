/**
 * Competitor discovery on YouTube (providers-2.md §1). Two sources:
 * - no key: the public channel feed, newest 15 uploads with views, no quota.
 *   It needs a channel id (UC…); it answers 404/500 now and then for valid
 *   channels, so a check reads those as 'transient' (retried, never "gone").
 * - YOUTUBE_DATA_API_KEY: channels.list (a handle becomes a channel id), the
 *   uploads playlist (UC… → UU…) and videos.list for views and durations,
 *   1 unit a call. quotaExceeded is 'quota_exhausted' until midnight Pacific.
 * A handle without a key is refused with the two ways out, unless reading the
 * channel page is switched on (unofficial: consent pages may stand in the way).
 */
import { ProviderError } from '../errors';
import { HttpClient, statusError } from '../http';
import type { ChannelDiscovery, DiscoveredChannel, DiscoveredVideo } from '../discovery';
import { nextMidnight, PACIFIC } from '../calendar';
import { googleErrorDescriber } from './client';
import { channelListSchema, discoveryVideoListSchema, parseIsoDuration, playlistItemsSchema } from './discovery-schemas';
import { FeedFormatError, parseChannelFeed, type Feed } from './feed';

const PROVIDER = 'youtube_data';

/** videos.list takes at most 50 ids a call (widely observed; providers-2.md §1.2). */
export const VIDEOS_PER_CALL = 50;

export interface YouTubeDiscoveryOptions {
  /** Channel feeds, channel pages and watch links, e.g. https://www.youtube.com */
  feedBaseUrl: string;
  /** e.g. https://www.googleapis.com/youtube/v3 */
  apiBaseUrl: string;
  /** Unset: the public feed only (handles then need handleFromPage). */
  apiKey?: string;
  /** Read a handle's channel id from its channel page when there is no key. Default false. */
  handleFromPage?: boolean;
  /** Uploads read per check through the Data API. Default 15, what the feed gives. */
  uploadsPerCheck?: number;
  /** Default 30 000 ms. */
  timeoutMs?: number;
  /** The Cloud project whose units the key spends, named in quota errors (details.account). Default 'default'. */
  account?: string;
}

const CHANNEL_ID = /^UC[A-Za-z0-9_-]{22}$/;
const HANDLE = /^@?[A-Za-z0-9._-]{3,30}$/;

/** What an operator may type for a YouTube channel. */
export function parseYouTubeChannelInput(raw: string): { channelId: string } | { handle: string } {
  const input = raw.trim();
  if (CHANNEL_ID.test(input)) return { channelId: input };
  if (/^https?:\/\//i.test(input)) {
    const url = new URL(input);
    const channel = /^\/channel\/(UC[A-Za-z0-9_-]{22})/.exec(url.pathname)?.[1];
    if (channel) return { channelId: channel };
    const handle = /^\/(@[A-Za-z0-9._-]{3,30})/.exec(url.pathname)?.[1];
    if (handle) return { handle };
  } else if (HANDLE.test(input)) {
    return { handle: input.startsWith('@') ? input : `@${input}` };
  }
  throw new ProviderError(
    PROVIDER,
    'permanent',
    `"${input.slice(0, 80)}" is not a YouTube handle (@name), channel id (UC…) or channel URL`,
    {
      code: 'bad_channel',
    },
  );
}

export class YouTubeDiscoveryClient implements ChannelDiscovery {
  readonly platform = 'youtube' as const;
  private readonly web: HttpClient;
  private readonly api: HttpClient;
  private readonly feedBase: string;

  constructor(private readonly options: YouTubeDiscoveryOptions) {
    this.feedBase = options.feedBaseUrl.replace(/\/+$/, '');
    this.web = new HttpClient({ provider: PROVIDER, baseUrl: options.feedBaseUrl, timeoutMs: options.timeoutMs });
    this.api = new HttpClient({
      provider: PROVIDER,
      baseUrl: options.apiBaseUrl,
      timeoutMs: options.timeoutMs,
      describeError: googleErrorDescriber(PROVIDER, options.account),
    });
  }

  get usesDataApi(): boolean {
    return Boolean(this.options.apiKey);
  }

  async resolve(input: string): Promise<DiscoveredChannel> {
    const parsed = parseYouTubeChannelInput(input);
    if (this.options.apiKey) {
      const query = 'channelId' in parsed ? { id: parsed.channelId } : { forHandle: parsed.handle };
      const { items } = await this.api.json(
        { method: 'GET', path: '/channels', query: { part: 'id,snippet', ...query, key: this.options.apiKey } },
        channelListSchema,
      );
      const channel = items[0];
      if (!channel)
        throw notFound(
          'channelId' in parsed ? `no YouTube channel with id ${parsed.channelId}` : `no YouTube channel with handle ${parsed.handle}`,
        );
      return { externalId: channel.id, displayName: channel.snippet?.title ?? ('handle' in parsed ? parsed.handle : channel.id) };
    }
    let channelId: string;
    if ('channelId' in parsed) channelId = parsed.channelId;
    else if (this.options.handleFromPage) channelId = await this.channelIdFromPage(parsed.handle);
    else {
      throw new ProviderError(
        PROVIDER,
        'permanent',
        `a YouTube handle (${parsed.handle}) needs YOUTUBE_DATA_API_KEY to resolve: give the channel id (UC…) instead, ` +
          'or set YOUTUBE_HANDLE_FROM_PAGE=true to read it from the channel page (unofficial)',
        { code: 'handle_needs_key' },
      );
    }
    // The feed also 404s now and then for real channels: say so rather than "does not exist".
    const feed = await this.feed(channelId, { notFound: 'permanent' });
    return { externalId: channelId, displayName: feed.title ?? channelId };
  }

  async latest(channel: DiscoveredChannel): Promise<DiscoveredVideo[]> {
    if (!this.options.apiKey) {
      const feed = await this.feed(channel.externalId, { notFound: 'transient' });
      return feed.entries.map((e) => ({
        externalId: e.videoId,
        url: e.link ?? this.watchUrl(e.videoId),
        title: e.title,
        publishedAt: e.published,
        views: e.views,
        durationSeconds: null,
        mediaUrl: null,
      }));
    }
    const uploads = `UU${channel.externalId.slice(2)}`;
    const { items } = await this.api.json(
      {
        method: 'GET',
        path: '/playlistItems',
        query: {
          part: 'contentDetails,snippet',
          playlistId: uploads,
          maxResults: this.options.uploadsPerCheck ?? 15,
          key: this.options.apiKey,
        },
      },
      playlistItemsSchema,
    );
    const ids = items.map((i) => i.contentDetails.videoId);
    const details = await this.videoDetails(ids);
    // A video missing from videos.list went private or was deleted between the two calls.
    return items.flatMap((item) => {
      const id = item.contentDetails.videoId;
      const d = details.get(id);
      if (!d) return [];
      // A premiere not aired yet or a stream still live has no recording to fetch: started now, yt-dlp failed on the one
      // and cut the other at its bound, on every attempt, and the video was never looked at again. Left for a later
      // check, which lists it once it is a recording ('none'), while it is among the channel's newest and within the
      // watermark's margin of them (src/services/competitor-discovery.ts); `competitor add-video` takes one found later.
      if (d.snippet?.liveBroadcastContent && d.snippet.liveBroadcastContent !== 'none') return [];
      return [
        {
          externalId: id,
          url: this.watchUrl(id),
          title: d.snippet?.title ?? item.snippet?.title ?? id,
          publishedAt: item.contentDetails.videoPublishedAt ?? d.snippet?.publishedAt ?? null,
          views: d.statistics?.viewCount ?? null,
          durationSeconds: parseIsoDuration(d.contentDetails?.duration),
          mediaUrl: null,
        },
      ];
    });
  }

  async views(channel: DiscoveredChannel, videoIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!this.options.apiKey) {
      // The feed carries views of the newest 15 only: an older video has no reading.
      const feed = await this.feed(channel.externalId, { notFound: 'transient' });
      for (const e of feed.entries) if (e.views !== null && videoIds.includes(e.videoId)) out.set(e.videoId, e.views);
      return out;
    }
    for (const [id, d] of await this.videoDetails(videoIds)) if (d.statistics?.viewCount !== undefined) out.set(id, d.statistics.viewCount);
    return out;
  }

  private watchUrl(videoId: string): string {
    return `${this.feedBase}/watch?v=${encodeURIComponent(videoId)}`;
  }

  private async videoDetails(ids: readonly string[]) {
    const out = new Map<string, (typeof discoveryVideoListSchema)['_output']['items'][number]>();
    for (let i = 0; i < ids.length; i += VIDEOS_PER_CALL) {
      const chunk = ids.slice(i, i + VIDEOS_PER_CALL);
      const { items } = await this.api.json(
        {
          method: 'GET',
          path: '/videos',
          query: { part: 'snippet,statistics,contentDetails', id: chunk.join(','), key: this.options.apiKey },
        },
        discoveryVideoListSchema,
      );
      for (const item of items) out.set(item.id, item);
    }
    return out;
  }

  private async feed(channelId: string, opts: { notFound: 'permanent' | 'transient' }): Promise<Feed> {
    const res = await this.web.send({ method: 'GET', path: '/feeds/videos.xml', query: { channel_id: channelId } });
    if (res.status === 404) {
      const message =
        opts.notFound === 'permanent'
          ? `no feed for channel ${channelId} (HTTP 404; YouTube's feed also 404s now and then for real channels: ` +
            'try again, or set YOUTUBE_DATA_API_KEY)'
          : `feed of channel ${channelId} answered HTTP 404 (intermittent for valid channels; retried)`;
      throw new ProviderError(PROVIDER, opts.notFound, message, { status: 404, code: 'feed_not_found' });
    }
    if (res.status < 200 || res.status >= 300) throw statusError(PROVIDER, res, `feed of channel ${channelId} answered HTTP ${res.status}`);
    try {
      return parseChannelFeed(res.text);
    } catch (err) {
      if (err instanceof FeedFormatError)
        throw new ProviderError(PROVIDER, 'malformed', `feed of channel ${channelId}: ${err.message}`, { status: res.status });
      throw err;
    }
  }

  private async channelIdFromPage(handle: string): Promise<string> {
    const res = await this.web.send({ method: 'GET', path: `/${handle}` });
    if (res.status === 404) throw notFound(`no YouTube channel with handle ${handle} (its page answered 404)`);
    if (res.status < 200 || res.status >= 300) throw statusError(PROVIDER, res, `channel page of ${handle} answered HTTP ${res.status}`);
    const id =
      /<link[^>]+rel=["']canonical["'][^>]+href=["'][^"']*\/channel\/(UC[A-Za-z0-9_-]{22})/.exec(res.text)?.[1] ??
      /"(?:channelId|externalId)"\s*:\s*"(UC[A-Za-z0-9_-]{22})"/.exec(res.text)?.[1];
    if (!id) {
      throw new ProviderError(
        PROVIDER,
        'permanent',
        `could not read a channel id from the page of ${handle} (a consent page?): give the UC… id or set YOUTUBE_DATA_API_KEY`,
        {
          code: 'handle_unreadable',
        },
      );
    }
    return id;
  }
}

function notFound(message: string): ProviderError {
  return new ProviderError(PROVIDER, 'permanent', message, { code: 'channel_not_found' });
}

/** Milliseconds until the Data API's day ends: midnight America/Los_Angeles (PST or PDT, never a fixed offset). */
export function msUntilPacificMidnight(now = new Date()): number {
  return Math.max(1_000, nextMidnight(PACIFIC, now).getTime() - now.getTime());
}
