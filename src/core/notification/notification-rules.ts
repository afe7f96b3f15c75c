/**
 * Validation and planning of key-event notifications (spec §1.7, errors §4 CTS.04xx). Pure: the
 * store runs the plans inside its transaction against the project's current notifications and
 * topics, so two concurrent requests cannot both pass a name or quota check.
 */
import { CtsError } from '../error-catalog.js';
import { TRACE_RATINGS, MANAGEMENT_TRACE_TYPES } from '../trace/trace.js';
import {
  FILTER_CONDITIONS,
  NOTIFICATION_QUOTA,
  OPERATION_TYPES,
  type Notification,
  type NotificationFilter,
  type NotificationInput,
  type NotificationOperation,
  type NotificationUsers,
  type OperationType,
} from './notification.js';
import { parseTopicUrn, type Topic } from './topic.js';

/** Console rule (spec §1.7): ≤ 64 characters, letters, digits and `_`. */
const NAME = /^[A-Za-z0-9_]{1,64}$/;
export const MAX_USER_GROUPS = 10;
export const MAX_USERS = 50;
export const MAX_OPERATIONS = 1000;
export const MAX_OPERATION_SERVICES = 100;
export const MAX_FILTER_RULES = 6;
const MAX_TEXT = 256;

/** The six trace fields a filter rule may test, each with the values it accepts (spec §1.7 Filter). */
const FILTER_FIELDS: Readonly<Record<string, (value: string) => boolean>> = {
  api_version: (v) => /^[A-Za-z0-9_.-]{1,64}$/.test(v),
  code: (v) => v.length >= 1 && v.length <= 256,
  trace_rating: (v) => (TRACE_RATINGS as readonly string[]).includes(v),
  trace_type: (v) => (MANAGEMENT_TRACE_TYPES as readonly string[]).includes(v),
  resource_id: (v) => v.length >= 1 && v.length <= 350,
  resource_name: (v) => v.length >= 1 && v.length <= 256,
};
export const FILTER_FIELD_NAMES = Object.keys(FILTER_FIELDS);

export interface FilterRule {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

const RULE = /^\s*([a-z_]+)\s*(!=|=)\s*(.*?)\s*$/;

/** `"<field> <op> <value>"`; undefined when malformed or outside the documented limits. */
export function parseFilterRule(text: string): FilterRule | undefined {
  const m = RULE.exec(text);
  if (!m) return undefined;
  const [, field, op, value] = m as unknown as [string, string, '=' | '!=', string];
  const valid = Object.hasOwn(FILTER_FIELDS, field) ? FILTER_FIELDS[field] : undefined;
  if (!valid || !valid(value)) return undefined;
  return { field, op, value };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max = MAX_TEXT): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

function checkName(value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) throw new CtsError('CTS.0411');
  return value;
}

function checkOperationType(value: unknown): OperationType {
  if (!(OPERATION_TYPES as readonly unknown[]).includes(value)) {
    throw new CtsError('CTS.0003', '(operation_type must be complete or customized)');
  }
  return value as OperationType;
}

function checkOperations(type: OperationType, value: unknown): NotificationOperation[] {
  // With `complete` every operation is notified: a list would mean nothing (OTC shows `[]`).
  if (type === 'complete') return [];
  const invalid = (why: string) => new CtsError('CTS.0401', `(${why})`);
  if (!Array.isArray(value) || value.length === 0) throw invalid('customized needs at least one operation');
  let names = 0;
  const services = new Set<string>();
  const operations = value.map((op): NotificationOperation => {
    if (!isObject(op) || !isText(op['service_type'], 64) || !isText(op['resource_type'], 64)) {
      throw invalid('each operation needs service_type and resource_type');
    }
    const traceNames = op['trace_names'];
    if (!Array.isArray(traceNames) || traceNames.length === 0 || !traceNames.every((n) => isText(n, 128))) {
      throw invalid('each operation needs a non-empty trace_names list');
    }
    names += traceNames.length;
    services.add(op['service_type']);
    return {
      service_type: op['service_type'],
      resource_type: op['resource_type'],
      trace_names: [...(traceNames as string[])],
    };
  });
  if (names > MAX_OPERATIONS) throw invalid(`at most ${MAX_OPERATIONS} operations`);
  if (services.size > MAX_OPERATION_SERVICES) throw invalid(`at most ${MAX_OPERATION_SERVICES} services`);
  return operations;
}

function checkUsers(value: unknown): NotificationUsers[] {
  if (value === undefined || value === null) return [];
  const invalid = (why: string) => new CtsError('CTS.0003', `(notify_user_list: ${why})`);
  if (!Array.isArray(value)) throw invalid('must be a list');
  if (value.length > MAX_USER_GROUPS) throw invalid(`at most ${MAX_USER_GROUPS} user groups`);
  let users = 0;
  const groups = value.map((g): NotificationUsers => {
    if (!isObject(g) || !isText(g['user_group'], 64)) throw invalid('each entry needs a user_group');
    const list = g['user_list'] ?? [];
    if (!Array.isArray(list) || !list.every((u) => isText(u, 64))) throw invalid('user_list must list user names');
    users += list.length;
    return { user_group: g['user_group'], user_list: [...(list as string[])] };
  });
  if (users > MAX_USERS) throw invalid(`at most ${MAX_USERS} users`);
  return groups;
}

function checkFilter(value: unknown): NotificationFilter | undefined {
  if (value === undefined || value === null) return undefined;
  const invalid = (why: string) => new CtsError('CTS.0003', `(filter: ${why})`);
  if (!isObject(value)) throw invalid('must be an object');
  const condition = value['condition'] ?? 'AND';
  if (!(FILTER_CONDITIONS as readonly unknown[]).includes(condition)) throw invalid('condition must be AND or OR');
  const rules = value['rule'] ?? [];
  if (!Array.isArray(rules)) throw invalid('rule must be a list');
  if (rules.length > MAX_FILTER_RULES) throw invalid(`at most ${MAX_FILTER_RULES} rules`);
  for (const r of rules) {
    if (typeof r !== 'string' || !parseFilterRule(r)) {
      throw invalid(`each rule is "<field> = <value>" or "<field> != <value>" over ${FILTER_FIELD_NAMES.join(', ')}`);
    }
  }
  const support = value['is_support_filter'];
  if (support !== undefined && typeof support !== 'boolean') throw invalid('is_support_filter must be a boolean');
  return {
    condition: condition as NotificationFilter['condition'],
    // Terraform sends only condition and rule: rules given mean filtering is wanted.
    is_support_filter: support ?? rules.length > 0,
    rule: [...(rules as string[])],
  };
}

/** The topic a notification names, if any: it must be registered in the caller's project (CTS.0402). */
function checkTopic(value: unknown, projectId: string, topics: readonly Topic[]): Topic | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new CtsError('CTS.0402');
  const parsed = parseTopicUrn(value);
  const topic = topics.find((t) => t.urn === value);
  if (!parsed || parsed.projectId !== projectId || !topic) throw new CtsError('CTS.0402');
  return topic;
}

export interface NotificationContext {
  readonly projectId: string;
  readonly domainId: string;
  readonly now: number;
  readonly newId: () => string;
}

/** The fields every create and update replaces. */
function settings(input: NotificationInput, ctx: NotificationContext, topics: readonly Topic[]) {
  const name = checkName(input.notification_name);
  const operationType = checkOperationType(input.operation_type);
  const operations = checkOperations(operationType, input.operations);
  const users = checkUsers(input.notify_user_list);
  const filter = checkFilter(input.filter);
  const topic = checkTopic(input.topic_id, ctx.projectId, topics);
  const agency = input.agency_name;
  if (agency !== undefined && agency !== null && !isText(agency, 64)) {
    throw new CtsError('CTS.0003', '(agency_name must be a string)');
  }
  return { name, operationType, operations, users, filter, topic, agency: agency ?? undefined };
}

function build(
  base: Pick<Notification, 'notification_id' | 'create_time' | 'project_id' | 'domain_id' | 'status'>,
  s: ReturnType<typeof settings>,
): Notification {
  const n: Notification = {
    ...base,
    notification_name: s.name,
    operation_type: s.operationType,
    operations: s.operations,
    notify_user_list: s.users,
    notification_type: s.topic ? parseTopicUrn(s.topic.urn)!.type : 'smn',
  };
  if (s.topic) n.topic_id = s.topic.urn;
  if (s.filter) n.filter = s.filter;
  if (s.agency !== undefined) n.agency_name = s.agency;
  return n;
}

export function planCreateNotification(
  existing: readonly Notification[],
  topics: readonly Topic[],
  input: NotificationInput,
  ctx: NotificationContext,
): Notification {
  const s = settings(input, ctx, topics);
  if (existing.some((n) => n.notification_name === s.name)) throw new CtsError('CTS.0400');
  if (existing.length >= NOTIFICATION_QUOTA) throw new CtsError('CTS.0407');
  return build(
    {
      notification_id: ctx.newId(),
      create_time: ctx.now,
      project_id: ctx.projectId,
      domain_id: ctx.domainId,
      // A notification with somewhere to send is on from the start (spec §1.7 examples).
      status: s.topic ? 'enabled' : 'disabled',
    },
    s,
  );
}

/** PUT is a full replace keyed by notification_id (spec §1.7: clients always send the desired state). */
export function planUpdateNotification(
  existing: readonly Notification[],
  topics: readonly Topic[],
  input: NotificationInput,
  ctx: NotificationContext,
): Notification {
  const id = input.notification_id;
  const current = typeof id === 'string' ? existing.find((n) => n.notification_id === id) : undefined;
  if (!current) throw new CtsError('CTS.0403');
  const status = input.status;
  if (status !== 'enabled' && status !== 'disabled') {
    throw new CtsError('CTS.0003', '(status is required: enabled or disabled)');
  }
  const s = settings(input, ctx, topics);
  if (status === 'enabled' && !s.topic) throw new CtsError('CTS.0404');
  if (existing.some((n) => n.notification_name === s.name && n.notification_id !== current.notification_id)) {
    throw new CtsError('CTS.0400');
  }
  return build(
    {
      notification_id: current.notification_id,
      create_time: current.create_time,
      project_id: current.project_id,
      domain_id: current.domain_id,
      status,
    },
    s,
  );
}

/** `notification_id` as comma-joined text, repeated keys, or both (clients.md §2: providers differ). */
export function parseNotificationIds(value: string | readonly string[] | undefined): string[] {
  const parts = [value ?? []]
    .flat()
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (parts.length === 0) throw new CtsError('CTS.9400', '(notification_id is required)');
  return [...new Set(parts)];
}

/** The notifications to delete: all of them exist, else nothing is deleted (404 CTS.0403). */
export function selectNotificationsToDelete(existing: readonly Notification[], ids: readonly string[]): Notification[] {
  const found = ids.map((id) => existing.find((n) => n.notification_id === id));
  if (found.some((n) => n === undefined)) throw new CtsError('CTS.0403');
  return found as Notification[];
}

/** Path `notification_type`: `smn` or `fun` (Huawei); anything else CTS.0410 (spec §1.7). */
export function filterNotifications(
  existing: readonly Notification[],
  type: string,
  name: string | undefined,
): Notification[] {
  if (type !== 'smn' && type !== 'fun') throw new CtsError('CTS.0410');
  return existing.filter((n) => n.notification_type === type && (name === undefined || n.notification_name === name));
}
