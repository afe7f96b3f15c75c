/** Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document. */
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { CtsError } from '../../core/error-catalog.js';
import type { ObjectStore } from '../../delivery/object-store.js';
import type { Store } from '../../store/store.js';
import type { Metrics } from '../observability.js';

/**
 * How long an object-store probe answer is reused: a load balancer polling every second from
 * each of its nodes then costs the object store one request per instance every few seconds.
 */
export const OBJECT_STORE_PROBE_CACHE_MS = 5000;
/** A probe with no answer by then counts as down (an LB's health check times out soon after). */
const OBJECT_STORE_PROBE_TIMEOUT_MS = 2000;

/** The object store's last probe result, reused for OBJECT_STORE_PROBE_CACHE_MS; one probe in flight. */
function cachedProbe(objects: ObjectStore, now: () => number = Date.now): () => Promise<Error | undefined> {
  let last: { at: number; result: Promise<Error | undefined> } | undefined;
  return () => {
    if (last && now() - last.at < OBJECT_STORE_PROBE_CACHE_MS) return last.result;
    const result = objects.probe(OBJECT_STORE_PROBE_TIMEOUT_MS).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    last = { at: now(), result };
    return result;
  };
}

export function registerOperationalRoutes(
  app: FastifyInstance,
  deps: { store: Store; objects: ObjectStore; metrics: Metrics },
): void {
  const hidden = { hide: true } as const;
  const probeObjects = cachedProbe(deps.objects);
  app.get('/healthz', { schema: hidden }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: hidden }, async (request) => {
    const [storeError, objectsError] = await Promise.all([
      deps.store.ping().then(
        () => undefined,
        (err: unknown) => err,
      ),
      probeObjects(),
    ]);
    const down: string[] = [];
    if (storeError !== undefined) {
      request.log.warn({ err: storeError }, 'store not reachable');
      down.push('store');
    }
    if (objectsError !== undefined) {
      request.log.warn({ err: objectsError }, 'object store not reachable');
      down.push(`object store (${deps.objects.kind})`);
    }
    if (down.length > 0) throw new CtsError('CTS.9503', `Not reachable: ${down.join(', ')}.`);
    return { status: 'ready' };
  });
  app.get('/metrics', { schema: hidden }, async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  app.get('/openapi.json', { schema: hidden }, async () => app.swagger());
}
