/** Tracker endpoints (spec §1.2–§1.5): thin handlers over TrackerService. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TrackerInput } from '../../core/tracker/tracker.js';
import { TRACKER_OPERATIONS, type TrackerService } from '../../service/tracker-service.js';
import { requestFacts } from '../audit.js';
import { principalOf } from '../auth/authenticate.js';
import {
  CreateTrackerBody,
  ErrorSchema,
  ListTrackersResponse,
  ProjectParams,
  TRACKER_BODY_ERRORS,
  TRACKER_QUERY_ERRORS,
  TrackerQuery,
  TrackerSchema,
  UpdateTrackerBody,
} from '../schemas/tracker.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const tags = ['trackers'];

export function registerTrackerRoutes(app: FastifyInstance, trackers: TrackerService): void {
  app.post(
    '/v3/:project_id/tracker',
    {
      config: {
        auth: 'project',
        fieldErrors: TRACKER_BODY_ERRORS,
        operation: { ...TRACKER_OPERATIONS.create, access: 'write' },
      },
      schema: {
        summary: 'CreateTracker',
        tags,
        params: ProjectParams,
        body: CreateTrackerBody,
        response: { 201: TrackerSchema, ...errors },
      },
    },
    async (request, reply) => {
      const tracker = await trackers.create(principalOf(request), request.body as TrackerInput, requestFacts(request));
      return reply.code(201).send(tracker);
    },
  );

  app.put(
    '/v3/:project_id/tracker',
    {
      config: {
        auth: 'project',
        fieldErrors: TRACKER_BODY_ERRORS,
        operation: { ...TRACKER_OPERATIONS.update, access: 'write' },
      },
      schema: {
        summary: 'UpdateTracker',
        tags,
        params: ProjectParams,
        body: UpdateTrackerBody,
        response: { 200: Type.Null({ description: 'empty body' }), ...errors },
      },
    },
    async (request, reply) => {
      await trackers.update(principalOf(request), request.body as TrackerInput, requestFacts(request));
      // CTS answers 200 with an empty body (spec §1.3).
      return reply.code(200).send();
    },
  );

  app.get(
    '/v3/:project_id/trackers',
    {
      config: {
        auth: 'project',
        fieldErrors: TRACKER_QUERY_ERRORS,
        operation: { ...TRACKER_OPERATIONS.list, access: 'read' },
      },
      schema: {
        summary: 'ListTrackers',
        tags,
        params: ProjectParams,
        querystring: TrackerQuery,
        response: { 200: ListTrackersResponse, ...errors },
      },
    },
    async (request) => ({
      trackers: await trackers.list(principalOf(request), request.query as { tracker_name?: string }),
    }),
  );

  app.delete(
    '/v3/:project_id/trackers',
    {
      config: {
        auth: 'project',
        fieldErrors: TRACKER_QUERY_ERRORS,
        operation: { ...TRACKER_OPERATIONS.delete, access: 'write' },
      },
      schema: {
        summary: 'DeleteTracker',
        tags,
        params: ProjectParams,
        querystring: TrackerQuery,
        response: { 204: Type.Null({ description: 'no content' }), ...errors },
      },
    },
    async (request, reply) => {
      await trackers.remove(
        principalOf(request),
        request.query as { tracker_name?: string; tracker_type?: string },
        requestFacts(request),
      );
      return reply.code(204).send();
    },
  );
}
