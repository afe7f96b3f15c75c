/** Does the object store answer, and does every tracker's bucket exist in it. */
import type { Tracker } from '../core/tracker/tracker.js';
import { AccessDeniedError, type ObjectStore } from '../delivery/object-store.js';
import { describeObjectStore, openObjectStore, type ObjectStoreSettings } from '../delivery/open-object-store.js';
import { errorMessage, fail, notChecked, ok, type CheckResult } from './check.js';

const PROBE_TIMEOUT_MS = 5000;

export interface ObjectStoreFindings {
  readonly result: CheckResult;
  /** Open and answering: the buckets can be checked. */
  readonly objects?: ObjectStore;
}

export async function checkObjectStore(settings: ObjectStoreSettings): Promise<ObjectStoreFindings> {
  const where = describeObjectStore(settings);
  let objects: ObjectStore;
  try {
    objects = openObjectStore(settings);
  } catch (err) {
    return {
      result: fail(
        'object-store',
        `${where}: ${errorMessage(err)}`,
        'set the S3 credentials (see opencts serve --help)',
      ),
    };
  }
  try {
    await objects.probe(PROBE_TIMEOUT_MS);
  } catch (err) {
    objects.close?.();
    return {
      result: fail(
        'object-store',
        `${where} does not answer: ${errorMessage(err)}`,
        objects.kind === 's3'
          ? 'check --object-store / --s3-endpoint (OPENCTS_OBJECT_STORE, OPENCTS_S3_ENDPOINT) and that the store runs'
          : 'make the buckets folder a folder the OpenCTS user can write',
      ),
    };
  }
  return { result: ok('object-store', `${where} answers`), objects };
}

/** Trackers that deliver trace files: those with a bucket. */
export function deliveringTrackers(trackers: readonly Tracker[]): Tracker[] {
  return trackers.filter((t) => Boolean(t.obs_info.bucket_name));
}

export function trackerLabel(tracker: Tracker): string {
  return `tracker ${tracker.tracker_name} of project ${tracker.project_id}`;
}

export async function checkBuckets(
  objects: ObjectStore | undefined,
  trackers: readonly Tracker[] | undefined,
): Promise<CheckResult> {
  if (!trackers) return notChecked('buckets', 'the store could not be opened');
  if (!objects) return notChecked('buckets', 'the object store does not answer');
  const delivering = deliveringTrackers(trackers);
  if (delivering.length === 0) return ok('buckets', 'no tracker delivers to a bucket');
  const problems: string[] = [];
  const found: string[] = [];
  for (const tracker of delivering) {
    const bucket = tracker.obs_info.bucket_name!;
    try {
      if (await objects.bucketExists(bucket)) found.push(`${trackerLabel(tracker)}: bucket ${bucket} exists`);
      else problems.push(`${trackerLabel(tracker)}: bucket ${bucket} does not exist`);
    } catch (err) {
      const why = err instanceof AccessDeniedError ? 'access denied' : errorMessage(err);
      problems.push(`${trackerLabel(tracker)}: bucket ${bucket}: ${why}`);
    }
  }
  if (problems.length > 0) {
    return fail(
      'buckets',
      `${problems.length} of ${delivering.length} tracker bucket${delivering.length === 1 ? '' : 's'} cannot be used`,
      'create the bucket (or update the tracker with obs_info.is_obs_created=true), or grant the OpenCTS credentials access',
      problems,
    );
  }
  return ok('buckets', `all ${delivering.length} tracker bucket${delivering.length === 1 ? '' : 's'} exist`, found);
}
