/**
 * OpenCTS extensions for self-hosted notification targets: topics (a topic URN mapped to a
 * webhook with its signing secret) and the dead-letter list of messages no webhook accepted.
 * Topics are admin only (`write`), listing included: a webhook URL often embeds a token.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { DeadLetter } from '../../store/store.js';
import {
  NOTIFICATION_OPERATIONS,
  TOPIC_OPERATIONS,
  type NotificationService,
} from '../../service/notification-service.js';
import { requestFacts } from '../audit.js';
import { principalOf } from '../auth/authenticate.js';
import {
  CreatedTopicSchema,
  CreateTopicBody,
  DeleteTopicQuery,
  ListFailuresResponse,
  ListTopicsResponse,
  RetryFailuresBody,
  RetryFailuresResponse,
} from '../schemas/notification.js';
import { ErrorSchema, ProjectParams } from '../schemas/tracker.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const tags = ['extensions'];
export const TOPICS_PATH = '/opencts/v1/:project_id/topics';
export const FAILURES_PATH = '/opencts/v1/:project_id/notifications/failures';

/** A dead letter as listed: the message body stays in the store (it holds the whole trace). */
export function failureView(l: DeadLetter) {
  return {
    id: l.id,
    notification_id: l.notification_id,
    notification_name: l.notification_name,
    topic_id: l.topic_urn,
    trace_id: l.trace_id,
    attempts: l.attempts,
    last_error: l.last_error,
    failed_at: l.failed_at,
    retry_requested_at: l.retry_requested_at,
  };
}

export function registerTopicRoutes(app: FastifyInstance, notifications: NotificationService): void {
  app.post(
    TOPICS_PATH,
    {
      config: { auth: 'project', operation: { ...TOPIC_OPERATIONS.create, access: 'write' } },
      schema: {
        summary: 'CreateTopic (OpenCTS extension)',
        description:
          "Registers a topic URN of the caller's project (`urn:smn:…` or `urn:fss:…:function:default:…`) as a " +
          'webhook. The answer holds the HMAC secret of the X-OpenCTS-Signature header, shown only once.',
        tags,
        params: ProjectParams,
        body: CreateTopicBody,
        response: { 201: CreatedTopicSchema, ...errors },
      },
    },
    async (request, reply) => {
      const created = await notifications.createTopic(
        principalOf(request),
        request.body as { urn: string; url: string },
        requestFacts(request),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    TOPICS_PATH,
    {
      config: { auth: 'project', operation: { ...TOPIC_OPERATIONS.list, access: 'write' } },
      schema: {
        summary: 'ListTopics (OpenCTS extension)',
        tags,
        params: ProjectParams,
        response: { 200: ListTopicsResponse, ...errors },
      },
    },
    async (request) => ({ topics: await notifications.listTopics(principalOf(request)) }),
  );

  app.delete(
    TOPICS_PATH,
    {
      config: { auth: 'project', operation: { ...TOPIC_OPERATIONS.delete, access: 'write' } },
      schema: {
        summary: 'DeleteTopic (OpenCTS extension)',
        description: 'Refused while an enabled notification sends to the topic.',
        tags,
        params: ProjectParams,
        querystring: DeleteTopicQuery,
        response: { 204: Type.Null({ description: 'no content' }), ...errors },
      },
    },
    async (request, reply) => {
      const { urn } = request.query as { urn: string };
      await notifications.deleteTopic(principalOf(request), urn, requestFacts(request));
      return reply.code(204).send();
    },
  );

  app.get(
    FAILURES_PATH,
    {
      config: { auth: 'project', operation: { ...NOTIFICATION_OPERATIONS.failures, access: 'read' } },
      schema: {
        summary: 'ListNotificationFailures (OpenCTS extension)',
        description: 'Messages whose webhook failed 5 attempts in a row (the dead-letter list), oldest first.',
        tags,
        params: ProjectParams,
        response: { 200: ListFailuresResponse, ...errors },
      },
    },
    async (request) => ({ failures: (await notifications.failures(principalOf(request))).map(failureView) }),
  );

  app.post(
    `${FAILURES_PATH}/retry`,
    {
      config: { auth: 'project', operation: { ...NOTIFICATION_OPERATIONS.retry, access: 'write' } },
      schema: {
        summary: 'RetryNotificationFailures (OpenCTS extension)',
        description: 'Sends the given dead letters (all when `ids` is omitted) again, with their idempotency keys.',
        tags,
        params: ProjectParams,
        body: RetryFailuresBody,
        response: { 200: RetryFailuresResponse, ...errors },
      },
      // `POST …/retry` with no body at all means "all of them", like `{}` (runs after authentication).
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const body = request.body as { ids?: string[] } | undefined;
      return { retried: await notifications.retry(principalOf(request), body?.ids, requestFacts(request)) };
    },
  );
}
