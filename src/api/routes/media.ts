/**
 * Finished reels (REELFLOW_MEDIA_DIR), unauthenticated: Instagram and TikTok
 * download the video from its URL and send no credentials. Only a reel's
 * final.mp4 and cover.jpg under a recommendation id are served (src/media/store.ts), and archived videos to
 * signed URLs.
 */
import type { FastifyInstance } from 'fastify';
import { mediaReply, type ArchiveServing } from '../../media/store';

export function registerMediaRoutes(app: FastifyInstance, mediaDir: string | undefined, archive?: ArchiveServing): void {
  // Our archived copies (REELFLOW_STORAGE=fs): signed, expiring URLs only.
  app.get<{ Params: { file: string } }>('/media/archive/videos/:file', async (req, reply) => {
    if (!archive) return reply.code(404).type('text/plain').send('not found');
    const query = new URL(req.url, 'http://localhost').searchParams;
    const answer = await mediaReply(mediaDir ?? '', `archive/videos/${req.params.file}`, req.headers.range, archive, query);
    void reply.code(answer.status).headers(answer.headers);
    return reply.send(answer.body ?? '');
  });
  app.get<{ Params: { id: string; file: string } }>('/media/:id/:file', async (req, reply) => {
    if (!mediaDir) return reply.code(404).type('text/plain').send('not found');
    const answer = await mediaReply(mediaDir, `${req.params.id}/${req.params.file}`, req.headers.range);
    void reply.code(answer.status).headers(answer.headers);
    return reply.send(answer.body ?? '');
  });
}
