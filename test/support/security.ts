/**
 * Helpers for the security tests (test/security/): raw HTTP calls with full control over what is
 * signed and what is sent (to forge and tamper with requests), `opencts serve` runs that may speak
 * HTTPS or refuse to start, the CLI's JSON output, and Prometheus counters.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { ERROR_CATALOG } from '../../src/core/error-catalog.js';
import {
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  formatSdkDate,
  sha256Hex,
  signatureHex,
  stringToSign,
} from '../../src/api/auth/sdk-hmac-sha256.js';
import { OPENCTS_BIN, REPO_ROOT, runCli, storeEnv } from './cli.js';

export interface RawCall {
  readonly method?: string;
  /** Path and raw query string exactly as sent, e.g. `/v3/p/trackers?tracker_name=a`. */
  readonly target: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Source address of the connection (any 127.0.0.0/8 address works on Linux). */
  readonly localAddress?: string;
}

export interface RawResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  readonly json: unknown;
}

/** One HTTP/1.1 request on a fresh connection, with exactly the headers given (plus Host, Content-Length). */
export function rawCall(baseUrl: string, call: RawCall): Promise<RawResult> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: call.method ?? 'GET',
        path: call.target,
        headers: call.headers ?? {},
        agent: false,
        ...(call.localAddress ? { localAddress: call.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (call.body !== undefined) req.write(call.body);
    req.end();
  });
}

export interface ForgeInput {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly method: string;
  /** Path as signed (no query). */
  readonly path: string;
  /** Query pairs as signed (decoded values). */
  readonly query?: ReadonlyArray<readonly [string, string]>;
  /** Headers that are sent and signed (lower-case names); `x-sdk-date` is added. */
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** When the request claims to have been signed (X-Sdk-Date). */
  readonly date?: Date;
  /** Names to leave out of SignedHeaders (the signature is computed without them, consistently). */
  readonly unsigned?: readonly string[];
}

/**
 * A correctly computed SDK-HMAC-SHA256 signature for `input` (the same algorithm as the SDK), returned
 * as the complete header set to send. Tests then change one thing before sending.
 */
export function forgeHeaders(input: ForgeInput): Record<string, string> {
  const sdkDate = formatSdkDate(input.date ?? new Date());
  const headers: Record<string, string> = { ...input.headers, 'x-sdk-date': sdkDate };
  const signed = Object.keys(headers)
    .filter((h) => !(input.unsigned ?? []).includes(h))
    .sort();
  const canonical = canonicalRequest({
    method: input.method,
    canonicalUri: canonicalUri(input.path.split('/')),
    canonicalQuery: canonicalQuery(input.query ?? []),
    signedHeaders: signed,
    headerValue: (name) => headers[name] ?? '',
    payloadHash: sha256Hex(input.body ?? ''),
  });
  const signature = signatureHex(input.secretAccessKey, stringToSign(sdkDate, canonical));
  return {
    ...headers,
    authorization: `SDK-HMAC-SHA256 Access=${input.accessKeyId}, SignedHeaders=${signed.join(';')}, Signature=${signature}`,
  };
}

/** The one answer every failed authentication gets, whatever went wrong. */
export const UNAUTHENTICATED_BODY = {
  error_code: 'CTS.9401',
  error_msg: ERROR_CATALOG['CTS.9401'].message,
} as const;

/** Asserts the exact 401 CTS body (nothing more: no field may tell why it failed). */
export function assertUnauthenticated(res: RawResult, what: string): void {
  assert.equal(res.status, 401, `${what}: expected 401, got ${res.status} ${res.text}`);
  assert.match(String(res.headers['content-type']), /^application\/json/, `${what}: JSON body`);
  assert.deepEqual(res.json, UNAUTHENTICATED_BODY, `${what}: body`);
}

/** Runs the CLI, asserts it succeeded, and parses its JSON output. */
export async function cliJson<T>(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  const res = await runCli(args, env);
  assert.equal(res.code, 0, `opencts ${args.join(' ')} failed: ${res.stderr}${res.stdout}`);
  return JSON.parse(res.stdout) as T;
}

/** Runs the CLI and asserts it succeeded. */
export async function cliOk(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const res = await runCli(args, env);
  assert.equal(res.code, 0, `opencts ${args.join(' ')} failed: ${res.stderr}${res.stdout}`);
  return res.stdout;
}

export type ServeOutcome =
  | { readonly listening: true; readonly url: string; readonly child: ChildProcess; stop(): Promise<void> }
  | { readonly listening: false; readonly code: number | string; readonly stdout: string; readonly stderr: string };

/**
 * Starts `opencts serve` on a free port (HTTP or HTTPS) and reports either where it listens or how it
 * ended. Unlike startServe (support/cli.ts) it also recognises `https://` and does not treat an exit
 * as an error: tests of refused configurations expect one.
 */
export function runServe(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 15_000,
): Promise<ServeOutcome> {
  const child = spawn(process.execPath, [OPENCTS_BIN, 'serve', '--port', '0', '--log-level', 'warn', ...args], {
    env: { ...process.env, ...storeEnv(args), ...env },
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve neither listened nor exited within ${timeoutMs} ms: ${stdout}${stderr}`));
    }, timeoutMs);
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ listening: true, url: m[1]!, child, stop });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      resolve({ listening: false, code, stdout, stderr });
    });
  });
}

/** Sum of a Prometheus counter over all its label sets (0 when absent). */
export function counterTotal(metricsText: string, name: string, labels?: Record<string, string>): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labelText = m[2] ?? '';
    if (labels && !Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    total += Number(m[3]);
  }
  return total;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
