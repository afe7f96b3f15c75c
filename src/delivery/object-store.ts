/**
 * The object-store port: where trace files and digests go. Two real implementations: `fs`
 * (buckets are folders, the embedded default) and `s3` (any S3-compatible store: OBS, MinIO,
 * Ceph RGW, AWS S3). Errors that callers act on are typed, so tracker status can follow what
 * the store actually answered (spec §1.3: noBucket, bucketPolicyError).
 */
import type { BucketAdmin } from './buckets.js';

/** User metadata of an object (S3 `x-amz-meta-*`, OBS `x-obs-meta-*`): lower-case keys. */
export type ObjectMetadata = Readonly<Record<string, string>>;

export interface PutObjectInput {
  readonly bucket: string;
  readonly key: string;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly contentEncoding?: string;
  readonly metadata?: ObjectMetadata;
}

export interface StoredObject {
  readonly key: string;
  readonly body: Uint8Array;
  readonly metadata: ObjectMetadata;
}

export interface ObjectSummary {
  readonly key: string;
  readonly size: number;
  readonly lastModified: number;
}

/** The bucket does not exist (tracker detail `noBucket`). */
export class NoSuchBucketError extends Error {
  override name = 'NoSuchBucketError';
}

/** The store refused access (tracker detail `bucketPolicyError`). */
export class AccessDeniedError extends Error {
  override name = 'AccessDeniedError';
}

/** The store gave no usable answer (readiness, `opencts doctor`). */
export class ObjectStoreUnreachableError extends Error {
  override name = 'ObjectStoreUnreachableError';
}

export class NoSuchKeyError extends Error {
  override name = 'NoSuchKeyError';
}

export interface ObjectStore extends BucketAdmin {
  readonly kind: 'fs' | 's3';
  /** Writes the whole object, replacing any object with the same key (retries rewrite, never add). */
  putObject(input: PutObjectInput): Promise<void>;
  getObject(bucket: string, key: string): Promise<StoredObject>;
  /** Every object whose key starts with `prefix`, in key order. */
  listObjects(bucket: string, prefix: string): Promise<ObjectSummary[]>;
  deleteObject(bucket: string, key: string): Promise<void>;
  /** Deletes objects older than the bucket's lifecycle rule, where the store does not do it itself. */
  applyLifecycle(bucket: string, now: number): Promise<number>;
  /**
   * Resolves when the store answers at all (readiness): the fs root is a writable folder, an S3
   * endpoint gives any HTTP answer below 500. Throws ObjectStoreUnreachableError otherwise, or when
   * no answer came within `timeoutMs`. Says nothing about one bucket or the credentials.
   */
  probe(timeoutMs: number): Promise<void>;
  /** Releases connections (keep-alive sockets would hold the process open). */
  close?(): void;
}
