/**
 * Keep what we paid for: the archive activity streams a finished video (VEO3's clip, or a reel's final cut) into
 * our storage and records its video_assets row before anything is published. It runs on the assembly task queue
 * (our own workers, beside the media directory; no vendor slot to wait for: the download is from KIE's CDN, not
 * its API) with its own retry policy, so a failed download is retried from the source and never renders again.
 *
 * Pay once, for a download:
 * - idempotent: a row whose object is in storage is the answer, no download;
 * - resumed: the staged bytes (REELFLOW_ARCHIVE_DIR/.partial/) are continued by range after a crash;
 * - a corrupt or empty file fails the attempt (transient) and is downloaded again from the source.
 */
import { Context } from '@temporalio/activity';
import { createVideoStore, archiveKey, stagingDir, type StorageKind, type VideoStore } from '../archive/store';
import { ARCHIVE_PROVIDER, discardStaged, stageDownload, verifyStaged } from '../archive/download';
import { ProviderError } from '../providers/errors';
import type { ActivityDeps } from './deps';
import { classifyFailure } from './failures';
import { startHeartbeats } from './heartbeats';
import path from 'node:path';

export interface ArchiveVideoInput {
  recommendationId: string;
  /** KIE's result URL (a clip), or the assembled reel on our media server. */
  videoUrl: string;
  /** The KIE task(s) paid for it. */
  kieTaskIds: string[];
  /** What the file must be, when known (a reel's cut: its result.json figures). */
  expect?: { sha256?: string; bytes?: number };
}

export interface ArchivedVideo {
  assetId: string;
  storage: StorageKind;
  storageKey: string;
  sha256: string;
  bytes: number;
  durationSeconds: number;
  /** How this call got it: already stored, or downloaded (resumed from a byte > 0 after a crash). */
  outcome: 'already_archived' | 'downloaded';
  resumedFrom: number;
}

interface AssetRow {
  id: string;
  storage: StorageKind;
  storage_key: string;
  sha256: string;
  bytes: string;
  duration_seconds: number;
}

export function createArchiveActivities(deps: ActivityDeps, store: VideoStore = createVideoStore(deps.env)) {
  const { pool } = deps.database;
  const ffmpeg = { ffmpeg: deps.env.FFMPEG_PATH, ffprobe: deps.env.FFPROBE_PATH };
  const asArchived = (row: AssetRow, outcome: ArchivedVideo['outcome'], resumedFrom: number): ArchivedVideo => ({
    assetId: row.id,
    storage: row.storage,
    storageKey: row.storage_key,
    sha256: row.sha256,
    bytes: Number(row.bytes),
    durationSeconds: row.duration_seconds,
    outcome,
    resumedFrom,
  });

  async function archive(input: ArchiveVideoInput): Promise<ArchivedVideo> {
    const activity = Context.current();
    const log = deps.log.child({ recommendationId: input.recommendationId, attempt: activity.info.attempt });
    const { rows: existing } = await pool.query<AssetRow>('SELECT * FROM video_assets WHERE recommendation_id = $1', [
      input.recommendationId,
    ]);
    const known = existing[0];
    if (known && known.storage === store.kind && (await store.size(known.storage_key)) === Number(known.bytes)) {
      return asArchived(known, 'already_archived', 0);
    }
    const key = archiveKey(input.recommendationId);
    const file = path.join(stagingDir(deps.env), `${input.recommendationId}.mp4`);
    let progress = { bytes: 0 };
    const heartbeats = startHeartbeats(1_000, () => progress);
    try {
      const staged = await stageDownload(input.videoUrl, file, {
        allowPrivateHosts: deps.env.MEDIA_ALLOW_PRIVATE_HOSTS,
        maxBytes: deps.env.MEDIA_MAX_DOWNLOAD_BYTES,
        signal: activity.cancellationSignal,
        onProgress: (bytes) => (progress = { bytes }),
      });
      if (staged.resumedFrom > 0) log.info({ resumedFrom: staged.resumedFrom, bytes: staged.bytes }, 'archive download resumed by range');
      const verified = await verifyStaged(file, staged, input.expect ?? {}, ffmpeg, activity.cancellationSignal).catch(async (err) => {
        await discardStaged(file);
        throw err;
      });
      await store.put(key, file, { contentType: staged.contentType, sha256: verified.sha256 });
      const stored = await store.size(key);
      if (stored !== verified.bytes) {
        throw new ProviderError(
          ARCHIVE_PROVIDER,
          'transient',
          `storage holds ${stored ?? 'no'} bytes of ${key}, ${verified.bytes} were put`,
        );
      }
      const { rows } = await pool.query<AssetRow>(
        `INSERT INTO video_assets (recommendation_id, storage, storage_key, sha256, bytes, content_type, duration_seconds,
                                   kie_task_ids, source_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (recommendation_id) DO UPDATE SET storage = excluded.storage, storage_key = excluded.storage_key,
           sha256 = excluded.sha256, bytes = excluded.bytes, content_type = excluded.content_type,
           duration_seconds = excluded.duration_seconds, kie_task_ids = excluded.kie_task_ids, source_url = excluded.source_url
         RETURNING *`,
        [
          input.recommendationId,
          store.kind,
          key,
          verified.sha256,
          verified.bytes,
          staged.contentType,
          verified.durationSeconds,
          input.kieTaskIds,
          input.videoUrl,
        ],
      );
      await discardStaged(file);
      log.info({ key, bytes: verified.bytes, storage: store.kind }, 'video archived');
      return asArchived(rows[0]!, 'downloaded', staged.resumedFrom);
    } finally {
      heartbeats.stop();
    }
  }

  return {
    async archiveVideo(input: ArchiveVideoInput): Promise<ArchivedVideo> {
      try {
        return await archive(input);
      } catch (err) {
        const { failure } = classifyFailure(err);
        deps.log.warn({ recommendationId: input.recommendationId, err: failure.message }, 'archive attempt failed');
        throw failure;
      }
    },
  };
}
