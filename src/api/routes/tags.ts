/**
 * Tag endpoints on trackers (spec §1.9): thin handlers over TagService. `{resource_type}` of the
 * API reference only accepts `cts-tracker`, so the routes name it literally: another resource
 * type is an unknown path (404 CTS.9404), and no parameter at that position can make a path of
 * another route ambiguous.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TAG_RESOURCE_TYPE, type ResourceFilter, type TagInput } from '../../core/tag/tags.js';
import { TAG_OPERATIONS, type TagService } from '../../service/tag-service.js';
import { requestFacts } from '../audit.js';
import { principalOf } from '../auth/authenticate.js';
import {
  BatchTagsBody,
  CountBody,
  CountResponse,
  FilterBody,
  FilterQuery,
  FilterResponse,
  ListTagsQuery,
  ListTagsResponse,
  ResourceParams,
  ResourceTagsResponse,
  SingleTagBody,
} from '../schemas/tags.js';
import { ErrorSchema, ProjectParams } from '../schemas/tracker.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const tags = ['tags'];
const DEFAULT_FILTER_LIMIT = 1000;
const BASE = `/v3/:project_id/${TAG_RESOURCE_TYPE}`;

/** The caller and the tracker a per-resource tag call is about (404 CTS.0214 comes from the service). */
function target(request: FastifyRequest): { caller: ReturnType<typeof principalOf>; trackerId: string } {
  return { caller: principalOf(request), trackerId: (request.params as { resource_id: string }).resource_id };
}

export function registerTagRoutes(app: FastifyInstance, service: TagService): void {
  app.post(
    `${BASE}/:resource_id/tags/create`,
    {
      config: { auth: 'project', operation: { ...TAG_OPERATIONS.batchCreate, access: 'write' } },
      schema: {
        summary: 'BatchCreateResourceTags',
        description:
          'Adds tags to a tracker; a key it already has takes the new value. Answers 200 with no body ' +
          '(golangsdk, which terraform uses, accepts only 200/201/202 for POST).',
        tags,
        params: ResourceParams,
        body: BatchTagsBody,
        response: { 200: Type.Null({ description: 'empty body' }), ...errors },
      },
    },
    async (request, reply) => {
      const { caller, trackerId } = target(request);
      const body = request.body as { tags?: TagInput[] };
      await service.createTags(caller, trackerId, body.tags ?? [], requestFacts(request));
      return reply.code(200).send();
    },
  );

  app.delete(
    `${BASE}/:resource_id/tags/delete`,
    {
      config: { auth: 'project', operation: { ...TAG_OPERATIONS.batchDelete, access: 'write' } },
      schema: {
        summary: 'BatchDeleteResourceTags',
        description: 'Deletes tags of a tracker: by key and value when a value is given, by key otherwise.',
        tags,
        params: ResourceParams,
        body: BatchTagsBody,
        response: { 204: Type.Null({ description: 'no content' }), ...errors },
      },
    },
    async (request, reply) => {
      const { caller, trackerId } = target(request);
      const body = (request.body ?? {}) as { tags?: TagInput[] };
      await service.deleteTags(caller, trackerId, body.tags ?? [], requestFacts(request));
      return reply.code(204).send();
    },
  );

  app.post(
    `${BASE}/:resource_id/tags`,
    {
      config: { auth: 'project', operation: { ...TAG_OPERATIONS.create, access: 'write' } },
      schema: {
        summary: 'CreateResourceTag',
        tags,
        params: ResourceParams,
        body: SingleTagBody,
        response: { 204: Type.Null({ description: 'no content' }), ...errors },
      },
    },
    async (request, reply) => {
      const { caller, trackerId } = target(request);
      const { tag } = request.body as { tag: TagInput };
      await service.createTags(caller, trackerId, [tag], requestFacts(request), TAG_OPERATIONS.create, 204);
      return reply.code(204).send();
    },
  );

  app.get(
    `${BASE}/:resource_id/tags`,
    {
      config: { auth: 'project', operation: { ...TAG_OPERATIONS.listOfResource, access: 'read' } },
      schema: {
        summary: 'ListResourcesTag',
        tags,
        params: ResourceParams,
        response: { 200: ResourceTagsResponse, ...errors },
      },
    },
    async (request) => {
      const { caller, trackerId } = target(request);
      return { tags: await service.tagsOf(caller, trackerId) };
    },
  );

  app.get(
    `${BASE}/tags`,
    {
      config: { auth: 'project', operation: { ...TAG_OPERATIONS.listOfType, access: 'read' } },
      schema: {
        summary: 'ListTags',
        description: "Every tag key of the project's trackers with its values, a page of keys at a time.",
        tags,
        params: ProjectParams,
        querystring: ListTagsQuery,
        response: { 200: ListTagsResponse, ...errors },
      },
    },
    async (request) => {
      const caller = principalOf(request);
      const query = request.query as { limit: number; marker?: string };
      const page = await service.listKeys(caller, query.limit, query.marker);
      return { tags: page.tags, page_info: { next_marker: page.next_marker, current_count: page.tags.length } };
    },
  );

  app.post(
    `${BASE}/resource-instances/filter`,
    {
      config: { auth: 'project', operation: { ...TAG_OPERATIONS.filter, access: 'read' } },
      schema: {
        summary: 'ListFilterResources',
        description:
          'Trackers whose tags match: every key given (values: any of them), resource_name containing ' +
          'the match value, or no tag at all with without_any_tag. limit/offset in the query or the body.',
        tags,
        params: ProjectParams,
        querystring: FilterQuery,
        body: FilterBody,
        response: { 200: FilterResponse, ...errors },
      },
    },
    async (request) => {
      const caller = principalOf(request);
      const query = request.query as { limit?: number; offset?: number };
      const body = (request.body ?? {}) as ResourceFilter & { limit?: number; offset?: number };
      const limit = query.limit ?? body.limit ?? DEFAULT_FILTER_LIMIT;
      const offset = query.offset ?? body.offset ?? 0;
      return service.filterResources(caller, body, offset, limit);
    },
  );

  app.post(
    `${BASE}/resource-instances/count`,
    {
      config: { auth: 'project', operation: { ...TAG_OPERATIONS.count, access: 'read' } },
      schema: {
        summary: 'CountFilterResources',
        description: 'How many trackers match the filter of ListFilterResources.',
        tags,
        params: ProjectParams,
        body: CountBody,
        response: { 200: CountResponse, ...errors },
      },
    },
    async (request) => {
      const caller = principalOf(request);
      return { total_count: await service.countResources(caller, (request.body ?? {}) as ResourceFilter) };
    },
  );
}
