/** Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document. */
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { CtsError } from '../../core/error-catalog.js';
import type { Store } from '../../store/store.js';
import type { Metrics } from '../observability.js';

export function registerOperationalRoutes(app: FastifyInstance, deps: { store: Store; metrics: Metrics }): void {
  const hidden = { hide: true } as const;
  app.get('/healthz', { schema: hidden }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: hidden }, async (request) => {
    try {
      await deps.store.ping();
    } catch (err) {
      request.log.warn({ err }, 'store not reachable');
      throw new CtsError('CTS.9503', 'The store is not reachable.');
    }
    return { status: 'ready' };
  });
  app.get('/metrics', { schema: hidden }, async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  app.get('/openapi.json', { schema: hidden }, async () => app.swagger());
}
