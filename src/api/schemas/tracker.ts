/**
 * Wire schemas of the tracker API (spec §1.1–§1.5), declared once: Fastify validates requests
 * and serialises responses with them, and the OpenAPI document is generated from them. Unknown
 * request fields are accepted and ignored (terraform sends the typo `aegncy_name`).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FieldErrorCodes } from '../errors.js';
import { COMPRESS_TYPES, DATA_EVENTS, TRACKER_STATUSES, TRACKER_TYPES } from '../../core/tracker/tracker.js';

const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));
const optional = <T extends TSchema>(schema: T) => Type.Optional(schema);

/** Generous caps: the exact rules live in core; these only stop absurd sizes early. */
const SHORT_TEXT = { maxLength: 256 };

export const ProjectParams = Type.Object({
  project_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});

const TrackerObsInfoInput = Type.Object({
  bucket_name: optional(Type.String({ maxLength: 63 })),
  file_prefix_name: optional(Type.String(SHORT_TEXT)),
  is_obs_created: optional(Type.Boolean()),
  bucket_lifecycle: optional(Type.Integer({ minimum: 0, maximum: 100000 })),
  compress_type: optional(literals(COMPRESS_TYPES)),
  is_sort_by_service: optional(Type.Boolean()),
});

const DataBucketInput = Type.Object({
  data_bucket_name: optional(Type.String({ maxLength: 63 })),
  data_event: optional(Type.Array(literals(DATA_EVENTS), { maxItems: 2 })),
});

const trackerInputFields = {
  tracker_type: literals(TRACKER_TYPES),
  tracker_name: Type.String({ maxLength: 64 }),
  agency_name: optional(Type.String(SHORT_TEXT)),
  is_organization_tracker: optional(Type.Boolean()),
  management_event_selector: optional(
    Type.Object({ exclude_service: optional(Type.Array(Type.String(SHORT_TEXT), { maxItems: 10 })) }),
  ),
  is_lts_enabled: optional(Type.Boolean()),
  obs_info: optional(TrackerObsInfoInput),
  is_support_trace_files_encryption: optional(Type.Boolean()),
  kms_id: optional(Type.String(SHORT_TEXT)),
  is_support_validate: optional(Type.Boolean()),
  data_bucket: optional(DataBucketInput),
};

export const CreateTrackerBody = Type.Object(trackerInputFields, {
  description: 'CreateTrackerRequestBody (spec §1.2)',
});

export const UpdateTrackerBody = Type.Object(
  { ...trackerInputFields, status: optional(literals(['enabled', 'disabled'] as const)) },
  { description: 'UpdateTrackerRequestBody (spec §1.3): a partial update keyed by tracker_type and tracker_name' },
);

/** Field → CTS code for schema failures of the create and update bodies (spec §4). */
export const TRACKER_BODY_ERRORS: FieldErrorCodes = {
  '/tracker_type': 'CTS.0202',
  '/tracker_name': 'CTS.0203',
  '/status': 'CTS.0205',
  '/obs_info/bucket_name': 'CTS.0231',
  '/obs_info/file_prefix_name': 'CTS.0218',
  '/data_bucket/data_bucket_name': 'CTS.0210',
  '/data_bucket/data_event': 'CTS.0225',
};

export const TrackerQuery = Type.Object({
  tracker_name: optional(Type.String({ maxLength: 64 })),
  tracker_type: optional(literals(TRACKER_TYPES)),
});

export const TRACKER_QUERY_ERRORS: FieldErrorCodes = {
  '/tracker_type': 'CTS.0202',
  '/tracker_name': 'CTS.0203',
};

const ObsInfo = Type.Object({
  bucket_name: Type.String(),
  file_prefix_name: Type.String(),
  is_obs_created: Type.Boolean(),
  is_authorized_bucket: Type.Boolean(),
  bucket_lifecycle: Type.Integer(),
  compress_type: literals(COMPRESS_TYPES),
  is_sort_by_service: Type.Boolean(),
  bucket_location: Type.String(),
});

export const TrackerSchema = Type.Object(
  {
    id: Type.String(),
    create_time: Type.Integer(),
    tracker_type: literals(TRACKER_TYPES),
    tracker_name: Type.String(),
    domain_id: Type.String(),
    project_id: Type.String(),
    status: literals(TRACKER_STATUSES),
    detail: optional(Type.String()),
    is_support_validate: Type.Boolean(),
    is_support_trace_files_encryption: Type.Boolean(),
    kms_id: optional(Type.String()),
    is_organization_tracker: Type.Boolean(),
    agency_name: optional(Type.String()),
    management_event_selector: Type.Object({ exclude_service: Type.Array(Type.String()) }),
    lts: Type.Object({
      is_lts_enabled: Type.Boolean(),
      log_group_name: Type.String(),
      log_topic_name: Type.String(),
    }),
    group_id: optional(Type.String()),
    stream_id: optional(Type.String()),
    obs_info: ObsInfo,
    data_bucket: optional(
      Type.Object({
        data_bucket_name: Type.String(),
        search_enabled: Type.Boolean(),
        data_event: Type.Array(literals(DATA_EVENTS)),
      }),
    ),
  },
  { description: 'Tracker (spec §1.1)' },
);

export const ListTrackersResponse = Type.Object({ trackers: Type.Array(TrackerSchema) });

export const ErrorSchema = Type.Object(
  { error_code: Type.String(), error_msg: Type.String() },
  { description: 'CTS error (spec §4)' },
);
