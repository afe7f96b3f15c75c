/**
 * The tracker as CTS returns it (spec §1.1). The domain keeps the wire's snake_case names so the
 * shape exists once; only the API layer decides what to emit.
 */
export const TRACKER_TYPES = ['system', 'data'] as const;
export type TrackerType = (typeof TRACKER_TYPES)[number];

export const TRACKER_STATUSES = ['enabled', 'disabled', 'error'] as const;
export type TrackerStatus = (typeof TRACKER_STATUSES)[number];

export const STATUS_DETAILS = ['bucketPolicyError', 'noBucket', 'arrears'] as const;
export type StatusDetail = (typeof STATUS_DETAILS)[number];

export const COMPRESS_TYPES = ['gzip', 'json'] as const;
export type CompressType = (typeof COMPRESS_TYPES)[number];

export const DATA_EVENTS = ['READ', 'WRITE'] as const;
export type DataEvent = (typeof DATA_EVENTS)[number];

/** The only agency CTS accepts (it is the IAM agency CTS creates for itself). */
export const AGENCY_NAME = 'cts_admin_trust';
export const SYSTEM_TRACKER_NAME = 'system';
export const LTS_LOG_GROUP = 'CTS';
export const SYSTEM_LOG_TOPIC = 'system-trace';
/** Quotas of spec §1.8 (system_tracker, data_tracker). */
export const SYSTEM_TRACKER_QUOTA = 1;
export const DATA_TRACKER_QUOTA = 100;
/** Retention periods terraform accepts (days); 0 keeps files forever. */
export const BUCKET_LIFECYCLE_DAYS = [0, 30, 60, 90, 180, 1095] as const;

export interface ObsInfo {
  bucket_name: string;
  file_prefix_name: string;
  is_obs_created: boolean;
  is_authorized_bucket: boolean;
  bucket_lifecycle: number;
  compress_type: CompressType;
  is_sort_by_service: boolean;
  bucket_location: string;
}

export interface LtsInfo {
  is_lts_enabled: boolean;
  log_group_name: string;
  log_topic_name: string;
}

export interface DataBucketInfo {
  data_bucket_name: string;
  search_enabled: boolean;
  data_event: DataEvent[];
}

export interface Tracker {
  id: string;
  create_time: number;
  tracker_type: TrackerType;
  tracker_name: string;
  domain_id: string;
  project_id: string;
  status: TrackerStatus;
  detail?: StatusDetail;
  is_support_validate: boolean;
  is_support_trace_files_encryption: boolean;
  kms_id?: string;
  is_organization_tracker: boolean;
  agency_name?: string;
  management_event_selector: { exclude_service: string[] };
  lts: LtsInfo;
  obs_info: ObsInfo;
  data_bucket?: DataBucketInfo;
}

/** Request bodies of create (§1.2) and update (§1.3); every field optional at this level. */
export interface TrackerObsInfoInput {
  bucket_name?: string;
  file_prefix_name?: string;
  is_obs_created?: boolean;
  bucket_lifecycle?: number;
  compress_type?: string;
  is_sort_by_service?: boolean;
}

export interface TrackerInput {
  tracker_type?: string;
  tracker_name?: string;
  agency_name?: string;
  is_organization_tracker?: boolean;
  management_event_selector?: { exclude_service?: string[] };
  is_lts_enabled?: boolean;
  obs_info?: TrackerObsInfoInput;
  is_support_trace_files_encryption?: boolean;
  kms_id?: string;
  is_support_validate?: boolean;
  data_bucket?: { data_bucket_name?: string; data_event?: string[] };
  status?: string;
}
