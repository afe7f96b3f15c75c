/**
 * Composition root: opens the store and the bucket folder of a data dir and wires the services.
 * The CLI and the tests both start OpenCTS through here.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { createMetrics } from './api/observability.js';
import { buildServer } from './api/server.js';
import { LtsSink } from './lts/lts-sink.js';
import type { Config } from './config.js';
import { DeliveryWorker } from './delivery/delivery-worker.js';
import type { ObjectStore } from './delivery/object-store.js';
import { SigningKeys } from './delivery/signing-keys.js';
import { openObjectStore } from './delivery/open-object-store.js';
import { AuditRecorder } from './service/audit-recorder.js';
import { IdentityService, type IssuedCredential } from './service/identity-service.js';
import { startRetentionPurge } from './service/retention.js';
import { TokenService } from './service/token-service.js';
import { TraceService } from './service/trace-service.js';
import { TrackerService } from './service/tracker-service.js';
import { TagService } from './service/tag-service.js';
import { ConfigurationService } from './service/configuration-service.js';
import { CatalogueService } from './service/catalogue-service.js';
import { loadOperationsCatalogue } from './service/operations-catalogue-file.js';
import { NotificationService } from './service/notification-service.js';
import { QuotaService } from './service/quota-service.js';
import { Notifier } from './notify/notifier.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const RETENTION_PURGE_INTERVAL_MS = 60_000;
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export { DATABASE_FILE, MASTER_KEY_FILE } from './store/open-store.js';
export { BUCKETS_DIR } from './delivery/open-object-store.js';
export const BOOTSTRAP_CREDENTIALS_FILE = 'credentials.json';
export const LTS_DIR = 'lts';

export interface Runtime {
  readonly config: Config;
  readonly store: Store;
  readonly identity: IdentityService;
  readonly audit: AuditRecorder;
  readonly traces: TraceService;
  readonly tokens: TokenService;
  readonly objects: ObjectStore;
  readonly keys: SigningKeys;
  readonly trackers: TrackerService;
  readonly tags: TagService;
  readonly configuration: ConfigurationService;
  readonly catalogue: CatalogueService;
  readonly notifications: NotificationService;
  readonly quotas: QuotaService;
  close(): Promise<void>;
}

export async function openRuntime(config: Config): Promise<Runtime> {
  // Read before anything is opened: a bad catalogue file stops the start with its message.
  const fileOperations = config.operationsCatalogue ? loadOperationsCatalogue(config.operationsCatalogue) : [];
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const { store, secrets } = await openStore(config);
  const objects: ObjectStore = openObjectStore(config);
  const audit = new AuditRecorder(store);
  return {
    config,
    store,
    audit,
    identity: new IdentityService(store),
    objects,
    keys: new SigningKeys(store, secrets),
    trackers: new TrackerService({ store, buckets: objects, region: config.region, audit }),
    traces: new TraceService({ store, retentionMs: config.retentionDays * DAY_MS }),
    notifications: new NotificationService({ store, audit }),
    quotas: new QuotaService(store),
    tokens: new TokenService(store, secrets),
    tags: new TagService(store, audit),
    configuration: new ConfigurationService(store, audit),
    catalogue: new CatalogueService({ store, fileOperations }),
    close: async () => {
      objects.close?.();
      await store.close();
    },
  };
}

/** Writes first-start credentials to a file only the owner can read; returns its path. */
export async function writeBootstrapCredentials(
  dataDir: string,
  credential: IssuedCredential,
  endpoint: string | undefined,
): Promise<string> {
  const file = path.join(dataDir, BOOTSTRAP_CREDENTIALS_FILE);
  const content = endpoint ? { ...credential, endpoint } : credential;
  await writeFile(file, JSON.stringify(content, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return file;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'opencts' } });
}

export interface RunningService {
  readonly runtime: Runtime;
  readonly app: FastifyInstance;
  /** `http://host:port` actually bound (port 0 resolves to the real port). */
  readonly url: string;
  readonly delivery: DeliveryWorker;
  readonly notifier: Notifier;
  /** Credentials created on first start, if this start created them. */
  readonly bootstrap?: { credential: IssuedCredential; file: string };
  close(): Promise<void>;
}

export async function startService(config: Config, logger: Logger = createLogger(config)): Promise<RunningService> {
  const runtime = await openRuntime(config);
  try {
    const metrics = createMetrics();
    const tls =
      config.tlsCert && config.tlsKey
        ? { cert: await readFile(config.tlsCert), key: await readFile(config.tlsKey) }
        : undefined;
    const scheme = tls ? 'https' : 'http';
    const app = await buildServer({
      store: runtime.store,
      trackers: runtime.trackers,
      tags: runtime.tags,
      configuration: runtime.configuration,
      catalogue: runtime.catalogue,
      audit: runtime.audit,
      traces: runtime.traces,
      tokens: runtime.tokens,
      keys: runtime.keys,
      objects: runtime.objects,
      region: config.region,
      metrics,
      authFailuresPerMinute: config.authFailuresPerMinute,
      ...(tls ? { tls } : {}),
      logger,
      bodyLimitBytes: config.bodyLimitBytes,
      trustedProxies: config.trustedProxies,
      notifications: runtime.notifications,
      quotas: runtime.quotas,
    });
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    // First-start credentials are written before the port opens: whoever waits for `GET /` to
    // answer can read them at once.
    const issued = await runtime.identity.bootstrap();
    const bootstrap = issued
      ? {
          credential: issued,
          file: await writeBootstrapCredentials(
            config.dataDir,
            issued,
            config.port === 0 ? undefined : `${scheme}://${host}:${config.port}`,
          ),
        }
      : undefined;
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const purge = startRetentionPurge(runtime.traces, RETENTION_PURGE_INTERVAL_MS, logger);
    const delivery = new DeliveryWorker({
      lts: new LtsSink({
        root: path.join(config.dataDir, LTS_DIR),
        store: runtime.store,
        registry: metrics.registry,
        logger,
        httpEndpoint: config.ltsHttpEndpoint,
      }),
      store: runtime.store,
      objects: runtime.objects,
      keys: runtime.keys,
      region: config.region,
      flushIntervalMs: config.flushIntervalMs,
      digestIntervalMs: config.digestIntervalMs,
      logger,
    });
    await runtime.keys.current(); // the signing key pair exists from the first start
    delivery.start();
    const notifier = new Notifier({ store: runtime.store, logger, retryBaseMs: config.notifyRetryBaseMs });
    notifier.start();
    let closing: Promise<void> | undefined;
    return {
      runtime,
      app,
      url: `${scheme}://${host}:${port}`,
      delivery,
      notifier,
      ...(bootstrap ? { bootstrap } : {}),
      close: () => {
        // Stop accepting, let in-flight requests finish, then flush and close the store.
        closing ??= app
          .close()
          .then(() => Promise.all([purge.stop(), delivery.stop(), notifier.stop()]))
          .then(() => runtime.close());
        return closing;
      },
    };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
