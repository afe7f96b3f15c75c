/** `s3://bucket` sources for commands that read a bucket directly (verify), with the service's S3 settings. */
import { resolveConfig } from '../config.js';
import type { ObjectStore } from '../delivery/object-store.js';
import { S3ObjectStore } from '../delivery/s3/s3-object-store.js';
import { s3Options } from '../delivery/s3/s3-settings.js';

export function openS3Source(source: string, endpoint?: string): { objects: ObjectStore; bucket: string } {
  const bucket = source.slice('s3://'.length).replace(/\/+$/, '');
  if (!bucket || bucket.includes('/')) throw new Error(`expected s3://bucket, got ${source}`);
  const config = resolveConfig({ flags: endpoint ? { s3Endpoint: endpoint } : {} });
  return {
    objects: new S3ObjectStore(s3Options({ ...config, objectStore: 's3://' }, config.region)),
    bucket,
  };
}
