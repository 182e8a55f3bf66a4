/**
 * One publishing activity for Instagram, TikTok and YouTube: registered on each
 * platform's task queue, it runs createUpload -> status -> publish with the
 * upload handle recorded before polling, and never publishes a handle twice.
 */
import type { PublishPlatform } from '../config/providers';
import { ProviderError } from '../providers/errors';
import type { ActivityDeps } from './deps';
import { runProviderJob } from './provider-job';

export interface PublishInput {
  jobId: string;
  platform: PublishPlatform;
  videoUrl: string;
  title: string;
  caption: string;
}

export interface PublishedPost {
  platform: PublishPlatform;
  postId: string;
  url?: string;
}

export function createPublishActivities(deps: ActivityDeps) {
  return {
    async publishVideo(input: PublishInput): Promise<PublishedPost> {
      return runProviderJob(deps, input.jobId, input.platform, async (ctx) => {
        const publisher = deps.providers[input.platform];
        const handle = await ctx.submitOnce(
          async () => (await publisher.createUpload({ videoUrl: input.videoUrl, caption: input.caption, title: input.title })).handle,
        );
        // Checking status first also covers a retry after a publish call whose answer was lost.
        const status = await ctx.poll(
          () => publisher.getStatus(handle),
          (s) => s.state !== 'processing',
        );
        switch (status.state) {
          case 'published':
            return { value: { platform: input.platform, postId: status.postId, url: status.url } };
          case 'ready': {
            const post = await publisher.publish(handle);
            return { value: { platform: input.platform, postId: post.postId, url: post.url } };
          }
          case 'expired':
            await ctx.discardProviderTask();
            throw new ProviderError(input.platform, 'transient', `upload ${handle} expired before publishing; a new one will be created`);
          case 'failed':
            throw new ProviderError(input.platform, 'permanent', `upload ${handle} failed: ${status.message}`, { code: status.code });
          default:
            throw new ProviderError(input.platform, 'malformed', `unexpected upload state ${(status as { state: string }).state}`);
        }
      });
    },
  };
}
