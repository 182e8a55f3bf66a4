/**
 * The contract of a competitor-discovery client (YouTube channel feed or Data
 * API, Instagram Business Discovery): find a channel, list its newest videos,
 * re-read their views. Plain HTTP, nothing of Temporal; the activities in
 * src/activities/discovery.ts run these calls as gated jobs.
 */

export interface DiscoveredChannel {
  /** YouTube channel id (UC…) or Instagram username: what the feed or Graph call needs. */
  externalId: string;
  displayName: string;
}

export interface DiscoveredVideo {
  /** The platform's video / media id. */
  externalId: string;
  /** The page a person (and yt-dlp) opens: a watch page or an Instagram permalink. */
  url: string;
  title: string;
  /** ISO-8601, or null when the platform did not say. */
  publishedAt: string | null;
  /** Null where the platform gives no view count (Instagram, a feed entry without statistics). */
  views: number | null;
  durationSeconds: number | null;
  /** A direct media file when the platform gives one (Instagram's media_url is often missing). */
  mediaUrl: string | null;
}

export interface ChannelDiscovery {
  readonly platform: 'youtube' | 'instagram';
  /**
   * What the operator typed (a handle, an id, a URL) as a channel. Throws a
   * 'permanent' ProviderError naming the input when the platform knows no such channel.
   */
  resolve(input: string): Promise<DiscoveredChannel>;
  /** The newest videos of a channel, newest first (about 15 for a YouTube feed, one page of 25 on Instagram). */
  latest(channel: DiscoveredChannel): Promise<DiscoveredVideo[]>;
  /** Current views by video id; ids the platform no longer lists (or gives no views for) are missing from the map. */
  views(channel: DiscoveredChannel, videoIds: readonly string[]): Promise<Map<string, number>>;
}
