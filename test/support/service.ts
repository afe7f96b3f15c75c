/**
 * Starts a real OpenCTS (real store in a temp data dir, real socket on a free port) for a test,
 * and removes everything afterwards.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { resolveConfig, type Config } from '../../src/config.js';
import { startService, type RunningService } from '../../src/runtime.js';
import type { IssuedCredential } from '../../src/service/identity-service.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export type StoreKind = 'sqlite' | 'postgres';

/** The store of test services that do not choose one: OPENCTS_TEST_STORE, else SQLite. */
export function defaultStoreKind(): StoreKind {
  return process.env['OPENCTS_TEST_STORE'] === 'postgres' ? 'postgres' : 'sqlite';
}

/** PostgreSQL databases of test data dirs: a restart on the same data dir finds the same one. */
const databases = new Map<string, TestDatabase>();

/**
 * The store URL of the test service whose data dir `arg` is or lies in, if it runs on
 * PostgreSQL: a command run on that data dir (tests/support/cli.ts) must open the same store.
 */
export function testStoreFor(arg: string): string | undefined {
  for (const [dataDir, database] of databases) {
    if (arg === dataDir || arg.startsWith(dataDir + path.sep)) return database.url;
  }
  return undefined;
}

export interface TestService {
  readonly url: string;
  readonly dataDir: string;
  readonly service: RunningService;
  /** An admin key of a fresh project created for this test. */
  readonly credential: IssuedCredential;
  /** Stops the server and keeps the data dir (for restart tests). */
  stop(): Promise<void>;
  /** Stops the server and deletes the data dir. */
  close(): Promise<void>;
}

/**
 * When set, every request a test server answers is appended to this file as a JSON line
 * `{"method","url","status"}`: test/conformance/operation-coverage.test.ts runs the conformance
 * tests with it to learn which operations really reached a server, and with what answer.
 */
export const REQUEST_LOG_ENV = 'OPENCTS_TEST_REQUEST_LOG';

export interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  readonly status: number;
}

function logRequests(service: RunningService, file: string): void {
  service.app.server.on('request', (req, res) => {
    res.once('finish', () => {
      const entry: LoggedRequest = { method: req.method ?? '', url: req.url ?? '', status: res.statusCode };
      appendFileSync(file, JSON.stringify(entry) + '\n');
    });
  });
}

export async function makeTempDir(prefix = 'opencts-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export function testConfig(dataDir: string, overrides: Partial<Config> = {}): Config {
  // Tests send many failing requests from one address on purpose; the limiter has its own test.
  return resolveConfig({
    flags: { dataDir, port: 0, logLevel: 'silent', authFailuresPerMinute: 1_000_000, ...overrides },
    env: {},
  });
}

export async function startTestService(
  options: { dataDir?: string; config?: Partial<Config>; credential?: IssuedCredential; store?: StoreKind } = {},
): Promise<TestService> {
  const dataDir = options.dataDir ?? (await makeTempDir());
  let database = databases.get(dataDir);
  if (!database && (options.store ?? defaultStoreKind()) === 'postgres') {
    database = await createTestDatabase();
    databases.set(dataDir, database);
  }
  const config = testConfig(dataDir, { ...(database ? { store: database.url } : {}), ...options.config });
  const service = await startService(config, pino({ level: 'silent' }));
  const requestLog = process.env[REQUEST_LOG_ENV];
  if (requestLog) logRequests(service, requestLog);
  const credential =
    options.credential ??
    (await service.runtime.identity.createCredential({
      projectId: '0123456789abcdef0123456789abcdef',
      domainId: 'fedcba9876543210fedcba9876543210',
      user: 'alice',
    }));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await service.close();
  };
  return {
    url: service.url,
    dataDir,
    service,
    credential,
    stop,
    close: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
      databases.delete(dataDir);
      await database?.drop();
    },
  };
}
