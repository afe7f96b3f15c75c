/** Wire schemas of the trace API: ListTraces (spec §1.6, §2.1) and the ingest extension. */
import { Type } from '@sinclair/typebox';
import { DATA_TRACE_TYPES, MANAGEMENT_TRACE_TYPES, TRACE_RATINGS } from '../../core/trace/trace.js';
import { MAX_TRACES_PER_CALL } from '../../core/trace/ingest.js';
import { MAX_LIMIT } from '../../core/trace/list-query.js';

const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));
const text = (maxLength: number, extra: object = {}) => Type.Optional(Type.String({ maxLength, ...extra }));
const EPOCH_MS = { minimum: 0, maximum: 9_999_999_999_999 };

export const ListTracesQuery = Type.Object({
  trace_type: Type.Optional(literals(['system', 'data'] as const)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
  from: Type.Optional(Type.Integer(EPOCH_MS)),
  to: Type.Optional(Type.Integer(EPOCH_MS)),
  next: text(64),
  tracker_name: text(64),
  service_type: text(64),
  user: text(64),
  resource_id: text(350),
  resource_name: text(256),
  resource_type: text(64),
  trace_id: text(64),
  trace_name: text(64),
  trace_rating: Type.Optional(literals(TRACE_RATINGS)),
  access_key_id: text(64),
  enterprise_project_id: text(64),
});

const TraceUserSchema = Type.Object(
  {
    id: text(64),
    name: text(64),
    user_name: text(64),
    domain: Type.Optional(Type.Object({ id: text(64), name: text(64) })),
    account_id: text(64),
    access_key_id: text(64),
    principal_urn: text(512),
    principal_id: text(256),
    principal_is_root_user: text(5),
    type: text(64),
    invoked_by: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 16 })),
    session_context: Type.Optional(
      Type.Object({
        attributes: Type.Optional(Type.Object({ created_at: text(32), mfa_authenticated: text(8) })),
      }),
    ),
  },
  { description: 'UserInfo (spec §2.1)' },
);

/** A JSON body of the audited call: text, or a structure that is stored JSON-encoded. */
const AuditedBody = Type.Optional(
  Type.Union([Type.String({ maxLength: 65536 }), Type.Object({}), Type.Array(Type.Unknown())]),
);

export const WireTraceSchema = Type.Object(
  {
    trace_id: Type.String(),
    trace_name: Type.String(),
    trace_rating: Type.String(),
    trace_type: Type.String(),
    service_type: Type.String(),
    resource_type: Type.String(),
    resource_id: Type.Optional(Type.String()),
    resource_name: Type.Optional(Type.String()),
    request: Type.Optional(Type.String()),
    response: Type.Optional(Type.String()),
    code: Type.Optional(Type.String()),
    api_version: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
    time: Type.Integer(),
    record_time: Type.Integer(),
    source_ip: Type.Optional(Type.String()),
    request_id: Type.Optional(Type.String()),
    location_info: Type.Optional(Type.String()),
    endpoint: Type.Optional(Type.String()),
    resource_url: Type.Optional(Type.String()),
    enterprise_project_id: Type.Optional(Type.String()),
    resource_account_id: Type.Optional(Type.String()),
    read_only: Type.Optional(Type.Boolean()),
    operation_id: Type.Optional(Type.String()),
    user: TraceUserSchema,
  },
  { description: 'Trace (spec §2.1)' },
);

export const ListTracesResponse = Type.Object({
  traces: Type.Array(WireTraceSchema),
  meta_data: Type.Object({ count: Type.Integer(), marker: Type.Union([Type.String(), Type.Null()]) }),
});

export const IngestedTraceSchema = Type.Object(
  {
    time: Type.Integer(EPOCH_MS),
    user: TraceUserSchema,
    service_type: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_-]*$' }),
    resource_type: Type.String({ minLength: 1, maxLength: 64 }),
    trace_name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9._-]*$' }),
    trace_rating: literals(TRACE_RATINGS),
    trace_type: literals([...MANAGEMENT_TRACE_TYPES, ...DATA_TRACE_TYPES] as const),
    resource_id: text(350),
    resource_name: text(256),
    request: AuditedBody,
    response: AuditedBody,
    code: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Integer()])),
    api_version: text(64),
    message: text(4096),
    source_ip: text(64),
    request_id: text(128),
    location_info: text(1024),
    endpoint: text(256),
    resource_url: text(1024),
    enterprise_project_id: text(64),
    resource_account_id: text(64),
    read_only: Type.Optional(Type.Boolean()),
    operation_id: text(256),
    user_agent: text(512),
    content_length: Type.Optional(Type.Integer({ minimum: 0 })),
    total_time: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { description: 'A trace reported by another service (stored shape of spec §2.2, server fields omitted)' },
);

export const IngestTracesBody = Type.Object(
  { traces: Type.Array(IngestedTraceSchema, { minItems: 1, maxItems: MAX_TRACES_PER_CALL }) },
  { description: `OpenCTS extension: up to ${MAX_TRACES_PER_CALL} traces, at most 1 MB per call` },
);

export const IngestTracesResponse = Type.Object({
  trace_ids: Type.Array(Type.Union([Type.String(), Type.Null()]), {
    description: 'Id of each reported trace, in order; null when no tracker recorded it',
  }),
});
