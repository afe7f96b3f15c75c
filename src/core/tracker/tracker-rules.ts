/**
 * Tracker validation and state changes (spec §1.2–§1.5, §3), as pure functions over the current
 * trackers of a project. Bucket existence is I/O and is answered by the caller from the
 * `BucketNeeds` these functions return.
 */
import { CtsError } from '../error-catalog.js';
import {
  AGENCY_NAME,
  BUCKET_LIFECYCLE_DAYS,
  COMPRESS_TYPES,
  DATA_EVENTS,
  DATA_TRACKER_QUOTA,
  LTS_LOG_GROUP,
  SYSTEM_LOG_TOPIC,
  SYSTEM_TRACKER_NAME,
  TRACKER_TYPES,
  type CompressType,
  type DataEvent,
  type ObsInfo,
  type Tracker,
  type TrackerInput,
  type TrackerType,
} from './tracker.js';

const DATA_TRACKER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const RESERVED_DATA_TRACKER_NAMES = new Set(['system', 'system-trace']);
const FILE_PREFIX = /^[A-Za-z0-9._-]{0,64}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{2,62}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** OBS bucket naming (spec §3): 3–63 of [a-z0-9.-], starting with a letter or digit, no `..`/`.-`/`-.`, not an IP. */
export function isValidBucketName(name: string): boolean {
  return (
    BUCKET_NAME.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !name.endsWith('-') &&
    !name.endsWith('.') &&
    !IPV4.test(name)
  );
}

export function parseTrackerType(value: unknown): TrackerType {
  if (typeof value !== 'string' || !(TRACKER_TYPES as readonly string[]).includes(value)) {
    throw new CtsError('CTS.0202');
  }
  return value as TrackerType;
}

export function checkTrackerName(type: TrackerType, name: unknown): string {
  if (type === 'system') {
    if (name !== SYSTEM_TRACKER_NAME) throw new CtsError('CTS.0204');
    return name;
  }
  if (typeof name !== 'string') throw new CtsError('CTS.0203');
  if (RESERVED_DATA_TRACKER_NAMES.has(name)) throw new CtsError('CTS.0207');
  if (!DATA_TRACKER_NAME.test(name)) throw new CtsError('CTS.0203');
  return name;
}

/** What the caller must check or do in the object store before the change may be committed. */
export interface BucketNeeds {
  /** Transfer bucket that must exist (or be created when `create` is true). */
  readonly transfer?: { readonly name: string; readonly create: boolean; readonly lifecycleDays: number };
  /** Tracked data bucket that must exist. */
  readonly dataBucket?: string;
}

export interface TrackerContext {
  readonly projectId: string;
  readonly domainId: string;
  readonly region: string;
  readonly now: number;
  readonly newId: () => string;
}

function checkObsInfo(input: TrackerInput['obs_info']): void {
  if (input === undefined) return;
  if (input.bucket_name !== undefined && input.bucket_name !== '' && !isValidBucketName(input.bucket_name)) {
    throw new CtsError('CTS.0231');
  }
  if (input.file_prefix_name !== undefined && !FILE_PREFIX.test(input.file_prefix_name)) {
    throw new CtsError('CTS.0218');
  }
  if (input.compress_type !== undefined && !(COMPRESS_TYPES as readonly string[]).includes(input.compress_type)) {
    throw new CtsError('CTS.0003', 'compress_type must be gzip or json.');
  }
  if (
    input.bucket_lifecycle !== undefined &&
    !(BUCKET_LIFECYCLE_DAYS as readonly number[]).includes(input.bucket_lifecycle)
  ) {
    throw new CtsError('CTS.0003', `bucket_lifecycle must be one of ${BUCKET_LIFECYCLE_DAYS.join(', ')}.`);
  }
}

function checkCommonFields(type: TrackerType, input: TrackerInput): void {
  if (input.agency_name !== undefined && input.agency_name !== AGENCY_NAME) {
    throw new CtsError('CTS.0003', `agency_name can only be ${AGENCY_NAME}.`);
  }
  const excluded = input.management_event_selector?.exclude_service;
  if (excluded !== undefined) {
    if (type !== 'system') throw new CtsError('CTS.0003', 'management_event_selector applies to system trackers.');
    if (excluded.some((s) => s !== 'KMS')) throw new CtsError('CTS.0003', 'exclude_service can only contain KMS.');
  }
  if (input.is_organization_tracker === true) {
    // Organisation trackers need a trust relationship with an Organizations service that a
    // self-hosted deployment does not have: answer as CTS does when that trust is missing.
    throw new CtsError(type === 'system' ? 'CTS.0228' : 'CTS.0003');
  }
  if (input.is_support_trace_files_encryption === true) {
    if (type !== 'system') throw new CtsError('CTS.0003', 'Trace file encryption applies to system trackers.');
    if (!input.kms_id) throw new CtsError('CTS.0221');
    // No KMS exists here to hold or verify the key.
    throw new CtsError('CTS.0220');
  }
  checkObsInfo(input.obs_info);
}

function checkDataEvents(events: unknown): DataEvent[] {
  if (!Array.isArray(events) || events.length === 0) throw new CtsError('CTS.0219');
  const unique = new Set<DataEvent>();
  for (const e of events) {
    if (!(DATA_EVENTS as readonly unknown[]).includes(e)) throw new CtsError('CTS.0225');
    unique.add(e as DataEvent);
  }
  return DATA_EVENTS.filter((e) => unique.has(e));
}

function mergeObsInfo(current: ObsInfo, input: TrackerInput['obs_info'], region: string): ObsInfo {
  const next: ObsInfo = { ...current };
  // A different bucket is not the one CTS created: unless the request says so, it must exist.
  if (input?.bucket_name !== undefined && input.bucket_name !== current.bucket_name) next.is_obs_created = false;
  if (input) {
    if (input.bucket_name !== undefined) next.bucket_name = input.bucket_name;
    if (input.file_prefix_name !== undefined) next.file_prefix_name = input.file_prefix_name;
    if (input.is_obs_created !== undefined) next.is_obs_created = input.is_obs_created;
    if (input.bucket_lifecycle !== undefined) next.bucket_lifecycle = input.bucket_lifecycle;
    if (input.compress_type !== undefined) next.compress_type = input.compress_type as CompressType;
    if (input.is_sort_by_service !== undefined) next.is_sort_by_service = input.is_sort_by_service;
  }
  const hasBucket = next.bucket_name !== '';
  next.is_authorized_bucket = hasBucket;
  next.bucket_location = hasBucket ? region : '';
  if (!hasBucket) next.is_obs_created = false;
  return next;
}

function emptyObsInfo(): ObsInfo {
  return {
    bucket_name: '',
    file_prefix_name: '',
    is_obs_created: false,
    is_authorized_bucket: false,
    bucket_lifecycle: 0,
    compress_type: 'gzip',
    is_sort_by_service: true,
    bucket_location: '',
  };
}

function checkDataBucketConflicts(existing: readonly Tracker[], tracker: Tracker): void {
  const own = tracker.data_bucket;
  if (!own) return;
  if (own.data_bucket_name === tracker.obs_info.bucket_name) throw new CtsError('CTS.0213');
  for (const other of existing) {
    if (other.id === tracker.id || !other.data_bucket) continue;
    if (other.data_bucket.data_bucket_name !== own.data_bucket_name) continue;
    if (other.data_bucket.data_event.some((e) => own.data_event.includes(e))) throw new CtsError('CTS.0209');
  }
}

function transferNeeds(tracker: Tracker, previous: ObsInfo | undefined): BucketNeeds['transfer'] {
  const { bucket_name, is_obs_created, bucket_lifecycle } = tracker.obs_info;
  if (bucket_name === '') return undefined;
  const unchanged = previous !== undefined && previous.bucket_name === bucket_name;
  // A bucket that this tracker already uses was created or checked when it was configured.
  if (unchanged && (previous.is_obs_created || !is_obs_created)) {
    return previous.bucket_lifecycle === bucket_lifecycle
      ? undefined
      : { name: bucket_name, create: false, lifecycleDays: bucket_lifecycle };
  }
  return { name: bucket_name, create: is_obs_created, lifecycleDays: bucket_lifecycle };
}

export interface TrackerPlan {
  readonly tracker: Tracker;
  readonly buckets: BucketNeeds;
}

/** Builds the tracker a create request asks for, against the project's current trackers. */
export function planCreateTracker(existing: readonly Tracker[], input: TrackerInput, ctx: TrackerContext): TrackerPlan {
  const type = parseTrackerType(input.tracker_type);
  const name = checkTrackerName(type, input.tracker_name);
  if (type === 'system' && input.data_bucket !== undefined) throw new CtsError('CTS.0206');
  checkCommonFields(type, input);

  if (type === 'system') {
    if (existing.some((t) => t.tracker_type === 'system')) throw new CtsError('CTS.0201');
  } else {
    if (existing.filter((t) => t.tracker_type === 'data').length >= DATA_TRACKER_QUOTA) {
      throw new CtsError('CTS.0200');
    }
    if (existing.some((t) => t.tracker_name === name)) throw new CtsError('CTS.0208');
  }

  const tracker: Tracker = {
    id: ctx.newId(),
    create_time: ctx.now,
    tracker_type: type,
    tracker_name: name,
    domain_id: ctx.domainId,
    project_id: ctx.projectId,
    status: 'enabled',
    is_support_validate: input.is_support_validate ?? false,
    is_support_trace_files_encryption: false,
    is_organization_tracker: false,
    management_event_selector: { exclude_service: input.management_event_selector?.exclude_service ?? [] },
    lts: {
      is_lts_enabled: input.is_lts_enabled ?? false,
      log_group_name: LTS_LOG_GROUP,
      log_topic_name: type === 'system' ? SYSTEM_LOG_TOPIC : name,
    },
    obs_info: mergeObsInfo(emptyObsInfo(), input.obs_info, ctx.region),
  };
  if (input.agency_name !== undefined) tracker.agency_name = input.agency_name;
  if (input.kms_id) tracker.kms_id = input.kms_id;

  let dataBucket: string | undefined;
  if (type === 'data') {
    const bucketName = input.data_bucket?.data_bucket_name;
    if (!bucketName) throw new CtsError('CTS.0210');
    if (!isValidBucketName(bucketName)) throw new CtsError('CTS.0231');
    tracker.data_bucket = {
      data_bucket_name: bucketName,
      search_enabled: false,
      data_event: checkDataEvents(input.data_bucket?.data_event),
    };
    checkDataBucketConflicts(existing, tracker);
    dataBucket = bucketName;
  }
  return { tracker, buckets: { transfer: transferNeeds(tracker, undefined), dataBucket } };
}

/**
 * Applies a modify request (spec §1.3): a merge keyed by type and name, where omitted fields keep
 * their values (terraform toggles status with a body that holds nothing else).
 */
export function planUpdateTracker(existing: readonly Tracker[], input: TrackerInput, ctx: TrackerContext): TrackerPlan {
  const type = parseTrackerType(input.tracker_type);
  if (typeof input.tracker_name !== 'string') throw new CtsError(type === 'system' ? 'CTS.0204' : 'CTS.0203');
  const current = existing.find((t) => t.tracker_type === type && t.tracker_name === input.tracker_name);
  if (!current) throw new CtsError('CTS.0214');
  if (type === 'system' && input.data_bucket !== undefined) throw new CtsError('CTS.0206');
  if (input.status !== undefined && input.status !== 'enabled' && input.status !== 'disabled') {
    throw new CtsError('CTS.0205');
  }
  checkCommonFields(type, input);

  const next: Tracker = structuredClone(current);
  if (input.status !== undefined) {
    next.status = input.status as 'enabled' | 'disabled';
    delete next.detail;
  }
  if (input.is_support_validate !== undefined) next.is_support_validate = input.is_support_validate;
  if (input.is_lts_enabled !== undefined) next.lts.is_lts_enabled = input.is_lts_enabled;
  if (input.agency_name !== undefined) next.agency_name = input.agency_name;
  if (input.kms_id !== undefined) {
    if (input.kms_id === '') delete next.kms_id;
    else next.kms_id = input.kms_id;
  }
  if (input.management_event_selector?.exclude_service !== undefined) {
    next.management_event_selector = { exclude_service: input.management_event_selector.exclude_service };
  }
  next.obs_info = mergeObsInfo(current.obs_info, input.obs_info, ctx.region);

  let dataBucket: string | undefined;
  if (type === 'data' && input.data_bucket !== undefined && current.data_bucket) {
    const name = input.data_bucket.data_bucket_name;
    if (name !== undefined && name !== current.data_bucket.data_bucket_name) throw new CtsError('CTS.0212');
    if (input.data_bucket.data_event !== undefined) {
      next.data_bucket = { ...current.data_bucket, data_event: checkDataEvents(input.data_bucket.data_event) };
    }
  }
  checkDataBucketConflicts(existing, next);
  return { tracker: next, buckets: { transfer: transferNeeds(next, current.obs_info), dataBucket } };
}

export interface DeleteSelector {
  readonly tracker_name?: string | undefined;
  readonly tracker_type?: string | undefined;
}

/**
 * Which trackers a delete removes (spec §1.5). Huawei's default type is `data`, and without a name
 * it removes every data tracker; the system tracker goes only when asked for by type or by its
 * name (OTC's provider sends `?tracker_name=system` alone and expects the system tracker gone).
 */
export function selectTrackersToDelete(existing: readonly Tracker[], selector: DeleteSelector): Tracker[] {
  const type: TrackerType =
    selector.tracker_type !== undefined
      ? parseTrackerType(selector.tracker_type)
      : selector.tracker_name === SYSTEM_TRACKER_NAME
        ? 'system'
        : 'data';
  const name = selector.tracker_name;
  if (type === 'system' && name !== undefined && name !== SYSTEM_TRACKER_NAME) throw new CtsError('CTS.0204');
  const chosen = existing.filter((t) => t.tracker_type === type && (name === undefined || t.tracker_name === name));
  if (chosen.length === 0 && (name !== undefined || type === 'system')) throw new CtsError('CTS.0214');
  return chosen;
}

export interface ListSelector {
  readonly tracker_name?: string | undefined;
  readonly tracker_type?: string | undefined;
}

/** Exact-match filters (terraform reads `[0]` of the result, so a prefix match would be a bug). */
export function filterTrackers(trackers: readonly Tracker[], selector: ListSelector): Tracker[] {
  const type = selector.tracker_type === undefined ? undefined : parseTrackerType(selector.tracker_type);
  return trackers.filter(
    (t) =>
      (type === undefined || t.tracker_type === type) &&
      (selector.tracker_name === undefined || t.tracker_name === selector.tracker_name),
  );
}
