/**
 * What the OpenCTS benchmarks share: paths, credentials made with the CLI, the server and the bare
 * Fastify server as child processes, a signed keep-alive HTTP client for sequential requests, and
 * a description of the machine for the report.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { signRequest } from '../../src/api/auth/sdk-hmac-sha256.js';
import { startChildServer, type ChildServer } from './child-server.js';
import { formatNumber } from './stats.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const OPENCTS_BIN = path.join(REPO_ROOT, 'bin', 'opencts.js');
export const BARE_FASTIFY = fileURLToPath(new URL('./bare-fastify-server.js', import.meta.url));
export const HOST = '127.0.0.1';
/** The store's file inside a data dir. */
export { DATABASE_FILE } from '../../src/runtime.js';

const execFileAsync = promisify(execFile);

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly projectId: string;
  readonly domainId: string;
}

/** `opencts credentials create … --json` on a data dir (creates the project when new). */
export async function createCredentials(
  dataDir: string,
  options: {
    role?: 'admin' | 'readonly' | 'service';
    projectId?: string;
    domainId?: string;
    user?: string;
    /** `--store` (a PostgreSQL URL); the data dir's own store when absent. */
    store?: string;
  } = {},
): Promise<Credentials> {
  const projectId = options.projectId ?? randomBytes(16).toString('hex');
  const domainId = options.domainId ?? randomBytes(16).toString('hex');
  const { stdout } = await execFileAsync(process.execPath, [
    OPENCTS_BIN,
    'credentials',
    'create',
    '--data-dir',
    dataDir,
    ...(options.store ? ['--store', options.store] : []),
    '--project-id',
    projectId,
    '--domain-id',
    domainId,
    '--user',
    options.user ?? 'bench',
    '--role',
    options.role ?? 'admin',
    '--json',
  ]);
  const issued = JSON.parse(stdout) as { access_key_id: string; secret_access_key: string; project_id: string };
  return {
    accessKeyId: issued.access_key_id,
    secretAccessKey: issued.secret_access_key,
    projectId: issued.project_id,
    domainId,
  };
}

export interface ServerOptions {
  readonly dataDir: string;
  /** Write a V8 CPU profile of the server into this folder (node --cpu-prof). */
  readonly cpuProfDir?: string | undefined;
  readonly logLevel?: string;
  readonly readyTimeoutMs?: number;
  /** `serve --durability` (the server's default when absent). */
  readonly durability?: 'normal' | 'full';
  /** `serve --store` (a PostgreSQL URL); the data dir's own store when absent. */
  readonly store?: string;
}

export function startOpenCts(options: ServerOptions): Promise<ChildServer> {
  const profArgs = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.cpuProfDir)}`] : [];
  return startChildServer({
    args: [
      ...profArgs,
      OPENCTS_BIN,
      'serve',
      '--data-dir',
      options.dataDir,
      '--host',
      HOST,
      '--port',
      '{port}',
      '--log-level',
      options.logLevel ?? 'warn',
      ...(options.durability ? ['--durability', options.durability] : []),
      ...(options.store ? ['--store', options.store] : []),
    ],
    host: HOST,
    readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
  });
}

export function startBareFastify(): Promise<ChildServer> {
  return startChildServer({ args: [BARE_FASTIFY, '--host', HOST, '--port', '{port}'], host: HOST });
}

export type Query = ReadonlyArray<readonly [string, string]>;

export function queryString(query: Query): string {
  return query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** Headers of a signed request (SDK-HMAC-SHA256), signed now. */
export function signedHeaders(
  credentials: Credentials,
  port: number,
  method: string,
  pathname: string,
  query: Query,
  body: string,
): Record<string, string> {
  const headers: Record<string, string> = {
    host: `${HOST}:${port}`,
    'content-type': 'application/json;charset=UTF-8',
    'x-project-id': credentials.projectId,
  };
  return { ...headers, ...signRequest({ method, path: pathname, query, headers, body }, credentials) };
}

export interface TimedResponse {
  readonly status: number;
  readonly body: string;
  /** From just before signing to the last byte of the response, ms. */
  readonly ms: number;
}

/**
 * Sequential signed requests over one keep-alive connection (node:http), each timed from before
 * signing to the last byte of the answer: the latency a client of the API sees.
 */
export class SignedClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly port: number,
    private readonly credentials: Credentials,
  ) {}

  /**
   * A GET on a kept-alive socket the server has just closed (its keep-alive timeout) fails with
   * ECONNRESET / "socket hang up" before anything was processed: it is sent again, once.
   */
  async request(method: string, pathname: string, query: Query = [], body?: unknown): Promise<TimedResponse> {
    try {
      return await this.attempt(method, pathname, query, body);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (method !== 'GET' || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw err;
      return this.attempt(method, pathname, query, body);
    }
  }

  private attempt(method: string, pathname: string, query: Query, body: unknown): Promise<TimedResponse> {
    const started = performance.now();
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = signedHeaders(this.credentials, this.port, method, pathname, query, text);
    const qs = queryString(query);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: HOST,
          port: this.port,
          method,
          path: qs ? `${pathname}?${qs}` : pathname,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(text)) },
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - started,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A signed request that must answer 2xx; returns the parsed JSON body (or undefined when empty). */
export async function mustRequest(
  client: SignedClient,
  method: string,
  pathname: string,
  query: Query = [],
  body?: unknown,
): Promise<unknown> {
  const res = await client.request(method, pathname, query, body);
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`${method} ${pathname} answered HTTP ${res.status}: ${res.body.slice(0, 500)}`);
  }
  return res.body === '' ? undefined : JSON.parse(res.body);
}

export function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return db.prepare('SELECT sqlite_version()').pluck().get() as string;
  } finally {
    db.close();
  }
}

export function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return '?';
  }
}

export function loadAverage(): string {
  return loadavg()
    .map((l) => formatNumber(l, 2))
    .join(' / ');
}

/** Versions and machine, for the report header. */
export function environment(): Record<string, string | number> {
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? '?',
    fastify: packageVersion('fastify'),
    betterSqlite3: packageVersion('better-sqlite3'),
    sqlite: sqliteVersion(),
    autocannon: packageVersion('autocannon'),
    date: new Date().toISOString(),
  };
}

export function describeEnvironment(env: Record<string, string | number>): string {
  return `Machine: ${env['cpus']} × ${env['cpuModel']}; Node ${env['node']}; fastify ${env['fastify']}, better-sqlite3 ${env['betterSqlite3']} (SQLite ${env['sqlite']}), autocannon ${env['autocannon']}.`;
}

export const progress = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

/** Positive number from a flag (0 allowed when asked). */
export function positive(name: string, raw: string, allowZero = false): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0))
    throw new Error(`--${name}: not a positive number: ${raw}`);
  return n;
}

export function positiveInteger(name: string, raw: string, allowZero = false): number {
  const n = positive(name, raw, allowZero);
  if (!Number.isInteger(n)) throw new Error(`--${name}: a whole number`);
  return n;
}

export function integerList(name: string, raw: string): number[] {
  return raw.split(',').map((c) => positiveInteger(name, c.trim()));
}

/** `50 %`, or `-` */
export function percent(ratio: number): string {
  return Number.isFinite(ratio) ? `${formatNumber(ratio * 100, 0)} %` : '-';
}

export function isEntryPoint(metaUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(metaUrl) === path.resolve(process.argv[1]);
}
