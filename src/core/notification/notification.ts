/**
 * The key-event notification as CTS returns it (spec §1.7). Like the tracker, the domain keeps the
 * wire's snake_case names: the shape exists once.
 */
export const OPERATION_TYPES = ['complete', 'customized'] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export const NOTIFICATION_STATUSES = ['enabled', 'disabled'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** `smn` (SMN topic) or `fun` (FunctionGraph function), derived from the topic URN. */
export const NOTIFICATION_TYPES = ['smn', 'fun'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const FILTER_CONDITIONS = ['AND', 'OR'] as const;
export type FilterCondition = (typeof FILTER_CONDITIONS)[number];

/** Quota `smn_notification` of spec §1.8. */
export const NOTIFICATION_QUOTA = 100;

export interface NotificationOperation {
  service_type: string;
  resource_type: string;
  trace_names: string[];
}

export interface NotificationUsers {
  user_group: string;
  user_list: string[];
}

export interface NotificationFilter {
  condition: FilterCondition;
  is_support_filter: boolean;
  rule: string[];
}

export interface Notification {
  notification_id: string;
  notification_name: string;
  operation_type: OperationType;
  operations: NotificationOperation[];
  notify_user_list: NotificationUsers[];
  status: NotificationStatus;
  /** Absent when no topic is set (OTC list example of a disabled notification). */
  topic_id?: string;
  notification_type: NotificationType;
  agency_name?: string;
  project_id: string;
  domain_id: string;
  create_time: number;
  filter?: NotificationFilter;
}

/** A create or update request body, as received (validated by the rules, not by its type). */
export interface NotificationInput {
  notification_id?: unknown;
  notification_name?: unknown;
  operation_type?: unknown;
  operations?: unknown;
  notify_user_list?: unknown;
  status?: unknown;
  topic_id?: unknown;
  filter?: unknown;
  agency_name?: unknown;
}
