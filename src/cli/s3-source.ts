/** `s3://bucket` sources for commands that read a bucket directly (verify). */
import type { ObjectStore } from '../delivery/object-store.js';

export function openS3Source(_source: string): { objects: ObjectStore; bucket: string } {
  throw new Error('s3:// sources need the S3 object store (not built yet)');
}
