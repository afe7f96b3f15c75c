/**
 * Wire schemas of the legacy v1.0/v2.0 endpoints (spec §1.11; OTC "out-of-date" APIs). Unknown
 * request fields are ignored, as on v3: older gophertelekomcloud versions still send an `smn`
 * object in v1.0 tracker bodies.
 */
import { Type } from '@sinclair/typebox';
import type { FieldErrorCodes } from '../errors.js';
import { TRACE_RATINGS } from '../../core/trace/trace.js';
import { TRACKER_STATUSES } from '../../core/tracker/tracker.js';
import { ListTracesQuery, WireTraceSchema } from './trace.js';
import { ProjectParams, TrackerSchema } from './tracker.js';

const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));
const SHORT_TEXT = { maxLength: 256 };

const LegacyLts = Type.Object({
  is_lts_enabled: Type.Optional(Type.Boolean()),
  log_group_name: Type.Optional(Type.String(SHORT_TEXT)),
  log_topic_name: Type.Optional(Type.String(SHORT_TEXT)),
});

const legacyTrackerFields = {
  file_prefix_name: Type.Optional(Type.String(SHORT_TEXT)),
  is_obs_created: Type.Optional(Type.Boolean()),
  is_support_trace_files_encryption: Type.Optional(Type.Boolean()),
  kms_id: Type.Optional(Type.String(SHORT_TEXT)),
  lts: Type.Optional(LegacyLts),
  log_file_validate: Type.Optional(Type.Object({ is_support_validate: Type.Optional(Type.Boolean()) })),
};

export const LegacyCreateTrackerBody = Type.Object(
  { bucket_name: Type.String({ maxLength: 63 }), ...legacyTrackerFields },
  { description: 'v1.0 create tracker body (spec §1.11): the management tracker `system`' },
);

export const LegacyUpdateTrackerBody = Type.Object(
  {
    bucket_name: Type.Optional(Type.String({ maxLength: 63 })),
    ...legacyTrackerFields,
    status: Type.Optional(literals(['enabled', 'disabled'] as const)),
  },
  { description: 'v1.0 modify tracker body (spec §1.11): a partial update, omitted fields keep their values' },
);

export const LEGACY_TRACKER_BODY_ERRORS: FieldErrorCodes = {
  '/bucket_name': 'CTS.0231',
  '/file_prefix_name': 'CTS.0218',
  '/status': 'CTS.0205',
};

export const LegacyTrackerParams = Type.Object({
  ...ProjectParams.properties,
  tracker_name: Type.String({ minLength: 1, maxLength: 64 }),
});

export const LegacyTrackerQuery = Type.Object({ tracker_name: Type.Optional(Type.String({ maxLength: 64 })) });

export const LEGACY_TRACKER_QUERY_ERRORS: FieldErrorCodes = { '/tracker_name': 'CTS.0203' };

export const LegacyCreatedTracker = Type.Object(
  {
    ...TrackerSchema.properties,
    log_file_validate: Type.Object({ is_support_validate: Type.Boolean() }),
  },
  { description: 'v1.0 create response: the tracker (spec §1.1) plus log_file_validate' },
);

export const LegacyTrackerView = Type.Object(
  {
    id: Type.String(),
    create_time: Type.Integer(),
    domain_id: Type.String(),
    project_id: Type.String(),
    tracker_name: Type.String(),
    tracker_type: Type.String(),
    bucket_name: Type.String(),
    file_prefix_name: Type.String(),
    status: literals(TRACKER_STATUSES),
    detail: Type.Optional(Type.String()),
    is_obs_created: Type.Boolean(),
    is_support_trace_files_encryption: Type.Boolean(),
    kms_id: Type.Optional(Type.String()),
    is_support_validate: Type.Boolean(),
    log_file_validate: Type.Object({ is_support_validate: Type.Boolean() }),
    lts: Type.Object({
      is_lts_enabled: Type.Boolean(),
      log_group_name: Type.String(),
      log_topic_name: Type.String(),
    }),
  },
  { description: 'v1.0 tracker: one flat object with the bucket fields at the top level' },
);

/**
 * The v3 ListTraces query without `trace_type`/`tracker_name` (the tracker is in the path), plus
 * `trace_status`: gophertelekomcloud's v2 client names `trace_rating` so.
 */
const { trace_type: _type, tracker_name: _tracker, ...legacyTraceQuery } = ListTracesQuery.properties;
export const LegacyListTracesQuery = Type.Object({
  ...legacyTraceQuery,
  trace_status: Type.Optional(literals(TRACE_RATINGS)),
});

export const LegacyTraceSchema = Type.Object(
  {
    ...WireTraceSchema.properties,
    trace_status: Type.Optional(Type.String({ description: 'the same as trace_rating (gophertelekomcloud v2 model)' })),
  },
  { description: 'Trace (spec §2.1) as the legacy endpoints return it' },
);

export const LegacyListTracesResponse = Type.Object({
  traces: Type.Array(LegacyTraceSchema),
  meta_data: Type.Object({ count: Type.Integer(), marker: Type.Union([Type.String(), Type.Null()]) }),
});
