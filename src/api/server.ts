/**
 * Builds the HTTP application from its dependencies. Nothing here opens files or sockets: the
 * composition root (src/runtime.ts) does, so tests can build a server around any store.
 */
import http from 'node:http';
import https from 'node:https';
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { uuidv7 } from '../core/ids.js';
import type { AuditRecorder } from '../service/audit-recorder.js';
import type { TokenService } from '../service/token-service.js';
import type { TraceService } from '../service/trace-service.js';
import type { TrackerService } from '../service/tracker-service.js';
import type { TagService } from '../service/tag-service.js';
import type { ConfigurationService } from '../service/configuration-service.js';
import type { CatalogueService } from '../service/catalogue-service.js';
import { registerTagRoutes } from './routes/tags.js';
import { collectSelfOperations, registerCatalogueRoutes, registerConfigurationRoutes } from './routes/catalogue.js';
import type { NotificationService } from '../service/notification-service.js';
import type { QuotaService } from '../service/quota-service.js';
import { registerNotificationRoutes } from './routes/notifications.js';
import { registerTopicRoutes } from './routes/topics.js';
import { registerTraceRoutes } from './routes/traces.js';
import { registerDigestKeyRoutes } from './routes/digest-keys.js';
import { registerCheckBucketRoutes } from './routes/checkbucket.js';
import { registerLegacyRoutes } from './routes/legacy.js';
import type { ObjectStore } from '../delivery/object-store.js';
import type { SigningKeys } from '../delivery/signing-keys.js';
import { registerAudit } from './audit.js';
import type { Store } from '../store/store.js';
import { registerAuthentication } from './auth/authenticate.js';
import { createAuthFailureLimiter } from './auth/failure-limiter.js';
import { parseRawQuery } from './auth/sdk-hmac-sha256.js';
import { handleClientError, registerErrorHandling, sendFrameworkError } from './errors.js';
import { registerJsonBodyParser } from './json-body.js';
import { createMetrics, registerObservability, type Metrics } from './observability.js';
import { registerOperationalRoutes } from './routes/operations.js';
import { registerTrackerRoutes } from './routes/trackers.js';
import { registerVersionRoutes } from './routes/versions.js';
import { registerValidators } from './validation.js';

export interface ServerDeps {
  readonly store: Store;
  readonly trackers: TrackerService;
  readonly tags: TagService;
  readonly configuration: ConfigurationService;
  readonly catalogue: CatalogueService;
  readonly traces: TraceService;
  readonly audit: AuditRecorder;
  readonly tokens: TokenService;
  readonly keys: SigningKeys;
  readonly objects: ObjectStore;
  readonly region: string;
  /** Failed authentications allowed per minute, per source address and per access key. */
  readonly authFailuresPerMinute: number;
  /** PEM key and certificate: serve HTTPS (real CTS is HTTPS only). */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
  readonly logger: FastifyBaseLogger;
  readonly bodyLimitBytes: number;
  /** Reverse proxies whose X-Forwarded-For gives the caller's address (traces' source_ip). */
  readonly trustedProxies?: readonly string[];
  readonly metrics?: Metrics;
  readonly notifications: NotificationService;
  readonly quotas: QuotaService;
}

/**
 * HTTP, or HTTPS when a key and certificate are given. Node would answer an HTTP/1.1 request
 * without Host with an empty 400; errors.ts answers it with a CTS error instead.
 */
/**
 * The query as the signature covers it (clients.md §4.1): `%XX` decoded, `+` kept as a plus. Fastify's
 * default parser reads `+` as a space, so a signed `user=a%2Bb` could be replayed as `user=a+b` (same
 * canonical query, same signature) and mean `a b`. Repeated keys become arrays, as before.
 */
function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of parseRawQuery(raw)) {
    const seen = query[key];
    query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

function createNodeServer(handler: http.RequestListener, tls: ServerDeps['tls']): http.Server {
  if (!tls) return http.createServer({ requireHostHeader: false }, handler);
  // An https.Server serves the same request/response API; Fastify's types only know one kind.
  return https.createServer(
    { key: tls.key, cert: tls.cert, requireHostHeader: false },
    handler,
  ) as unknown as http.Server;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    trustProxy: deps.trustedProxies && deps.trustedProxies.length > 0 ? [...deps.trustedProxies] : false,
    // One log line per request, written by the observability hook, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    bodyLimit: deps.bodyLimitBytes,
    genReqId: () => uuidv7(),
    requestIdHeader: false,
    // Reject ambiguous paths instead of guessing (`//v3`, `/v3/%2e%2e/`).
    routerOptions: {
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: false,
      maxParamLength: 200,
      querystringParser: parseQuery,
    },
    return503OnClosing: true,
    // Failures answered outside the hooks and error handler still get a CTS body and a request id.
    frameworkErrors: sendFrameworkError,
    clientErrorHandler: (error, socket) => handleClientError(error, socket, deps.logger),
    serverFactory: (handler) => createNodeServer(handler, deps.tls),
  });
  // Node would answer an unknown `Expect` with an empty 417; serve the request as if it were absent.
  app.server.on('checkExpectation', (req, res) => app.routing(req, res));
  const metrics = deps.metrics ?? createMetrics();

  registerErrorHandling(app);
  registerValidators(app);
  registerJsonBodyParser(app);
  registerObservability(app, metrics);
  registerAudit(app, deps.audit);
  registerAuthentication(app, {
    store: deps.store,
    tokens: deps.tokens,
    failures: await createAuthFailureLimiter(app, metrics.registry, deps.authFailuresPerMinute),
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'OpenCTS',
        description: 'Cloud Trace Service v3 API (Huawei Cloud / Open Telekom Cloud compatible)',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          'SDK-HMAC-SHA256': {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'AK/SK signature of the Huawei Cloud SDKs (SDK-HMAC-SHA256)',
          },
        },
      },
    },
  });

  collectSelfOperations(app, deps.catalogue);
  registerVersionRoutes(app);
  registerOperationalRoutes(app, { store: deps.store, objects: deps.objects, metrics });
  registerTrackerRoutes(app, deps.trackers);
  registerTraceRoutes(app, deps.traces);
  registerDigestKeyRoutes(app, deps.keys);
  registerCheckBucketRoutes(app, { objects: deps.objects, region: deps.region });
  registerLegacyRoutes(app, { trackers: deps.trackers, traces: deps.traces });
  registerTagRoutes(app, deps.tags);
  registerCatalogueRoutes(app, deps.catalogue);
  registerConfigurationRoutes(app, deps.configuration);
  registerNotificationRoutes(app, { notifications: deps.notifications, quotas: deps.quotas });
  registerTopicRoutes(app, deps.notifications);
  return app;
}
