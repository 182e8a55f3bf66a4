/**
 * Competitor discovery on the YouTube simulator's host: simulated channels with
 * uploads, served as the public channel feed (Atom, newest 15), the channel page
 * of a handle, and the Data API's channels / playlistItems / videos lists with
 * Google's error envelope and a unit quota. The feed fails now and then as the
 * real one does (404/500 for a valid channel), on demand. Videos link to the
 * simulator's watch pages, `http://<sim>/watch?v=<id>`. Views grow with time at
 * each video's own rate, so re-reads see a velocity.
 *
 * Control routes (also the demo's and tests' way to make uploads appear during a run):
 *   POST /__sim/youtube/channels                {handle?, title?, id?, videos?, viewsPerHour?}
 *   GET  /__sim/youtube/channels
 *   POST /__sim/youtube/channels/<UC id>/uploads {id?, title?, views?, viewsPerHour?, publishedAt?, durationSeconds?,
 *     liveBroadcastContent?}
 *   POST /__sim/youtube/discovery-faults        {feedNotFoundNext?, feedErrorNext?, feedErrorRate?, quotaUnits?}
 *   GET  /__sim/youtube/discovery-stats         calls per route and Data API units used
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SimExtension, SimReply, SimRequest } from './server';

export interface SimUpload {
  id: string;
  title: string;
  /** Epoch ms. */
  publishedAt: number;
  /** Views at publication; they grow by viewsPerHour from then on. */
  baseViews: number;
  viewsPerHour: number;
  durationSeconds: number;
  /** videos.list's snippet.liveBroadcastContent: a premiere is 'upcoming' until it airs, a stream 'live' until it ends. */
  liveBroadcastContent?: LiveBroadcastContent;
}

export type LiveBroadcastContent = 'none' | 'live' | 'upcoming';

export interface SimChannel {
  id: string;
  handle: string;
  title: string;
  /** Newest first. */
  uploads: SimUpload[];
}

export interface YouTubeDiscoveryFaults {
  /** The next N feed requests answer 404 (YouTube does so for valid channels now and then). */
  feedNotFoundNext: number;
  /** The next N feed requests answer 500. */
  feedErrorNext: number;
  /** Chance (0..1) that a feed request answers 500. */
  feedErrorRate: number;
  /** Data API units left today (1 a call); null: unlimited. At 0 every call is 403 quotaExceeded. */
  quotaUnits: number | null;
}

export interface YouTubeDiscoveryStats {
  feed: number;
  channelPage: number;
  channels: number;
  playlistItems: number;
  videos: number;
  unitsUsed: number;
}

interface State {
  channels: Record<string, SimChannel>;
  faults: YouTubeDiscoveryFaults;
  stats: YouTubeDiscoveryStats;
}

/** The feed's cap (providers-2.md §1.1). */
export const FEED_ENTRIES = 15;

const addChannelBody = z
  .object({
    handle: z
      .string()
      .regex(/^@?[A-Za-z0-9._-]{3,30}$/, 'must be @name: 3 to 30 letters, digits, ".", "_" or "-"')
      .optional(),
    title: z.string().min(1).max(100).optional(),
    id: z
      .string()
      .regex(/^UC[A-Za-z0-9_-]{22}$/, 'must be a channel id: UC and 22 more of A-Z a-z 0-9 _ -')
      .optional(),
    videos: z.number().int().min(0).max(500).default(0),
    viewsPerHour: z.number().min(0).default(500),
  })
  .strict();

const uploadBody = z
  .object({
    /** A video id the media host serves (the demo's sample audio); default: a new random one. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{6,20}$/, 'must be a video id: 6 to 20 of A-Z a-z 0-9 _ -')
      .optional(),
    title: z.string().min(1).max(200).optional(),
    views: z.number().int().min(0).default(0),
    viewsPerHour: z.number().min(0).default(2_000),
    publishedAt: z.string().datetime({ offset: true }).optional(),
    durationSeconds: z.number().int().min(1).default(58),
    liveBroadcastContent: z.enum(['none', 'live', 'upcoming']).default('none'),
  })
  .strict();

const faultsBody = z
  .object({
    feedNotFoundNext: z.number().int().min(0),
    feedErrorNext: z.number().int().min(0),
    feedErrorRate: z.number().min(0).max(1),
    quotaUnits: z.number().int().min(0).nullable(),
  })
  .partial()
  .strict();

const TOPICS = ['Chollos de la jornada', 'Capitanes para esta semana', 'Lesionados y dudas', 'Once ideal', 'Fichajes que suben'];

const emptyStats = (): YouTubeDiscoveryStats => ({ feed: 0, channelPage: 0, channels: 0, playlistItems: 0, videos: 0, unitsUsed: 0 });
const defaultFaults = (): YouTubeDiscoveryFaults => ({ feedNotFoundNext: 0, feedErrorNext: 0, feedErrorRate: 0, quotaUnits: null });

export class YouTubeDiscoverySim implements SimExtension {
  readonly name = 'discovery';
  private state: State = { channels: {}, faults: defaultFaults(), stats: emptyStats() };

  /**
   * @param baseUrl how clients reach the simulator (watch links point there).
   * @param onQuotaRefusal counts a quotaExceeded answer in the host simulator's stats (quotaRefusals).
   */
  constructor(
    private readonly baseUrl: () => string,
    private readonly onQuotaRefusal: () => void = () => undefined,
  ) {}

  routes() {
    const keyed = (req: SimRequest) => req.url.searchParams.has('key');
    return [
      { method: 'GET', pattern: /^\/feeds\/videos\.xml$/, handler: (req: SimRequest) => this.feed(req) },
      { method: 'GET', pattern: /^\/(@[A-Za-z0-9._-]{3,30})$/, handler: (req: SimRequest) => this.channelPage(req) },
      { method: 'GET', pattern: /^\/youtube\/v3\/channels$/, handler: (req: SimRequest) => this.dataApi(req, () => this.channels(req)) },
      {
        method: 'GET',
        pattern: /^\/youtube\/v3\/playlistItems$/,
        handler: (req: SimRequest) => this.dataApi(req, () => this.playlistItems(req)),
      },
      // Key-authenticated reads are discovery's; OAuth reads of our own uploads stay with the upload simulator.
      {
        method: 'GET',
        pattern: /^\/youtube\/v3\/videos$/,
        handler: (req: SimRequest) => this.dataApi(req, () => this.videos(req)),
        when: keyed,
      },
    ];
  }

  controlRoutes() {
    return [
      {
        method: 'POST',
        pattern: /^\/__sim\/youtube\/channels$/,
        handler: (req: SimRequest) => created(this.addChannel(addChannelBody.parse(req.json()))),
      },
      {
        method: 'GET',
        pattern: /^\/__sim\/youtube\/channels$/,
        handler: () => ({ status: 200, body: Object.values(this.state.channels) }),
      },
      {
        method: 'POST',
        pattern: /^\/__sim\/youtube\/channels\/([^/]+)\/uploads$/,
        handler: (req: SimRequest) => created(this.publish(req.params[0]!, uploadBody.parse(req.json()))),
      },
      {
        method: 'POST',
        pattern: /^\/__sim\/youtube\/discovery-faults$/,
        handler: (req: SimRequest) => ({ status: 200, body: this.setFaults(faultsBody.parse(req.json())) }),
      },
      { method: 'GET', pattern: /^\/__sim\/youtube\/discovery-stats$/, handler: () => ({ status: 200, body: this.stats() }) },
    ];
  }

  isPublic(req: SimRequest): boolean {
    const path = req.url.pathname;
    return path === '/feeds/videos.xml' || /^\/@/.test(path) || (path.startsWith('/youtube/v3/') && req.url.searchParams.has('key'));
  }

  reset(): void {
    this.state = { channels: {}, faults: defaultFaults(), stats: emptyStats() };
  }

  toJSON(): State {
    return this.state;
  }

  load(state: unknown): void {
    const s = state as Partial<State>;
    this.state = { channels: s.channels ?? {}, faults: { ...defaultFaults(), ...s.faults }, stats: { ...emptyStats(), ...s.stats } };
  }

  /** A channel with `videos` uploads already out, the newest an hour old and one a day before that. */
  addChannel(input: Partial<z.input<typeof addChannelBody>> = {}): SimChannel {
    const opts = addChannelBody.parse(input);
    const id = opts.id ?? `UC${randomBytes(17).toString('base64url').slice(0, 22)}`;
    const handle = opts.handle ? (opts.handle.startsWith('@') ? opts.handle : `@${opts.handle}`) : `@canal${id.slice(2, 8).toLowerCase()}`;
    const channel: SimChannel = { id, handle, title: opts.title ?? `Canal ${handle.slice(1)}`, uploads: [] };
    this.state.channels[id] = channel;
    const now = Date.now();
    for (let i = opts.videos; i >= 1; i -= 1) {
      this.publish(id, { publishedAt: new Date(now - i * 3_600_000).toISOString(), viewsPerHour: opts.viewsPerHour, views: 1_000 * i });
    }
    return channel;
  }

  /** A new upload on a channel: the next feed read lists it first. */
  publish(channelId: string, input: Partial<z.input<typeof uploadBody>> = {}): SimUpload & { url: string } {
    const channel = this.state.channels[channelId];
    if (!channel) throw new Error(`no simulated channel ${channelId}`);
    const opts = uploadBody.parse(input);
    const n = channel.uploads.length + 1;
    if (opts.id && Object.values(this.state.channels).some((c) => c.uploads.some((u) => u.id === opts.id))) {
      throw new Error(`video ${opts.id} is already published`);
    }
    const upload: SimUpload = {
      id: opts.id ?? randomBytes(8).toString('base64url').slice(0, 11),
      title: opts.title ?? `${TOPICS[n % TOPICS.length]} #${n} | ${channel.title}`,
      publishedAt: opts.publishedAt ? Date.parse(opts.publishedAt) : Date.now(),
      baseViews: opts.views,
      viewsPerHour: opts.viewsPerHour,
      durationSeconds: opts.durationSeconds,
      liveBroadcastContent: opts.liveBroadcastContent,
    };
    channel.uploads.unshift(upload);
    channel.uploads.sort((a, b) => b.publishedAt - a.publishedAt);
    return { ...upload, url: this.watchUrl(upload.id) };
  }

  /** A premiere airs, a live stream ends ('none': a recording from then on). */
  setBroadcast(videoId: string, state: LiveBroadcastContent): void {
    const upload = Object.values(this.state.channels)
      .flatMap((c) => c.uploads)
      .find((u) => u.id === videoId);
    if (!upload) throw new Error(`no simulated upload ${videoId}`);
    upload.liveBroadcastContent = state;
  }

  setFaults(patch: Partial<YouTubeDiscoveryFaults>): YouTubeDiscoveryFaults {
    this.state.faults = { ...this.state.faults, ...faultsBody.parse(patch) };
    return { ...this.state.faults };
  }

  stats(): YouTubeDiscoveryStats {
    return { ...this.state.stats };
  }

  channel(id: string): SimChannel | undefined {
    return this.state.channels[id];
  }

  viewsOf(upload: SimUpload, now = Date.now()): number {
    return upload.baseViews + Math.floor((upload.viewsPerHour * Math.max(0, now - upload.publishedAt)) / 3_600_000);
  }

  private watchUrl(id: string): string {
    return `${this.baseUrl()}/watch?v=${id}`;
  }

  private feed(req: SimRequest): SimReply {
    this.state.stats.feed += 1;
    const f = this.state.faults;
    const html = (status: number, text: string): SimReply => ({
      status,
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
      body: text,
    });
    if (f.feedNotFoundNext > 0) {
      f.feedNotFoundNext -= 1;
      return html(404, '<html><body>Error 404 (Not Found)</body></html>');
    }
    if (f.feedErrorNext > 0 || (f.feedErrorRate > 0 && Math.random() < f.feedErrorRate)) {
      if (f.feedErrorNext > 0) f.feedErrorNext -= 1;
      return html(500, '<html><body>Error 500 (Server Error)</body></html>');
    }
    const q = req.url.searchParams;
    const playlist = q.get('playlist_id');
    const id = q.get('channel_id') ?? (playlist?.startsWith('UU') ? `UC${playlist.slice(2)}` : null);
    const channel = id ? this.state.channels[id] : undefined;
    if (!channel) return html(404, '<html><body>Error 404 (Not Found)</body></html>');
    return { status: 200, headers: { 'Content-Type': 'application/atom+xml; charset=UTF-8' }, body: this.feedXml(channel) };
  }

  private feedXml(channel: SimChannel): string {
    const now = Date.now();
    const base = this.baseUrl();
    const entries = channel.uploads.slice(0, FEED_ENTRIES).map((u) => {
      const published = new Date(u.publishedAt).toISOString().replace('Z', '+00:00');
      return ` <entry>
  <id>yt:video:${u.id}</id>
  <yt:videoId>${u.id}</yt:videoId>
  <yt:channelId>${channel.id}</yt:channelId>
  <title>${xml(u.title)}</title>
  <link rel="alternate" href="${this.watchUrl(u.id)}"/>
  <author>
   <name>${xml(channel.title)}</name>
   <uri>${base}/channel/${channel.id}</uri>
  </author>
  <published>${published}</published>
  <updated>${published}</updated>
  <media:group>
   <media:title>${xml(u.title)}</media:title>
   <media:content url="${base}/v/${u.id}?version=3" type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="${base}/vi/${u.id}/hqdefault.jpg" width="480" height="360"/>
   <media:description>${xml(`${u.title} — análisis para La Liga Fantasy`)}</media:description>
   <media:community>
    <media:starRating count="${Math.floor(this.viewsOf(u, now) / 40)}" average="5.00" min="1" max="5"/>
    <media:statistics views="${this.viewsOf(u, now)}"/>
   </media:community>
  </media:group>
 </entry>`;
    });
    return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="${base}/feeds/videos.xml?channel_id=${channel.id}"/>
 <id>yt:channel:${channel.id}</id>
 <yt:channelId>${channel.id}</yt:channelId>
 <title>${xml(channel.title)}</title>
 <link rel="alternate" href="${base}/channel/${channel.id}"/>
 <author>
  <name>${xml(channel.title)}</name>
  <uri>${base}/channel/${channel.id}</uri>
 </author>
 <published>2020-01-01T00:00:00+00:00</published>
${entries.join('\n')}
</feed>
`;
  }

  private channelPage(req: SimRequest): SimReply {
    this.state.stats.channelPage += 1;
    const handle = req.params[0]!.toLowerCase();
    const channel = Object.values(this.state.channels).find((c) => c.handle.toLowerCase() === handle);
    if (!channel) return { status: 404, headers: { 'Content-Type': 'text/html' }, body: '<html><body>404 Not Found</body></html>' };
    const page = `<!DOCTYPE html><html><head><title>${xml(channel.title)} - YouTube</title>
<link rel="canonical" href="${this.baseUrl()}/channel/${channel.id}"></head><body></body></html>`;
    return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: page };
  }

  /** One unit a call, refused with quotaExceeded once the day's units are spent. */
  private dataApi(req: SimRequest, answer: () => SimReply): SimReply {
    if (!req.url.searchParams.get('key')) {
      return googleError(403, 'forbidden', 'global', 'The request is missing a valid API key.');
    }
    const quota = this.state.faults.quotaUnits;
    if (quota !== null && this.state.stats.unitsUsed >= quota) {
      this.onQuotaRefusal();
      return googleError(
        403,
        'quotaExceeded',
        'youtube.quota',
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
      );
    }
    this.state.stats.unitsUsed += 1;
    return answer();
  }

  private channels(req: SimRequest): SimReply {
    this.state.stats.channels += 1;
    const q = req.url.searchParams;
    if (!q.get('part')) return googleError(400, 'required', 'global', 'Required parameter: part');
    const handle = q.get('forHandle');
    const ids = q.get('id')?.split(',');
    if (!handle && !ids) return googleError(400, 'missingRequiredParameter', 'youtube.parameter', 'No filter selected.');
    const wanted = handle ? (handle.startsWith('@') ? handle : `@${handle}`).toLowerCase() : null;
    const found = Object.values(this.state.channels).filter((c) => (wanted ? c.handle.toLowerCase() === wanted : ids!.includes(c.id)));
    const items = found.map((c) => ({
      kind: 'youtube#channel',
      id: c.id,
      snippet: { title: c.title, customUrl: c.handle.toLowerCase() },
      contentDetails: { relatedPlaylists: { likes: '', uploads: `UU${c.id.slice(2)}` } },
    }));
    // An unknown handle is a 200 without items (the docs say "zero or more"; the field is then absent).
    return {
      status: 200,
      body: {
        kind: 'youtube#channelListResponse',
        pageInfo: { totalResults: items.length, resultsPerPage: 5 },
        ...(items.length ? { items } : {}),
      },
    };
  }

  private playlistItems(req: SimRequest): SimReply {
    this.state.stats.playlistItems += 1;
    const q = req.url.searchParams;
    const playlist = q.get('playlistId') ?? '';
    const channel = playlist.startsWith('UU') ? this.state.channels[`UC${playlist.slice(2)}`] : undefined;
    if (!channel) {
      return googleError(
        404,
        'playlistNotFound',
        'youtube.playlistItem',
        "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.",
      );
    }
    const max = Math.min(50, Math.max(0, Number(q.get('maxResults') ?? 5)));
    const items = channel.uploads.slice(0, max).map((u, position) => ({
      kind: 'youtube#playlistItem',
      snippet: {
        publishedAt: new Date(u.publishedAt).toISOString(),
        channelId: channel.id,
        title: u.title,
        position,
        resourceId: { kind: 'youtube#video', videoId: u.id },
      },
      contentDetails: { videoId: u.id, videoPublishedAt: new Date(u.publishedAt).toISOString() },
    }));
    return {
      status: 200,
      body: {
        kind: 'youtube#playlistItemListResponse',
        items,
        ...(channel.uploads.length > max ? { nextPageToken: 'CAUQAA' } : {}),
        pageInfo: { totalResults: channel.uploads.length, resultsPerPage: max },
      },
    };
  }

  private videos(req: SimRequest): SimReply {
    this.state.stats.videos += 1;
    const q = req.url.searchParams;
    const ids = (q.get('id') ?? '').split(',').filter(Boolean);
    if (ids.length === 0) return googleError(400, 'missingRequiredParameter', 'youtube.parameter', 'No filter selected.');
    if (ids.length > 50) return googleError(400, 'invalidParameter', 'youtube.parameter', 'Too many ids (at most 50).');
    const byId = new Map<string, { channel: SimChannel; upload: SimUpload }>();
    for (const channel of Object.values(this.state.channels))
      for (const upload of channel.uploads) byId.set(upload.id, { channel, upload });
    const now = Date.now();
    // Unknown, private or deleted ids are simply missing from items.
    const items = ids.flatMap((id) => {
      const hit = byId.get(id);
      if (!hit) return [];
      const { channel, upload } = hit;
      return [
        {
          kind: 'youtube#video',
          id,
          snippet: {
            publishedAt: new Date(upload.publishedAt).toISOString(),
            channelId: channel.id,
            channelTitle: channel.title,
            title: upload.title,
            liveBroadcastContent: upload.liveBroadcastContent ?? 'none',
          },
          statistics: { viewCount: String(this.viewsOf(upload, now)), likeCount: String(Math.floor(this.viewsOf(upload, now) / 20)) },
          contentDetails: { duration: isoDuration(upload.durationSeconds) },
        },
      ];
    });
    return {
      status: 200,
      body: { kind: 'youtube#videoListResponse', items, pageInfo: { totalResults: items.length, resultsPerPage: items.length } },
    };
  }
}

/** PT59S, PT1M5S: how the Data API writes a duration. */
function isoDuration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return `PT${minutes ? `${minutes}M` : ''}${seconds % 60}S`;
}

function created(body: unknown): SimReply {
  return { status: 201, body };
}

function googleError(status: number, reason: string, domain: string, message: string): SimReply {
  return { status, body: { error: { code: status, message, errors: [{ message, domain, reason }] } } };
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
