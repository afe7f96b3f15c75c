/**
 * The HTTP layer of the two Terraform providers (clients.md §2, §4.4), for provider-shaped
 * conformance tests: neither Terraform nor Go can run here, so their requests are replayed as
 * golangsdk builds them, and judged by the status codes golangsdk accepts.
 *
 * - Signing: golangsdk signs the headers in `req.Header` at signing time (Accept, Content-Type,
 *   User-Agent, X-Sdk-Date), not Host, and adds X-Project-Id after signing, so it is sent unsigned.
 * - Query: canonicalised (sorted, strict percent-encoding) and sent in that form; repeated keys
 *   stay repeated (`notification_id=a&notification_id=b`).
 * - Body: golangsdk marshals a `map[string]interface{}`, so keys go out sorted, with `<`, `>`, `&`
 *   escaped as Go's encoding/json does.
 * - Success: only the provider's OK codes; anything else is the error the provider would report.
 */
import assert from 'node:assert/strict';
import { canonicalQuery } from '../../src/api/auth/sdk-hmac-sha256.js';
import { rawRequest, type RawResult } from './raw-signed-request.js';

export type Provider = 'huaweicloud' | 'opentelekomcloud';
export type ProviderMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Default OK codes (clients.md §2.1, §2.2): chnsz/golangsdk for huaweicloud, gophertelekomcloud for
 * opentelekomcloud, whose tracker and notification updates ask for exactly 200.
 */
export const PROVIDER_OK_CODES: Readonly<Record<Provider, Readonly<Record<ProviderMethod, readonly number[]>>>> = {
  huaweicloud: { GET: [200], POST: [200, 201, 202], PUT: [200, 201, 202], DELETE: [200, 202, 204] },
  opentelekomcloud: { GET: [200], POST: [201, 202], PUT: [200], DELETE: [202, 204] },
};

const USER_AGENT: Readonly<Record<Provider, string>> = {
  huaweicloud: 'terraform-provider-huaweicloud golangsdk',
  opentelekomcloud: 'terraform-provider-opentelekomcloud gophertelekomcloud',
};

export interface ProviderKey {
  readonly access_key_id: string;
  readonly secret_access_key: string;
  readonly project_id: string;
}

export interface ProviderCall {
  readonly method: ProviderMethod;
  readonly path: string;
  /** Pairs, so a key can repeat. */
  readonly query?: ReadonlyArray<readonly [string, string]>;
  readonly body?: unknown;
  /** The request's own `OkCodes`, where the provider sets them instead of golangsdk's defaults. */
  readonly okCodes?: readonly number[];
}

export interface ProviderResponse extends RawResult {
  readonly json: unknown;
  /** Whether the provider would take the call as successful. */
  readonly ok: boolean;
}

function goValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(goValue);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = goValue((value as Record<string, unknown>)[key]);
    return sorted;
  }
  return value;
}

/** encoding/json's output for a map: keys sorted, HTML-sensitive characters escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(goValue(value)).replace(
    /[<>&]/g,
    (c) => `\\u00${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

export class ProviderClient {
  constructor(
    readonly provider: Provider,
    private readonly baseUrl: string,
    private readonly key: ProviderKey,
  ) {}

  /** The project in every `/{project_id}/` path. */
  get projectId(): string {
    return this.key.project_id;
  }

  async request(call: ProviderCall): Promise<ProviderResponse> {
    const body = call.body === undefined ? undefined : goJson(call.body);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT[this.provider] };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await rawRequest(this.baseUrl, {
      method: call.method,
      path: call.path,
      rawQuery: canonicalQuery(call.query ?? []),
      headers,
      unsignedHeaders: { 'X-Project-Id': this.key.project_id },
      signHost: false,
      ...(body === undefined ? {} : { body }),
      key: this.key,
    });
    let json: unknown;
    try {
      json = res.text ? JSON.parse(res.text) : undefined;
    } catch {
      json = undefined;
    }
    return { ...res, json, ok: (call.okCodes ?? PROVIDER_OK_CODES[this.provider][call.method]).includes(res.status) };
  }

  /** The call as the provider makes it: fails the test where the provider would fail `terraform apply`. */
  async expectOk(call: ProviderCall): Promise<ProviderResponse> {
    const res = await this.request(call);
    assert.ok(
      res.ok,
      `${this.provider} would reject ${call.method} ${call.path}: ${res.status} ${res.text} ` +
        `(accepts ${(call.okCodes ?? PROVIDER_OK_CODES[this.provider][call.method]).join('/')})`,
    );
    return res;
  }
}

/** JMESPath-like read of a dotted path (`obs_info.bucket_name`), as the providers' PathSearch does. */
export function pathSearch(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
