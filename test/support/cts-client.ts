/**
 * Thin CTS v3 client for conformance tests, built on the official `@huaweicloud/huaweicloud-sdk-core`.
 *
 * The generated `@huaweicloud/huaweicloud-sdk-cts` package is not published on npm, so this module plays its part:
 * `CTS_OPERATIONS` is the request table (one entry per CTS v3 operation, written from
 * /work/shared/spec/cts-api.md §0.1/§1 and clients.md §1.3), and every call goes through the SDK's own
 * `HcClient.sendRequest()`, so signing (SDK-HMAC-SHA256), headers, query serialisation and error mapping are
 * exactly the SDK's.
 *
 * - Methods take plain wire-shaped (snake_case) objects and resolve to the parsed JSON body plus `httpStatusCode`.
 * - 4xx rejects with `ClientRequestException`, 5xx with `ServerResponseException` (both extend
 *   `ServiceResponseException`: `httpStatusCode`, `errorCode`, `errorMsg`, `requestId`). They propagate unchanged;
 *   `expectCtsError()` is a node:test helper for asserting them.
 * - Importing this module switches the SDK's log4js stdout logger off (clients.md §1.2), so non-2xx responses
 *   print nothing.
 * - Never configures a region: with a project id and an explicit endpoint the SDK never talks to IAM.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient, HttpRequestOptions } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import type { SdkResponse } from '@huaweicloud/huaweicloud-sdk-core/SdkResponse.js';
import type { UserOptions } from '@huaweicloud/huaweicloud-sdk-core/UserOptions.js';
import { ServiceResponseException } from '@huaweicloud/huaweicloud-sdk-core/exception/ServiceResponseException.js';

export { ClientRequestException } from '@huaweicloud/huaweicloud-sdk-core/exception/ClientRequestException.js';
export { ServerResponseException } from '@huaweicloud/huaweicloud-sdk-core/exception/ServerResponseException.js';
export { ServiceResponseException };

// ---------------------------------------------------------------------------------------------------------------
// Silence the SDK logger (clients.md §1.2). The SDK's logger module calls log4js.configure() with a stdout appender
// at level "debug" when it is first loaded, and DefaultHttpClient logs every non-2xx response (including the whole
// axios config) at ERROR. Load that module first, then reconfigure the *same* log4js instance (resolved from the
// SDK's own location, log4js is not our direct dependency) with everything off.
// ---------------------------------------------------------------------------------------------------------------

/** The part of log4js' API used here (log4js is a transitive dependency only, so it is not imported for types). */
interface Log4jsLike {
  configure(config: {
    appenders: Record<string, { type: string }>;
    categories: Record<string, { appenders: string[]; level: string }>;
  }): unknown;
}

const SDK_LOG4J_MODULE = '@huaweicloud/huaweicloud-sdk-core/logger/log4jLogger.js';
const requireHere = createRequire(import.meta.url);
requireHere(SDK_LOG4J_MODULE);
const sdkLog4js = createRequire(requireHere.resolve(SDK_LOG4J_MODULE))('log4js') as Log4jsLike;
sdkLog4js.configure({
  appenders: { out: { type: 'stdout' } },
  categories: { default: { appenders: ['out'], level: 'off' } },
});

// ---------------------------------------------------------------------------------------------------------------
// Request table
// ---------------------------------------------------------------------------------------------------------------

export type CtsHttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface CtsOperationSpec {
  readonly method: CtsHttpMethod;
  /** URL template relative to the endpoint; `{project_id}` is filled (URI-encoded) by the SDK credentials. */
  readonly url: string;
  /** Path parameters supplied by the caller (inserted verbatim by HcClient, like the generated client does). */
  readonly pathParams: readonly string[];
  /** Query parameters, in the order the generated client sends them. */
  readonly queryParams: readonly string[];
  /** Whether a JSON body is sent. */
  readonly hasBody: boolean;
}

/** Content type the generated clients declare for requests with a body (the SDK signs it as `application/json`). */
export const CONTENT_TYPE_WITH_BODY = 'application/json;charset=UTF-8';
/** Content type the generated clients declare for GET/DELETE without a body (still sent on the wire). */
export const CONTENT_TYPE_NO_BODY = 'application/json';

const TRACE_QUERY = [
  'trace_type',
  'limit',
  'from',
  'next',
  'to',
  'tracker_name',
  'service_type',
  'user',
  'resource_id',
  'resource_name',
  'resource_type',
  'trace_id',
  'trace_name',
  'trace_rating',
  'access_key_id',
  'enterprise_project_id',
] as const;

/** One entry per CTS v3 operation of the official client (cts-api.md §0.1 #1–#16, clients.md §1.3). */
export const CTS_OPERATIONS = {
  createTracker: { method: 'POST', url: '/v3/{project_id}/tracker', pathParams: [], queryParams: [], hasBody: true },
  updateTracker: { method: 'PUT', url: '/v3/{project_id}/tracker', pathParams: [], queryParams: [], hasBody: true },
  listTrackers: {
    method: 'GET',
    url: '/v3/{project_id}/trackers',
    pathParams: [],
    queryParams: ['tracker_name', 'tracker_type'],
    hasBody: false,
  },
  deleteTracker: {
    method: 'DELETE',
    url: '/v3/{project_id}/trackers',
    pathParams: [],
    queryParams: ['tracker_name', 'tracker_type'],
    hasBody: false,
  },
  listTraces: {
    method: 'GET',
    url: '/v3/{project_id}/traces',
    pathParams: [],
    queryParams: TRACE_QUERY,
    hasBody: false,
  },
  createNotification: {
    method: 'POST',
    url: '/v3/{project_id}/notifications',
    pathParams: [],
    queryParams: [],
    hasBody: true,
  },
  updateNotification: {
    method: 'PUT',
    url: '/v3/{project_id}/notifications',
    pathParams: [],
    queryParams: [],
    hasBody: true,
  },
  listNotifications: {
    method: 'GET',
    url: '/v3/{project_id}/notifications/{notification_type}',
    pathParams: ['notification_type'],
    queryParams: ['notification_name'],
    hasBody: false,
  },
  deleteNotification: {
    method: 'DELETE',
    url: '/v3/{project_id}/notifications',
    pathParams: [],
    queryParams: ['notification_id'],
    hasBody: false,
  },
  listQuotas: { method: 'GET', url: '/v3/{project_id}/quotas', pathParams: [], queryParams: [], hasBody: false },
  listOperations: {
    method: 'GET',
    url: '/v3/{project_id}/operations',
    pathParams: [],
    queryParams: ['service_type', 'resource_type'],
    hasBody: false,
  },
  listUserResources: {
    method: 'GET',
    url: '/v3/{project_id}/user-resources',
    pathParams: [],
    queryParams: [],
    hasBody: false,
  },
  listTraceResources: {
    method: 'GET',
    url: '/v3/{domain_id}/resources',
    pathParams: ['domain_id'],
    queryParams: [],
    hasBody: false,
  },
  checkObsBuckets: {
    method: 'POST',
    url: '/v3/{domain_id}/checkbucket',
    pathParams: ['domain_id'],
    queryParams: [],
    hasBody: true,
  },
  batchCreateResourceTags: {
    method: 'POST',
    url: '/v3/{project_id}/{resource_type}/{resource_id}/tags/create',
    pathParams: ['resource_type', 'resource_id'],
    queryParams: [],
    hasBody: true,
  },
  batchDeleteResourceTags: {
    method: 'DELETE',
    url: '/v3/{project_id}/{resource_type}/{resource_id}/tags/delete',
    pathParams: ['resource_type', 'resource_id'],
    queryParams: [],
    hasBody: true,
  },
  // Huawei-only tag and configuration operations (spec §1.9, §1.10): in the API reference and
  // terraform, not in the generated SDK 3.1.209–211; written from the API reference.
  createResourceTag: {
    method: 'POST',
    url: '/v3/{project_id}/{resource_type}/{resource_id}/tags',
    pathParams: ['resource_type', 'resource_id'],
    queryParams: [],
    hasBody: true,
  },
  listResourceTags: {
    method: 'GET',
    url: '/v3/{project_id}/{resource_type}/{resource_id}/tags',
    pathParams: ['resource_type', 'resource_id'],
    queryParams: [],
    hasBody: false,
  },
  listTags: {
    method: 'GET',
    url: '/v3/{project_id}/{resource_type}/tags',
    pathParams: ['resource_type'],
    queryParams: ['limit', 'marker'],
    hasBody: false,
  },
  listFilterResources: {
    method: 'POST',
    url: '/v3/{project_id}/{resource_type}/resource-instances/filter',
    pathParams: ['resource_type'],
    queryParams: ['limit', 'offset'],
    hasBody: true,
  },
  countFilterResources: {
    method: 'POST',
    url: '/v3/{project_id}/{resource_type}/resource-instances/count',
    pathParams: ['resource_type'],
    queryParams: [],
    hasBody: true,
  },
  showConfiguration: {
    method: 'GET',
    url: '/v3/{project_id}/configuration',
    pathParams: [],
    queryParams: [],
    hasBody: false,
  },
  updateConfiguration: {
    method: 'PUT',
    url: '/v3/{project_id}/configuration',
    pathParams: [],
    queryParams: [],
    hasBody: true,
  },
} as const satisfies Record<string, CtsOperationSpec>;

export type CtsOperationName = keyof typeof CTS_OPERATIONS;

// ---------------------------------------------------------------------------------------------------------------
// Wire types. Enumerated values are typed as `string` and bodies accept extra keys on purpose, so tests can send
// invalid values and client quirks (e.g. terraform's `aegncy_name`) without casts.
// ---------------------------------------------------------------------------------------------------------------

/** A JSON request body in wire shape. */
export interface WireObject {
  [key: string]: unknown;
}

/** Every resolved value: the parsed JSON body (or `{}` for empty / non-JSON bodies) plus the HTTP status. */
export type CtsResponse<T extends object = WireObject> = T & { httpStatusCode: number };

export interface TrackerObsInfoBody extends WireObject {
  bucket_name?: string;
  file_prefix_name?: string;
  is_obs_created?: boolean;
  bucket_lifecycle?: number;
  compress_type?: string;
  is_sort_by_service?: boolean;
}

export interface TrackerBody extends WireObject {
  tracker_type: string;
  tracker_name: string;
  /** Update only. */
  status?: string;
  agency_name?: string;
  is_organization_tracker?: boolean;
  management_event_selector?: { exclude_service?: string[] };
  is_lts_enabled?: boolean;
  obs_info?: TrackerObsInfoBody;
  is_support_trace_files_encryption?: boolean;
  kms_id?: string;
  is_support_validate?: boolean;
  data_bucket?: { data_bucket_name?: string; data_event?: string[] };
}

export interface Tracker extends WireObject {
  id?: string;
  create_time?: number;
  tracker_type?: string;
  tracker_name?: string;
  domain_id?: string;
  project_id?: string;
  status?: string;
  detail?: string;
  is_support_validate?: boolean;
  is_support_trace_files_encryption?: boolean;
  kms_id?: string;
  is_organization_tracker?: boolean;
  agency_name?: string;
  management_event_selector?: { exclude_service?: string[] };
  lts?: { is_lts_enabled?: boolean; log_group_name?: string; log_topic_name?: string };
  group_id?: string;
  stream_id?: string;
  obs_info?: {
    bucket_name?: string;
    file_prefix_name?: string;
    is_obs_created?: boolean;
    is_authorized_bucket?: boolean;
    bucket_lifecycle?: number;
    compress_type?: string;
    is_sort_by_service?: boolean;
    bucket_location?: string;
  };
  data_bucket?: { data_bucket_name?: string; search_enabled?: boolean; data_event?: string[] };
}

export interface TrackerQuery {
  tracker_name?: string;
  tracker_type?: string;
}

export interface ListTracesQuery {
  trace_type: string;
  limit?: number | string;
  from?: number | string;
  next?: string;
  to?: number | string;
  tracker_name?: string;
  service_type?: string;
  user?: string;
  resource_id?: string;
  resource_name?: string;
  resource_type?: string;
  trace_id?: string;
  trace_name?: string;
  trace_rating?: string;
  access_key_id?: string;
  enterprise_project_id?: string;
}

export interface Trace extends WireObject {
  trace_id?: string;
  trace_name?: string;
  trace_rating?: string;
  trace_type?: string;
  service_type?: string;
  resource_type?: string;
  resource_id?: string;
  resource_name?: string;
  request?: string;
  response?: string;
  code?: string;
  api_version?: string;
  message?: string;
  time?: number;
  record_time?: number;
  source_ip?: string;
  request_id?: string;
  location_info?: string;
  endpoint?: string;
  resource_url?: string;
  enterprise_project_id?: string;
  resource_account_id?: string;
  read_only?: boolean;
  operation_id?: string;
  user?: WireObject & {
    id?: string;
    name?: string;
    user_name?: string;
    domain?: { id?: string; name?: string };
    account_id?: string;
    access_key_id?: string;
    principal_urn?: string;
    principal_id?: string;
    principal_is_root_user?: string;
    type?: string;
    invoked_by?: string[];
  };
}

export interface ListTracesResult extends WireObject {
  traces: Trace[];
  meta_data: { count: number; marker: string | null };
}

export interface NotificationBody extends WireObject {
  /** Update only. */
  notification_id?: string;
  notification_name: string;
  operation_type: string;
  /** Update only (SDK-required there). */
  status?: string;
  operations?: { service_type: string; resource_type: string; trace_names: string[] }[];
  notify_user_list?: { user_group: string; user_list: string[] }[];
  topic_id?: string;
  filter?: { condition?: string; is_support_filter?: boolean; rule?: string[] };
  agency_name?: string;
}

export interface Notification extends WireObject {
  notification_id?: string;
  notification_name?: string;
  operation_type?: string;
  operations?: { service_type?: string; resource_type?: string; trace_names?: string[] }[];
  notify_user_list?: { user_group?: string; user_list?: string[] }[];
  status?: string;
  topic_id?: string;
  notification_type?: string;
  agency_name?: string;
  project_id?: string;
  domain_id?: string;
  create_time?: number;
  filter?: { condition?: string; is_support_filter?: boolean; rule?: string[] };
}

export interface ListNotificationsQuery {
  /** Path parameter: `smn` | `fun`. */
  notification_type: string;
  notification_name?: string;
}

export interface DeleteNotificationQuery {
  /** Comma-separated for batch delete (`n1,n2` is sent as `n1%2Cn2`). */
  notification_id: string;
}

export interface ListQuotasResult extends WireObject {
  resources: { type: string; used: number; quota: number }[];
}

export interface ListOperationsQuery {
  service_type?: string;
  resource_type?: string;
}

export interface ListOperationsResult extends WireObject {
  operations: { service_type: string; resource_type: string; operation_list: string[] }[];
}

export interface ListUserResourcesResult extends WireObject {
  users: { name: string }[];
}

export interface ListTraceResourcesResult extends WireObject {
  resources: { service_type: string; resource: string[] }[];
}

export interface CheckObsBucketsBody extends WireObject {
  buckets: (WireObject & {
    bucket_name: string;
    bucket_location: string;
    kms_id?: string;
    is_support_trace_files_encryption?: boolean;
  })[];
}

export interface CheckObsBucketsResult extends WireObject {
  buckets: (WireObject & {
    bucket_name?: string;
    bucket_location?: string;
    kms_id?: string;
    is_support_trace_files_encryption?: boolean;
    check_bucket_response?: { error_code?: string; error_message?: string; response_code?: number; success?: boolean };
  })[];
}

export interface ResourceTagsBody extends WireObject {
  tags: { key: string; value?: string }[];
}

export interface ResourceTagsRequest {
  /** Only `cts-tracker` is valid. */
  resource_type: string;
  /** Tracker id. */
  resource_id: string;
  body: ResourceTagsBody;
}

export interface ResourceFilterBody extends WireObject {
  without_any_tag?: boolean;
  tags?: { key: string; values?: string[] }[];
  matches?: { key: string; value?: string }[];
}

export interface ResourceFilterResult extends WireObject {
  resources: {
    resource_id: string;
    resource_name: string;
    resource_detail?: string;
    tags: { key: string; value: string }[];
  }[];
  total_count?: number;
}

export interface CtsConfigurationBody extends WireObject {
  is_sync_global_trace?: boolean;
  is_support_read_only?: boolean;
  support_read_only_services?: string[];
}

export interface CtsClient {
  /** The underlying SDK client, for hand-built requests. */
  readonly hcClient: HcClient;
  createTracker(body: TrackerBody): Promise<CtsResponse<Tracker>>;
  updateTracker(body: TrackerBody): Promise<CtsResponse>;
  listTrackers(query?: TrackerQuery): Promise<CtsResponse<{ trackers: Tracker[] }>>;
  deleteTracker(query?: TrackerQuery): Promise<CtsResponse>;
  listTraces(query: ListTracesQuery): Promise<CtsResponse<ListTracesResult>>;
  createNotification(body: NotificationBody): Promise<CtsResponse<Notification>>;
  updateNotification(body: NotificationBody): Promise<CtsResponse<Notification>>;
  listNotifications(query: ListNotificationsQuery): Promise<CtsResponse<{ notifications: Notification[] }>>;
  deleteNotification(query: DeleteNotificationQuery): Promise<CtsResponse>;
  listQuotas(): Promise<CtsResponse<ListQuotasResult>>;
  listOperations(query?: ListOperationsQuery): Promise<CtsResponse<ListOperationsResult>>;
  listUserResources(): Promise<CtsResponse<ListUserResourcesResult>>;
  listTraceResources(req: { domain_id: string }): Promise<CtsResponse<ListTraceResourcesResult>>;
  checkObsBuckets(req: { domain_id: string; body: CheckObsBucketsBody }): Promise<CtsResponse<CheckObsBucketsResult>>;
  batchCreateResourceTags(req: ResourceTagsRequest): Promise<CtsResponse>;
  batchDeleteResourceTags(req: ResourceTagsRequest): Promise<CtsResponse>;
  createResourceTag(req: {
    resource_type: string;
    resource_id: string;
    body: WireObject & { tag: { key: string; value?: string } };
  }): Promise<CtsResponse>;
  listResourceTags(req: {
    resource_type: string;
    resource_id: string;
  }): Promise<CtsResponse<{ tags: { key: string; value: string }[] }>>;
  listTags(req: {
    resource_type: string;
    limit?: number | string;
    marker?: string;
  }): Promise<CtsResponse<{ tags: { key: string; values: string[] }[]; page_info: { next_marker: string | null } }>>;
  listFilterResources(req: {
    resource_type: string;
    limit?: number | string;
    offset?: number | string;
    body: ResourceFilterBody;
  }): Promise<CtsResponse<ResourceFilterResult>>;
  countFilterResources(req: {
    resource_type: string;
    body: ResourceFilterBody;
  }): Promise<CtsResponse<{ total_count: number }>>;
  showConfiguration(): Promise<CtsResponse<Required<CtsConfigurationBody>>>;
  updateConfiguration(body: CtsConfigurationBody): Promise<CtsResponse>;
}

export interface CtsClientOptions {
  /** e.g. `http://127.0.0.1:8080` (trailing slashes are stripped: they would break the signature). */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  projectId: string;
  securityToken?: string;
  /**
   * Passed to `ClientBuilder.withOptions()`, e.g. `{ axiosRequestConfig: { httpsAgent: new https.Agent({ ca }) } }`
   * to trust a self-signed certificate (clients.md §1.2).
   */
  userOptions?: UserOptions;
}

// ---------------------------------------------------------------------------------------------------------------
// Request building, the way the generated clients do it
// ---------------------------------------------------------------------------------------------------------------

/**
 * Build the HcClient options for one operation. Query params are taken in table order and null/undefined ones are
 * omitted (the generated client does the same; the SDK signer would otherwise sign the string "undefined").
 * Requests without a body get no `data` at all, so nothing (not even `{}`) is sent or hashed.
 */
export function buildRequestOptions(
  operation: CtsOperationName,
  params: object = {},
  body?: object,
): HttpRequestOptions {
  const spec: CtsOperationSpec = CTS_OPERATIONS[operation];
  const input = params as Record<string, unknown>;
  const pathParams: Record<string, unknown> = {};
  for (const name of spec.pathParams) pathParams[name] = input[name];
  const queryParams: Record<string, unknown> = {};
  for (const name of spec.queryParams) {
    const value = input[name];
    if (value !== undefined && value !== null) queryParams[name] = value;
  }
  const options: HttpRequestOptions = {
    method: spec.method,
    url: spec.url,
    contentType: spec.hasBody ? CONTENT_TYPE_WITH_BODY : CONTENT_TYPE_NO_BODY,
    pathParams,
    queryParams,
    headers: {},
  };
  if (spec.hasBody) options.data = (body ?? {}) as Record<string, unknown>;
  return options;
}

async function send<T extends object>(
  hcClient: HcClient,
  operation: CtsOperationName,
  params?: object,
  body?: object,
): Promise<CtsResponse<T>> {
  const result = await hcClient.sendRequest<SdkResponse>(buildRequestOptions(operation, params, body));
  return result as CtsResponse<T>;
}

function bindClient(hcClient: HcClient): CtsClient {
  return {
    hcClient,
    createTracker: (body) => send(hcClient, 'createTracker', {}, body),
    updateTracker: (body) => send(hcClient, 'updateTracker', {}, body),
    listTrackers: (query = {}) => send(hcClient, 'listTrackers', query),
    deleteTracker: (query = {}) => send(hcClient, 'deleteTracker', query),
    listTraces: (query) => send(hcClient, 'listTraces', query),
    createNotification: (body) => send(hcClient, 'createNotification', {}, body),
    updateNotification: (body) => send(hcClient, 'updateNotification', {}, body),
    listNotifications: (query) => send(hcClient, 'listNotifications', query),
    deleteNotification: (query) => send(hcClient, 'deleteNotification', query),
    listQuotas: () => send(hcClient, 'listQuotas'),
    listOperations: (query = {}) => send(hcClient, 'listOperations', query),
    listUserResources: () => send(hcClient, 'listUserResources'),
    listTraceResources: (req) => send(hcClient, 'listTraceResources', req),
    checkObsBuckets: (req) => send(hcClient, 'checkObsBuckets', req, req.body),
    batchCreateResourceTags: (req) => send(hcClient, 'batchCreateResourceTags', req, req.body),
    batchDeleteResourceTags: (req) => send(hcClient, 'batchDeleteResourceTags', req, req.body),
    createResourceTag: (req) => send(hcClient, 'createResourceTag', req, req.body),
    listResourceTags: (req) => send(hcClient, 'listResourceTags', req),
    listTags: (req) => send(hcClient, 'listTags', req),
    listFilterResources: (req) => send(hcClient, 'listFilterResources', req, req.body),
    countFilterResources: (req) => send(hcClient, 'countFilterResources', req, req.body),
    showConfiguration: () => send(hcClient, 'showConfiguration'),
    updateConfiguration: (body) => send(hcClient, 'updateConfiguration', {}, body),
  };
}

/** Build a CTS client for a custom endpoint with AK/SK (+ optional security token) and a fixed project id. */
export function createCtsClient(opts: CtsClientOptions): CtsClient {
  const credentials = new BasicCredentials()
    .withAk(opts.accessKeyId)
    .withSk(opts.secretAccessKey)
    .withProjectId(opts.projectId);
  if (opts.securityToken !== undefined) credentials.withSecurityToken(opts.securityToken);
  // No withRegion(): with a region the SDK may call IAM to resolve the project id.
  const builder = new ClientBuilder<CtsClient>(bindClient)
    .withCredential(credentials)
    .withEndpoint(opts.endpoint.replace(/\/+$/, ''));
  if (opts.userOptions !== undefined) builder.withOptions(opts.userOptions);
  return builder.build();
}

// ---------------------------------------------------------------------------------------------------------------
// node:test helper
// ---------------------------------------------------------------------------------------------------------------

function describeValue(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Await `promise`, assert it rejected with an SDK `ServiceResponseException` (ClientRequestException for 4xx,
 * ServerResponseException for 5xx) carrying `httpStatusCode === status` and `errorCode === code`; return it.
 */
export async function expectCtsError(
  promise: Promise<unknown>,
  status: number,
  code: string,
): Promise<ServiceResponseException> {
  let result: unknown;
  try {
    result = await promise;
  } catch (err) {
    assert.ok(
      err instanceof ServiceResponseException,
      `expected a CTS error ${status} ${code}, got a non-SDK error: ${describeValue(err)}`,
    );
    const seen = `${String(err.httpStatusCode)} ${String(err.errorCode)} (${String(err.errorMsg)})`;
    assert.equal(err.httpStatusCode, status, `expected HTTP ${status} ${code}, got ${seen}`);
    assert.equal(err.errorCode, code, `expected HTTP ${status} ${code}, got ${seen}`);
    return err;
  }
  return assert.fail(`expected CTS error ${status} ${code}, but the call succeeded: ${describeValue(result)}`);
}
