/**
 * Business Discovery on the Instagram simulator's host (providers-2.md §2):
 * `GET /<our ig user id>?fields=business_discovery.username(<name>){…media.after(<cursor>).limit(<n>){…}}`
 * answers simulated business accounts' reels newest first, paged with cursors,
 * without media_url for reels with licensed audio (most of them, as on Instagram),
 * (#110) for an unknown or personal account and code 4 when throttled.
 *
 * Control routes:
 *   POST /__sim/instagram/accounts                   {username, name?, reels?}
 *   POST /__sim/instagram/accounts/<username>/reels  {caption?, likes?, licensedAudio?, publishedAt?}
 *   POST /__sim/instagram/discovery-faults           {throttleNext?}
 *   GET  /__sim/instagram/discovery-stats
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { SimHttpError, type SimExtension, type SimReply, type SimRequest } from './server';

export interface SimReel {
  id: string;
  caption: string;
  /** Epoch ms. */
  publishedAt: number;
  likes: number;
  comments: number;
  /** Library audio: Graph then omits media_url on another account's reel. */
  licensedAudio: boolean;
}

export interface SimAccount {
  id: string;
  username: string;
  name: string;
  followers: number;
  /** Newest first. */
  reels: SimReel[];
}

interface State {
  accounts: Record<string, SimAccount>;
  throttleNext: number;
  stats: { businessDiscovery: number };
}

const accountBody = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9._]{1,30}$/, 'must be 1 to 30 letters, digits, "." or "_"'),
    name: z.string().min(1).max(100).optional(),
    reels: z.number().int().min(0).max(500).default(0),
  })
  .strict();

const reelBody = z
  .object({
    caption: z.string().max(2200).optional(),
    likes: z.number().int().min(0).default(100),
    licensedAudio: z.boolean().default(true),
    publishedAt: z.string().datetime({ offset: true }).optional(),
  })
  .strict();

const DEFAULT_PAGE = 25;

export class InstagramDiscoverySim implements SimExtension {
  readonly name = 'discovery';
  private state: State = { accounts: {}, throttleNext: 0, stats: { businessDiscovery: 0 } };

  constructor(private readonly baseUrl: () => string) {}

  routes() {
    return [
      {
        method: 'GET',
        pattern: /^(?:\/v\d+\.\d+)?\/(\w+)$/,
        handler: (req: SimRequest) => this.businessDiscovery(req),
        when: (req: SimRequest) => (req.url.searchParams.get('fields') ?? '').startsWith('business_discovery'),
      },
    ];
  }

  controlRoutes() {
    return [
      {
        method: 'POST',
        pattern: /^\/__sim\/instagram\/accounts$/,
        handler: (req: SimRequest): SimReply => ({ status: 201, body: this.addAccount(accountBody.parse(req.json())) }),
      },
      {
        method: 'POST',
        pattern: /^\/__sim\/instagram\/accounts\/([^/]+)\/reels$/,
        handler: (req: SimRequest): SimReply => ({ status: 201, body: this.publish(req.params[0]!, reelBody.parse(req.json())) }),
      },
      {
        method: 'POST',
        pattern: /^\/__sim\/instagram\/discovery-faults$/,
        handler: (req: SimRequest): SimReply => {
          const { throttleNext } = z
            .object({ throttleNext: z.number().int().min(0) })
            .strict()
            .parse(req.json());
          this.state.throttleNext = throttleNext;
          return { status: 200, body: { throttleNext } };
        },
      },
      {
        method: 'GET',
        pattern: /^\/__sim\/instagram\/discovery-stats$/,
        handler: (): SimReply => ({ status: 200, body: this.state.stats }),
      },
    ];
  }

  /** Graph requests carry access_token; the simulator's own check already accepts them. */
  isPublic(): boolean {
    return false;
  }

  reset(): void {
    this.state = { accounts: {}, throttleNext: 0, stats: { businessDiscovery: 0 } };
  }

  toJSON(): State {
    return this.state;
  }

  load(state: unknown): void {
    const s = state as Partial<State>;
    this.state = { accounts: s.accounts ?? {}, throttleNext: s.throttleNext ?? 0, stats: { businessDiscovery: 0, ...s.stats } };
  }

  throttle(next: number): void {
    this.state.throttleNext = next;
  }

  stats(): { businessDiscovery: number } {
    return { ...this.state.stats };
  }

  /** A business account with `reels` reels already out, an hour apart, the newest an hour old. */
  addAccount(input: z.input<typeof accountBody>): SimAccount {
    const opts = accountBody.parse(input);
    const username = opts.username.toLowerCase();
    const account: SimAccount = { id: graphId(), username, name: opts.name ?? username, followers: 25_000, reels: [] };
    this.state.accounts[username] = account;
    for (let i = opts.reels; i >= 1; i -= 1) {
      // Every third reel uses original audio, so some media_url values come through.
      this.publish(username, { publishedAt: new Date(Date.now() - i * 3_600_000).toISOString(), licensedAudio: i % 3 !== 0 });
    }
    return account;
  }

  publish(username: string, input: Partial<z.input<typeof reelBody>> = {}): SimReel & { permalink: string } {
    const account = this.state.accounts[username.toLowerCase()];
    if (!account) throw new Error(`no simulated Instagram account ${username}`);
    const opts = reelBody.parse(input);
    const reel: SimReel = {
      id: graphId(),
      caption: opts.caption ?? `Chollo ${account.reels.length + 1} de la jornada 🔥\n#LaLigaFantasy #Chollos`,
      publishedAt: opts.publishedAt ? Date.parse(opts.publishedAt) : Date.now(),
      likes: opts.likes,
      comments: Math.floor(opts.likes / 10),
      licensedAudio: opts.licensedAudio,
    };
    account.reels.unshift(reel);
    account.reels.sort((a, b) => b.publishedAt - a.publishedAt);
    return { ...reel, permalink: this.permalink(reel.id) };
  }

  private permalink(id: string): string {
    return `${this.baseUrl()}/reel/${id}/`;
  }

  private businessDiscovery(req: SimRequest): SimReply {
    this.state.stats.businessDiscovery += 1;
    if (this.state.throttleNext > 0) {
      this.state.throttleNext -= 1;
      throw new SimHttpError('rate_limited', 'Application request limit reached', 400, { code: 4 });
    }
    const fields = req.url.searchParams.get('fields') ?? '';
    const username = /^business_discovery\.username\(([^)]*)\)/.exec(fields)?.[1]?.toLowerCase() ?? '';
    const account = this.state.accounts[username];
    if (!account) throw new SimHttpError('invalid', 'Invalid user id', 400, { code: 110 });
    const out: Record<string, unknown> = {
      id: account.id,
      username: account.username,
      name: account.name,
      followers_count: account.followers,
      media_count: account.reels.length,
    };
    const media = /media((?:\.(?:after|limit)\([^)]*\))*)\{/.exec(fields);
    if (media) {
      const modifiers = media[1] ?? '';
      const after = /\.after\(([^)]*)\)/.exec(modifiers)?.[1];
      const limit = Math.min(100, Number(/\.limit\((\d+)\)/.exec(modifiers)?.[1] ?? DEFAULT_PAGE));
      const start = after
        ? Number(
            Buffer.from(after, 'base64url')
              .toString('utf8')
              .replace(/^offset:/, ''),
          ) || 0
        : 0;
      const page = account.reels.slice(start, start + limit);
      const cursor = (n: number) => Buffer.from(`offset:${n}`).toString('base64url');
      out.media = {
        data: page.map((r) => ({
          id: r.id,
          caption: r.caption,
          media_type: 'VIDEO',
          media_product_type: 'REELS',
          ...(r.licensedAudio ? {} : { media_url: `${this.baseUrl()}/videos/${r.id}.mp4` }),
          permalink: this.permalink(r.id),
          timestamp: new Date(r.publishedAt).toISOString().replace(/\.\d{3}Z$/, '+0000'),
          like_count: r.likes,
          comments_count: r.comments,
        })),
        paging: {
          cursors: { before: cursor(start), after: cursor(start + page.length) },
          ...(start + page.length < account.reels.length ? { next: `${this.baseUrl()}/v25.0/next-page` } : {}),
        },
      };
    }
    return { status: 200, body: { business_discovery: out, id: req.params[0] } };
  }
}

function graphId(): string {
  return `1789${randomInt(10 ** 9, 10 ** 10 - 1)}${randomInt(100, 999)}`;
}
