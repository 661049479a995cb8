/**
 * Browser uploads straight to S3 with presigned PUT URLs: the service never streams the bytes.
 * The signature covers the content type and length, so the client cannot swap either; the key is
 * chosen by the server under a prefix the client cannot escape.
 */
import { randomUUID } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { loadConfig } from '../kit/config';
import { traceAwsClient } from '../kit/store-tracing';
import { tracing } from '../kit/tracing';
import { s3Env } from './settings';

export { s3Env };

export const IMAGE_TYPES: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
};
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

export interface PresignedUpload {
  url: string;
  method: 'PUT';
  key: string;
  headers: Record<string, string>;
  expiresInSeconds: number;
}

export class UploadStore {
  readonly bucket: string;
  private readonly ttl: number;

  constructor(
    readonly s3: S3Client,
    opts: { bucket: string; ttlSeconds?: number },
  ) {
    this.bucket = opts.bucket;
    this.ttl = opts.ttlSeconds ?? 300;
  }

  static fromEnv(source: NodeJS.ProcessEnv = process.env): UploadStore {
    const c = loadConfig(s3Env, source);
    const s3 = new S3Client({
      region: c.S3_REGION,
      endpoint: c.S3_ENDPOINT,
      forcePathStyle: c.S3_FORCE_PATH_STYLE,
      credentials:
        c.S3_ACCESS_KEY_ID && c.S3_SECRET_ACCESS_KEY
          ? { accessKeyId: c.S3_ACCESS_KEY_ID, secretAccessKey: c.S3_SECRET_ACCESS_KEY }
          : undefined,
      maxAttempts: 2,
    });
    const tr = tracing();
    if (tr.enabled) traceAwsClient(s3 as unknown as Parameters<typeof traceAwsClient>[0], tr, 'S3');
    return new UploadStore(s3, { bucket: c.S3_BUCKET, ttlSeconds: c.UPLOAD_URL_TTL_SECONDS });
  }

  /** A URL the client PUTs the image to, with exactly these headers. */
  async presignImagePut(prefix: string, contentType: string, contentLength: number): Promise<PresignedUpload> {
    const ext = IMAGE_TYPES[contentType];
    if (!ext) throw new RangeError(`contentType must be one of ${Object.keys(IMAGE_TYPES).join(', ')}`);
    if (!Number.isInteger(contentLength) || contentLength < 1 || contentLength > MAX_IMAGE_BYTES) {
      throw new RangeError(`contentLength must be between 1 and ${MAX_IMAGE_BYTES}`);
    }
    const key = `${prefix}/${randomUUID()}.${ext}`;
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ContentType: contentType,
      ContentLength: contentLength,
    });
    const url = await getSignedUrl(this.s3, command, {
      expiresIn: this.ttl,
      // Signed, so the upload must carry the same values.
      signableHeaders: new Set(['content-type', 'content-length']),
    });
    return {
      url,
      method: 'PUT',
      key,
      headers: { 'content-type': contentType, 'content-length': String(contentLength) },
      expiresInSeconds: this.ttl,
    };
  }

  /** The uploaded object's size and type, or undefined if nothing was uploaded under `key`. */
  async describe(key: string): Promise<{ size: number; contentType?: string } | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0, contentType: out.ContentType };
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (err as Error).name === 'NotFound') return undefined;
      throw err;
    }
  }

  /** Creates the bucket if missing (local engines only; in AWS the stack owns the bucket). */
  async ensureBucket(): Promise<void> {
    const { CreateBucketCommand, HeadBucketCommand } = await import('@aws-sdk/client-s3');
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch {
      await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((err: Error) => {
        if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(err.name)) throw err;
      });
    }
  }
}
