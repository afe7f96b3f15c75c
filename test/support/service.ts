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
  options: { dataDir?: string; config?: Partial<Config>; credential?: IssuedCredential } = {},
): Promise<TestService> {
  const dataDir = options.dataDir ?? (await makeTempDir());
  const config = testConfig(dataDir, options.config);
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
    },
  };
}
