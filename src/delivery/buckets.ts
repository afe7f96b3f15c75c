/**
 * The bucket side of the object-store port: what tracker configuration needs to ask of the
 * store that will receive trace files (spec §1.2 is_obs_created / bucket_lifecycle).
 */
export class BucketExistsError extends Error {
  override name = 'BucketExistsError';
}

export interface BucketAdmin {
  bucketExists(name: string): Promise<boolean>;
  /** Creates the bucket; BucketExistsError when it is already there. */
  createBucket(name: string): Promise<void>;
  /** Keep objects for `days` days (0 = forever). */
  setLifecycle(name: string, days: number): Promise<void>;
}
