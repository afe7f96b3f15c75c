/** The one place that turns the `objectStore` setting into an ObjectStore (runtime, `opencts doctor`). */
import path from 'node:path';
import type { Config } from '../config.js';
import { FsObjectStore } from './fs/fs-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3/s3-object-store.js';
import { isS3, s3Options } from './s3/s3-settings.js';

/** Buckets of the fs object store are folders here, under the data dir. */
export const BUCKETS_DIR = 'buckets';

export type ObjectStoreSettings = Pick<
  Config,
  | 'objectStore'
  | 'dataDir'
  | 'region'
  | 's3Endpoint'
  | 's3Region'
  | 's3ForcePathStyle'
  | 's3AccessKeyId'
  | 's3SecretAccessKey'
>;

/** Throws ObjectStoreSettingsError when S3 lacks credentials. */
export function openObjectStore(settings: ObjectStoreSettings): ObjectStore {
  return isS3(settings.objectStore)
    ? new S3ObjectStore(s3Options(settings, settings.region))
    : new FsObjectStore(path.join(settings.dataDir, BUCKETS_DIR));
}

/** Where trace files go, for messages (never credentials). */
export function describeObjectStore(settings: ObjectStoreSettings): string {
  if (!isS3(settings.objectStore)) return `fs ${path.join(settings.dataDir, BUCKETS_DIR)}`;
  const host = settings.objectStore.slice('s3://'.length).split('?')[0];
  return `S3 ${settings.s3Endpoint ?? (host ? host : 'default AWS endpoint')}`;
}
