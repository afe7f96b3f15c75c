/**
 * The CLI's client for a running OpenCTS: signs each call with the same SDK-HMAC-SHA256 scheme
 * the Huawei SDKs use, from stored credentials.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { signRequest } from '../api/auth/sdk-hmac-sha256.js';

export interface ClientCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly projectId: string;
  readonly endpoint: string;
}

export interface ConnectionFlags {
  endpoint?: string;
  credentials?: string;
  dataDir?: string;
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

/** Adds --endpoint/--credentials/--data-dir to a command that talks to a running service. */
export function withConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--endpoint <url>', `service URL (env OPENCTS_ENDPOINT; default ${DEFAULT_ENDPOINT})`))
    .addOption(
      new Option(
        '--credentials <file>',
        'JSON file with access_key_id, secret_access_key, project_id (env OPENCTS_CREDENTIALS; default <data-dir>/credentials.json)',
      ),
    )
    .addOption(new Option('--data-dir <dir>', 'where to find credentials.json (default ./data)'));
}

/**
 * Credentials come from, first: HUAWEICLOUD_SDK_AK/SK/PROJECT_ID (the SDK's own variables), then
 * the credentials file (the one `serve` writes on first start by default).
 */
export function resolveClientCredentials(flags: ConnectionFlags, env = process.env): ClientCredentials {
  const ak = env['HUAWEICLOUD_SDK_AK'];
  const sk = env['HUAWEICLOUD_SDK_SK'];
  const project = env['HUAWEICLOUD_SDK_PROJECT_ID'];
  let file: Record<string, unknown> = {};
  if (!(ak && sk && project)) {
    const location =
      flags.credentials ?? env['OPENCTS_CREDENTIALS'] ?? path.join(flags.dataDir ?? 'data', 'credentials.json');
    try {
      file = JSON.parse(readFileSync(location, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`cannot read credentials from ${location}: ${(err as Error).message}`);
    }
  }
  const pick = (value: string | undefined, key: string): string => {
    const found = value ?? file[key];
    if (typeof found !== 'string' || found === '') throw new Error(`credentials lack ${key}`);
    return found;
  };
  const endpoint =
    flags.endpoint ?? env['OPENCTS_ENDPOINT'] ?? (typeof file['endpoint'] === 'string' ? file['endpoint'] : undefined);
  return {
    accessKeyId: pick(ak, 'access_key_id'),
    secretAccessKey: pick(sk, 'secret_access_key'),
    projectId: pick(project, 'project_id'),
    endpoint: (endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, ''),
  };
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(code ? `${code} ${message} (HTTP ${status})` : `HTTP ${status}: ${message}`);
  }
}

export interface ApiCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with `{project_id}` standing for the caller's project. */
  readonly path: string;
  readonly query?: Record<string, string | number | undefined>;
  readonly body?: unknown;
}

export class ApiClient {
  constructor(private readonly credentials: ClientCredentials) {}

  async call<T = unknown>(call: ApiCall): Promise<T> {
    const url = new URL(call.path.replace('{project_id}', this.credentials.projectId), this.credentials.endpoint);
    const query: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) query.push([k, String(v)]);
    const search = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const body = call.body === undefined ? '' : JSON.stringify(call.body);
    const headers: Record<string, string> = {
      host: url.host,
      'content-type': 'application/json',
      'x-project-id': this.credentials.projectId,
    };
    const signed = signRequest(
      { method: call.method, path: url.pathname, query, headers, body },
      { accessKeyId: this.credentials.accessKeyId, secretAccessKey: this.credentials.secretAccessKey },
    );
    const target = `${url.origin}${url.pathname}${search ? `?${search}` : ''}`;
    const res = await fetch(target, {
      method: call.method,
      headers: { ...headers, ...signed, 'user-agent': 'opencts-cli' },
      body: body === '' ? undefined : body,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = json as { error_code?: string; error_msg?: string } | undefined;
      throw new ApiError(res.status, err?.error_code, err?.error_msg ?? text);
    }
    return json as T;
  }
}

export function clientFrom(flags: ConnectionFlags): ApiClient {
  return new ApiClient(resolveClientCredentials(flags));
}
