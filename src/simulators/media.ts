/**
 * A media host on a simulator (the YouTube one): registered audio/video files
 * at `GET /media/<id>.<ext>` and a watch page per video at `GET /watch?v=<id>`
 * whose HTML5 `<video src>` yt-dlp's generic extractor downloads from (checked
 * with Debian's yt-dlp 2023.03.04). A video can be made private (403),
 * removed (404/410) or geo-blocked (451) to exercise the unavailable states.
 * Mounted as an extension (public: no credentials, like the real site).
 * Registrations are configuration: reset() keeps them and the state file
 * does not carry the bytes (startSimulators registers the sample at start).
 */
import type { SimExtension, SimReply, SimRequest } from './server';

export type MediaState = 'public' | 'private' | 'removed' | 'gone' | 'geo_blocked';

const STATE_STATUS: Record<Exclude<MediaState, 'public'>, number> = { private: 403, removed: 404, gone: 410, geo_blocked: 451 };

const CONTENT_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
  m4a: 'audio/mp4',
  webm: 'video/webm',
  wav: 'audio/wav',
  // Covers (YouTube's thumbnails.set reads them from a host like this).
  jpg: 'image/jpeg',
  png: 'image/png',
};

export interface MediaEntry {
  id: string;
  bytes: Buffer;
  /** File extension, e.g. mp3 or mp4. */
  ext: string;
  title: string;
  state: MediaState;
}

export interface MediaStats {
  /** Watch pages served (yt-dlp's first request). */
  pages: number;
  /** Media files served, whole or ranged. */
  downloads: number;
}

const WATCH_PATH = /^\/watch$/;
const MEDIA_PATH = /^\/media\/([A-Za-z0-9_-]+)\.([a-z0-9]+)$/;

export class MediaHost implements SimExtension {
  readonly name = 'media';
  private readonly entries = new Map<string, MediaEntry>();
  private counters: MediaStats = { pages: 0, downloads: 0 };

  /** `baseUrl`: how clients reach the simulator this is mounted on. */
  constructor(private readonly baseUrl: () => string) {}

  routes() {
    return [
      { method: 'GET', pattern: WATCH_PATH, handler: (req: SimRequest) => this.watchPage(req) },
      { method: 'GET', pattern: MEDIA_PATH, handler: (req: SimRequest) => this.file(req) },
    ];
  }

  controlRoutes() {
    return [];
  }

  isPublic(req: SimRequest): boolean {
    return req.method === 'GET' && (WATCH_PATH.test(req.url.pathname) || MEDIA_PATH.test(req.url.pathname));
  }

  /** Counters only: the registered files are configuration. */
  reset(): void {
    this.counters = { pages: 0, downloads: 0 };
  }

  toJSON(): unknown {
    return {};
  }

  load(): void {}

  /** Registers (or replaces) a file; registrations are configuration and survive reset(). */
  add(id: string, bytes: Buffer, opts: { ext?: string; title?: string; state?: MediaState } = {}): MediaEntry {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new Error(`media id "${id}" must match ^[A-Za-z0-9_-]{1,64}$`);
    const entry: MediaEntry = { id, bytes, ext: opts.ext ?? 'mp3', title: opts.title ?? id, state: opts.state ?? 'public' };
    this.entries.set(id, entry);
    return entry;
  }

  setState(id: string, state: MediaState): void {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`no media "${id}" registered`);
    entry.state = state;
  }

  watchUrl(id: string): string {
    return `${this.baseUrl()}/watch?v=${encodeURIComponent(id)}`;
  }

  mediaUrl(id: string): string {
    const entry = this.entries.get(id);
    return `${this.baseUrl()}/media/${encodeURIComponent(id)}.${entry?.ext ?? 'mp3'}`;
  }

  stats(): MediaStats {
    return { ...this.counters };
  }

  private watchPage(req: SimRequest): SimReply {
    this.counters.pages += 1;
    const entry = this.entries.get(req.url.searchParams.get('v') ?? '');
    if (!entry) return html(404, 'Video unavailable');
    if (entry.state !== 'public') return html(STATE_STATUS[entry.state], `Video ${entry.state}`);
    const type = CONTENT_TYPES[entry.ext] ?? 'application/octet-stream';
    const tag = type.startsWith('audio/') ? 'audio' : 'video';
    return html(
      200,
      `<h1>${escapeHtml(entry.title)}</h1>\n<${tag} controls><source src="/media/${entry.id}.${entry.ext}" type="${type}"></${tag}>`,
      entry.title,
    );
  }

  private file(req: SimRequest): SimReply {
    const [id, ext] = req.params;
    const entry = this.entries.get(id ?? '');
    if (!entry || entry.ext !== ext) return { status: 404, body: 'not found' };
    if (entry.state !== 'public') return { status: STATE_STATUS[entry.state], body: entry.state };
    this.counters.downloads += 1;
    const type = CONTENT_TYPES[entry.ext] ?? 'application/octet-stream';
    // yt-dlp resumes and probes with Range requests; answer them as a CDN would.
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.header('range') ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), entry.bytes.length - 1) : entry.bytes.length - 1;
      if (start >= entry.bytes.length) return { status: 416, headers: { 'Content-Range': `bytes */${entry.bytes.length}` } };
      return {
        status: 206,
        headers: { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Range': `bytes ${start}-${end}/${entry.bytes.length}` },
        body: entry.bytes.subarray(start, end + 1),
      };
    }
    return { status: 200, headers: { 'Content-Type': type, 'Accept-Ranges': 'bytes' }, body: entry.bytes };
  }
}

function html(status: number, body: string, title = 'Video'): SimReply {
  return {
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
    body: `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>\n${body}\n</body></html>\n`,
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
