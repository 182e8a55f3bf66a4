/**
 * Our storage for paid videos: a directory (REELFLOW_STORAGE=fs, the default, under .data/) or any S3-compatible
 * bucket (REELFLOW_STORAGE=s3: AWS, MinIO, R2, s3rver in the tests). One interface for the archive activity, the
 * publishers (a signed URL to pull from, or the bytes) and `reelflow republish`. No Temporal here.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Env } from '../config/env';
import { signArchiveUrl } from './signing';

export type StorageKind = 'fs' | 's3';

export interface VideoStore {
  readonly kind: StorageKind;
  /** Stores a local file under `key` (replacing what is there: a retried put writes the same bytes). */
  put(key: string, file: string, opts: { contentType: string; sha256: string }): Promise<void>;
  /** The stored object's size, or null when there is none. */
  size(key: string): Promise<number | null>;
  /** The stored bytes. */
  read(key: string): Promise<Readable>;
  /** A URL anyone holding it may GET until it expires (platforms pull from it). */
  signedUrl(key: string, expiresInSeconds: number): Promise<string>;
}

/** The archive key of a recommendation's video: one per recommendation, so a retried archive writes the same object. */
export function archiveKey(recommendationId: string): string {
  return `videos/${recommendationId}.mp4`;
}

export type StoreConfig = Pick<
  Env,
  | 'REELFLOW_STORAGE'
  | 'REELFLOW_ARCHIVE_DIR'
  | 'REELFLOW_MEDIA_BASE_URL'
  | 'REELFLOW_MEDIA_SIGNING_KEY'
  | 'REELFLOW_S3_ENDPOINT'
  | 'REELFLOW_S3_BUCKET'
  | 'REELFLOW_S3_REGION'
  | 'REELFLOW_S3_ACCESS_KEY_ID'
  | 'REELFLOW_S3_SECRET_ACCESS_KEY'
  | 'REELFLOW_S3_FORCE_PATH_STYLE'
>;

export function createVideoStore(env: StoreConfig): VideoStore {
  return env.REELFLOW_STORAGE === 's3' ? s3Store(env) : fsStore(env);
}

/** Where the archive activity keeps a download in progress (resumed by range after a crash). */
export function stagingDir(env: Pick<Env, 'REELFLOW_ARCHIVE_DIR'>): string {
  return path.join(env.REELFLOW_ARCHIVE_DIR, '.partial');
}

function fsStore(env: StoreConfig): VideoStore {
  const root = path.resolve(env.REELFLOW_ARCHIVE_DIR);
  const fileOf = (key: string) => {
    const file = path.resolve(root, key);
    if (!file.startsWith(root + path.sep)) throw new Error(`archive key ${key} leaves the archive directory`);
    return file;
  };
  return {
    kind: 'fs',
    async put(key, source) {
      const dest = fileOf(key);
      await fs.mkdir(path.dirname(dest), { recursive: true });
      // Copy then rename: the object is whole or absent, and the staged file stays for a retry until the row exists.
      const tmp = `${dest}.${process.pid}.tmp`;
      await fs.copyFile(source, tmp);
      await fs.rename(tmp, dest);
    },
    async size(key) {
      try {
        return (await fs.stat(fileOf(key))).size;
      } catch {
        return null;
      }
    },
    async read(key) {
      return createReadStream(fileOf(key));
    },
    async signedUrl(key, expiresInSeconds) {
      return signArchiveUrl(
        env.REELFLOW_MEDIA_BASE_URL,
        key,
        env.REELFLOW_MEDIA_SIGNING_KEY,
        new Date(Date.now() + expiresInSeconds * 1000),
      );
    },
  };
}

function s3Store(env: StoreConfig): VideoStore {
  const bucket = env.REELFLOW_S3_BUCKET!;
  const client = new S3Client({
    region: env.REELFLOW_S3_REGION,
    forcePathStyle: env.REELFLOW_S3_FORCE_PATH_STYLE,
    // The SDK's default since 2025 sends bodies aws-chunked with a trailing CRC: stores that predate it (s3rver, older
    // MinIO and Ceph) keep the chunk framing as the object's bytes. A checksum only where S3 requires one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(env.REELFLOW_S3_ENDPOINT ? { endpoint: env.REELFLOW_S3_ENDPOINT } : {}),
    // Without keys, the SDK's own chain (instance role, AWS_* variables, profile).
    ...(env.REELFLOW_S3_ACCESS_KEY_ID && env.REELFLOW_S3_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.REELFLOW_S3_ACCESS_KEY_ID, secretAccessKey: env.REELFLOW_S3_SECRET_ACCESS_KEY } }
      : {}),
  });
  return {
    kind: 's3',
    async put(key, file, opts) {
      const { size } = await fs.stat(file);
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: createReadStream(file),
          ContentLength: size,
          ContentType: opts.contentType,
          Metadata: { sha256: opts.sha256 },
        }),
      );
    },
    async size(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return head.ContentLength ?? null;
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404) return null;
        throw err;
      }
    },
    async read(key) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return out.Body as Readable;
    },
    async signedUrl(key, expiresInSeconds) {
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
    },
  };
}
