/**
 * Wire schemas of key-event notifications (spec §1.7), quotas (§1.8) and the OpenCTS topic and
 * dead-letter extensions. Request schemas check types only: the CTS.04xx rules live in core
 * (src/core/notification/notification-rules.ts), which reports the documented codes.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FieldErrorCodes } from '../errors.js';
import {
  FILTER_CONDITIONS,
  NOTIFICATION_STATUSES,
  NOTIFICATION_TYPES,
  OPERATION_TYPES,
} from '../../core/notification/notification.js';

const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));
const optional = <T extends TSchema>(schema: T) => Type.Optional(schema);
const TEXT = { maxLength: 1024 };

const OperationInput = Type.Object({
  service_type: optional(Type.String(TEXT)),
  resource_type: optional(Type.String(TEXT)),
  trace_names: optional(Type.Array(Type.String(TEXT), { maxItems: 1001 })),
});

const UsersInput = Type.Object({
  user_group: optional(Type.String(TEXT)),
  user_list: optional(Type.Array(Type.String(TEXT), { maxItems: 51 })),
});

const FilterInput = Type.Object({
  condition: optional(Type.String(TEXT)),
  is_support_filter: optional(Type.Boolean()),
  rule: optional(Type.Array(Type.String(TEXT), { maxItems: 100 })),
});

const notificationInputFields = {
  notification_name: Type.String(TEXT),
  operation_type: Type.String(TEXT),
  operations: optional(Type.Array(OperationInput, { maxItems: 1001 })),
  notify_user_list: optional(Type.Array(UsersInput, { maxItems: 11 })),
  topic_id: optional(Type.String(TEXT)),
  filter: optional(FilterInput),
  agency_name: optional(Type.String(TEXT)),
};

export const CreateNotificationBody = Type.Object(notificationInputFields, {
  description: 'CreateNotificationRequestBody (spec §1.7)',
});

export const UpdateNotificationBody = Type.Object(
  { notification_id: Type.String(TEXT), status: Type.String(TEXT), ...notificationInputFields },
  { description: 'UpdateNotificationRequestBody (spec §1.7): the full desired state' },
);

/** Field → CTS code for schema failures of the notification bodies (spec §4). */
export const NOTIFICATION_BODY_ERRORS: FieldErrorCodes = {
  '/notification_name': 'CTS.0411',
  '/operations': 'CTS.0401',
  '/topic_id': 'CTS.0402',
};

export const NotificationTypeParams = Type.Object({
  project_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
  notification_type: Type.String({ maxLength: 64 }),
});

export const ListNotificationsQuery = Type.Object({ notification_name: optional(Type.String(TEXT)) });

export const DeleteNotificationQuery = Type.Object({
  notification_id: Type.Array(Type.String({ maxLength: 8192 }), {
    minItems: 1,
    maxItems: 100,
    description: 'comma-separated ids, or the key repeated (both forms are accepted)',
  }),
});

export const NotificationSchema = Type.Object(
  {
    notification_id: Type.String(),
    notification_name: Type.String(),
    operation_type: literals(OPERATION_TYPES),
    operations: Type.Array(
      Type.Object({
        service_type: Type.String(),
        resource_type: Type.String(),
        trace_names: Type.Array(Type.String()),
      }),
    ),
    notify_user_list: Type.Array(Type.Object({ user_group: Type.String(), user_list: Type.Array(Type.String()) })),
    status: literals(NOTIFICATION_STATUSES),
    topic_id: optional(Type.String()),
    notification_type: literals(NOTIFICATION_TYPES),
    agency_name: optional(Type.String()),
    project_id: Type.String(),
    domain_id: Type.String(),
    create_time: Type.Integer(),
    filter: optional(
      Type.Object({
        condition: literals(FILTER_CONDITIONS),
        is_support_filter: Type.Boolean(),
        rule: Type.Array(Type.String()),
      }),
    ),
  },
  { description: 'Notification (spec §1.7)' },
);

export const ListNotificationsResponse = Type.Object({ notifications: Type.Array(NotificationSchema) });

export const ListQuotasResponse = Type.Object({
  resources: Type.Array(Type.Object({ type: Type.String(), used: Type.Integer(), quota: Type.Integer() })),
});

export const TopicSchema = Type.Object({
  urn: Type.String(),
  project_id: Type.String(),
  url: Type.String(),
  created_at: Type.Integer(),
});

export const CreateTopicBody = Type.Object({
  urn: Type.String({
    maxLength: 512,
    description: 'urn:smn:{region}:{project_id}:{name} or urn:fss:…:function:default:{name}',
  }),
  url: Type.String({ maxLength: 2048, description: 'webhook URL (http or https) that receives the messages' }),
});

export const CreatedTopicSchema = Type.Object({
  ...TopicSchema.properties,
  secret: Type.String({ description: 'HMAC-SHA256 key of X-OpenCTS-Signature; shown only now' }),
});

export const ListTopicsResponse = Type.Object({ topics: Type.Array(TopicSchema) });

export const DeleteTopicQuery = Type.Object({ urn: Type.String({ maxLength: 512 }) });

export const DeadLetterSchema = Type.Object({
  id: Type.String(),
  notification_id: Type.String(),
  notification_name: Type.String(),
  topic_id: Type.String(),
  trace_id: Type.String(),
  attempts: Type.Integer(),
  last_error: Type.String(),
  failed_at: Type.Integer(),
  retry_requested_at: Type.Union([Type.Integer(), Type.Null()]),
});

export const ListFailuresResponse = Type.Object({ failures: Type.Array(DeadLetterSchema) });

export const RetryFailuresBody = Type.Object({
  ids: optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000, description: 'omitted: all of them' })),
});

export const RetryFailuresResponse = Type.Object({ retried: Type.Array(Type.String()) });
