/**
 * The v1.0 tracker API (spec §1.11; OTC "out-of-date" APIs) as a view of the same tracker model:
 * v1.0 knows only the management tracker `system`, names its bucket fields at the top level and
 * nests LTS and digest settings in `lts` / `log_file_validate`. Pure mapping, no rules of its own:
 * the v3 rules (tracker-rules.ts) decide everything.
 */
import type { Tracker, TrackerInput } from './tracker.js';
import { SYSTEM_TRACKER_NAME } from './tracker.js';

/** Body of `POST /v1.0/{project_id}/tracker` and `PUT /v1.0/{project_id}/tracker/{tracker_name}`. */
export interface LegacyTrackerInput {
  bucket_name?: string;
  file_prefix_name?: string;
  is_obs_created?: boolean;
  is_support_trace_files_encryption?: boolean;
  kms_id?: string;
  /** `log_group_name`/`log_topic_name` are accepted and ignored: CTS names them itself. */
  lts?: { is_lts_enabled?: boolean };
  log_file_validate?: { is_support_validate?: boolean };
  status?: string;
}

/** The v3 create/update input that a v1.0 body means, for the tracker `name` (always a system tracker). */
export function fromLegacyInput(body: LegacyTrackerInput, name: string = SYSTEM_TRACKER_NAME): TrackerInput {
  const input: TrackerInput = { tracker_type: 'system', tracker_name: name };
  const obs: NonNullable<TrackerInput['obs_info']> = {};
  if (body.bucket_name !== undefined) obs.bucket_name = body.bucket_name;
  if (body.file_prefix_name !== undefined) obs.file_prefix_name = body.file_prefix_name;
  if (body.is_obs_created !== undefined) obs.is_obs_created = body.is_obs_created;
  if (Object.keys(obs).length > 0) input.obs_info = obs;
  if (body.lts?.is_lts_enabled !== undefined) input.is_lts_enabled = body.lts.is_lts_enabled;
  if (body.log_file_validate?.is_support_validate !== undefined) {
    input.is_support_validate = body.log_file_validate.is_support_validate;
  }
  if (body.is_support_trace_files_encryption !== undefined) {
    input.is_support_trace_files_encryption = body.is_support_trace_files_encryption;
  }
  if (body.kms_id !== undefined) input.kms_id = body.kms_id;
  if (body.status !== undefined) input.status = body.status;
  return input;
}

/** `log_file_validate` as v1.0 reports the digest setting. */
function logFileValidate(tracker: Tracker): { is_support_validate: boolean } {
  return { is_support_validate: tracker.is_support_validate };
}

/**
 * The create response (201): the v3 tracker plus `log_file_validate` (OTC example response).
 * Keeps `obs_info` nested as the example does; gophertelekomcloud only reads `tracker_name` here.
 */
export function toLegacyCreated(tracker: Tracker): Tracker & { log_file_validate: { is_support_validate: boolean } } {
  return { ...tracker, log_file_validate: logFileValidate(tracker) };
}

/** The flat v1.0 tracker of `GET /v1.0/{project_id}/tracker` (OTC querying_a_tracker example). */
export interface LegacyTrackerView {
  id: string;
  create_time: number;
  domain_id: string;
  project_id: string;
  tracker_name: string;
  tracker_type: string;
  bucket_name: string;
  file_prefix_name: string;
  status: string;
  detail?: string;
  is_obs_created: boolean;
  is_support_trace_files_encryption: boolean;
  kms_id?: string;
  is_support_validate: boolean;
  log_file_validate: { is_support_validate: boolean };
  lts: Tracker['lts'];
}

export function toLegacyView(tracker: Tracker): LegacyTrackerView {
  const view: LegacyTrackerView = {
    id: tracker.id,
    create_time: tracker.create_time,
    domain_id: tracker.domain_id,
    project_id: tracker.project_id,
    tracker_name: tracker.tracker_name,
    tracker_type: tracker.tracker_type,
    bucket_name: tracker.obs_info.bucket_name,
    file_prefix_name: tracker.obs_info.file_prefix_name,
    status: tracker.status,
    is_obs_created: tracker.obs_info.is_obs_created,
    is_support_trace_files_encryption: tracker.is_support_trace_files_encryption,
    is_support_validate: tracker.is_support_validate,
    log_file_validate: logFileValidate(tracker),
    lts: { ...tracker.lts },
  };
  if (tracker.detail !== undefined) view.detail = tracker.detail;
  if (tracker.kms_id !== undefined) view.kms_id = tracker.kms_id;
  return view;
}

/**
 * The v3 ListTraces selection a legacy `/{tracker_name}/trace` path means: `system` is the
 * management trail, any other name a data tracker's trail.
 */
export function legacyTraceSelection(trackerName: string): { trace_type: 'system' | 'data'; tracker_name: string } {
  return trackerName === SYSTEM_TRACKER_NAME
    ? { trace_type: 'system', tracker_name: SYSTEM_TRACKER_NAME }
    : { trace_type: 'data', tracker_name: trackerName };
}
