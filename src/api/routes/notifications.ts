/** Key-event notification endpoints (spec §1.7) and quotas (§1.8): thin handlers over the services. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { NotificationInput } from '../../core/notification/notification.js';
import { parseNotificationIds } from '../../core/notification/notification-rules.js';
import { NOTIFICATION_OPERATIONS, type NotificationService } from '../../service/notification-service.js';
import type { QuotaService } from '../../service/quota-service.js';
import { requestFacts } from '../audit.js';
import { principalOf } from '../auth/authenticate.js';
import {
  CreateNotificationBody,
  DeleteNotificationQuery,
  ListNotificationsQuery,
  ListNotificationsResponse,
  ListQuotasResponse,
  NOTIFICATION_BODY_ERRORS,
  NotificationSchema,
  NotificationTypeParams,
  UpdateNotificationBody,
} from '../schemas/notification.js';
import { ErrorSchema, ProjectParams } from '../schemas/tracker.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const tags = ['notifications'];

export function registerNotificationRoutes(
  app: FastifyInstance,
  deps: { notifications: NotificationService; quotas: QuotaService },
): void {
  const { notifications, quotas } = deps;

  app.post(
    '/v3/:project_id/notifications',
    {
      config: {
        auth: 'project',
        fieldErrors: NOTIFICATION_BODY_ERRORS,
        operation: { ...NOTIFICATION_OPERATIONS.create, access: 'write' },
      },
      schema: {
        summary: 'CreateNotification',
        tags,
        params: ProjectParams,
        body: CreateNotificationBody,
        response: { 201: NotificationSchema, ...errors },
      },
    },
    async (request, reply) => {
      const n = await notifications.create(
        principalOf(request),
        request.body as NotificationInput,
        requestFacts(request),
      );
      return reply.code(201).send(n);
    },
  );

  app.put(
    '/v3/:project_id/notifications',
    {
      config: {
        auth: 'project',
        fieldErrors: NOTIFICATION_BODY_ERRORS,
        operation: { ...NOTIFICATION_OPERATIONS.update, access: 'write' },
      },
      schema: {
        summary: 'UpdateNotification',
        tags,
        params: ProjectParams,
        body: UpdateNotificationBody,
        response: { 200: NotificationSchema, ...errors },
      },
    },
    async (request) =>
      notifications.update(principalOf(request), request.body as NotificationInput, requestFacts(request)),
  );

  app.get(
    '/v3/:project_id/notifications/:notification_type',
    {
      config: { auth: 'project', operation: { ...NOTIFICATION_OPERATIONS.list, access: 'read' } },
      schema: {
        summary: 'ListNotifications',
        tags,
        params: NotificationTypeParams,
        querystring: ListNotificationsQuery,
        response: { 200: ListNotificationsResponse, ...errors },
      },
    },
    async (request) => {
      const { notification_type: type } = request.params as { notification_type: string };
      const { notification_name: name } = request.query as { notification_name?: string };
      return { notifications: await notifications.list(principalOf(request), type, name) };
    },
  );

  app.delete(
    '/v3/:project_id/notifications',
    {
      config: { auth: 'project', operation: { ...NOTIFICATION_OPERATIONS.delete, access: 'write' } },
      schema: {
        summary: 'DeleteNotification',
        tags,
        params: ProjectParams,
        querystring: DeleteNotificationQuery,
        response: { 204: Type.Null({ description: 'no content' }), ...errors },
      },
    },
    async (request, reply) => {
      const { notification_id: raw } = request.query as { notification_id: string[] };
      await notifications.remove(principalOf(request), parseNotificationIds(raw), requestFacts(request));
      return reply.code(204).send();
    },
  );

  app.get(
    '/v3/:project_id/quotas',
    {
      config: { auth: 'project', operation: { traceName: 'listQuotas', resourceType: 'quota', access: 'read' } },
      schema: {
        summary: 'ListQuotas',
        tags: ['quotas'],
        params: ProjectParams,
        response: { 200: ListQuotasResponse, ...errors },
      },
    },
    async (request) => ({ resources: await quotas.list(principalOf(request)) }),
  );
}
