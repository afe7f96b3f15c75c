/**
 * Generated hostile input against every operation in GET /openapi.json (operations added later
 * are fuzzed too, with nothing to update here). Each generated call picks an operation and
 * throws at it: arbitrary JSON (fc.json, fc.anything serialised), schema-shaped bodies with one
 * field replaced by anything, deep nesting (alone and inside an otherwise valid body), huge
 * strings, any Unicode including lone surrogates (JSON-escaped, or raw UTF-8 / latin1 bytes),
 * random bytes; arbitrary query keys and values (percent-encoded, or raw latin1 bytes in the
 * request line, duplicated, malformed escapes); arbitrary header values (whatever node:http
 * sends: tab and 0x20–0xFF), hostile path parameters, other methods. Most calls are signed with
 * a valid admin, readonly or service key (or a valid token), so they pass authentication and
 * reach validation and the services; the rest are unsigned or carry forged credentials.
 *
 * Invariants:
 * - no response has a status ≥ 500;
 * - every error body is exactly {error_code: /^CTS\.\d{4}$/, error_msg: string};
 *   success bodies are JSON (or empty);
 * - data: the project's trackers (read from the store after every call) change only across a
 *   call that the server acknowledged with a 2xx, and only on a write method; a refused call
 *   never leaves a trace of itself in the data. This is the choice for "data unchanged":
 *   the generators cannot avoid producing valid writes (DELETE /trackers with an unknown query
 *   parameter is a valid "delete all data trackers"), so instead of forbidding them every call
 *   is checked individually. At the end the API lists exactly the trackers the store holds, the
 *   traces reported before the fuzz are all still there byte-for-byte, and every other
 *   non-audit trace is one a 2xx ingest answered with;
 * - /healthz and /readyz answer 200 at the end.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ROLES, type Role } from '../../src/core/authz.js';
import type { IssuedCredential } from '../../src/service/identity-service.js';
import { assertProperty, fuzzSeed } from '../support/fuzz-seed.js';
import { fetchOperations, fillPath, schemaValue, type ApiOperation } from '../support/openapi-operations.js';
import { createAgent, rawRequest, type RawCall, type RawResult } from '../support/raw-signed-request.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';

const SEED = fuzzSeed(0xf022);
/** One generated call per run. */
const RUNS = 1200;
/** More runs as operations are added, so that every one is still fuzzed ≥ 50 times (uniform pick). */
const RUNS_PER_OPERATION = 75;
const MIN_CALLS = 1000;
const HOUR = 3_600_000;
const INGEST = 'POST /v3/{project_id}/traces';

/**
 * Valid request bodies of the operations this file knows, as starting points for mutation. An
 * operation without any (one added later) is fuzzed from its OpenAPI schema alone.
 */
function validSeeds(): Record<string, readonly unknown[]> {
  const trace = {
    time: Date.now() - 60_000,
    user: { name: 'alice' },
    service_type: 'ECS',
    resource_type: 'ecs',
    trace_name: 'createServer',
    trace_rating: 'normal',
    trace_type: 'ApiCall',
    request: { name: 'vm' },
  };
  return {
    'POST /v3/{project_id}/tracker': [
      { tracker_type: 'system', tracker_name: 'system' },
      { tracker_type: 'data', tracker_name: 'fz-1', data_bucket: { data_bucket_name: 'logs', data_event: ['READ'] } },
      { tracker_type: 'data', tracker_name: 'fz-2', data_bucket: { data_bucket_name: 'logs', data_event: ['WRITE'] } },
    ],
    'PUT /v3/{project_id}/tracker': [
      { tracker_type: 'system', tracker_name: 'system', status: 'enabled' },
      { tracker_type: 'system', tracker_name: 'system', is_lts_enabled: true, obs_info: { bucket_name: 'transfer' } },
      { tracker_type: 'data', tracker_name: 'photo-tracker', is_support_validate: true },
    ],
    'POST /v3/{project_id}/traces': [
      { traces: [trace] },
      { traces: [{ ...trace, trace_type: 'ObsAPI', resource_name: 'photos/a.jpg', read_only: true }] },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Hostile text
// ---------------------------------------------------------------------------------------------

const char = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCodePoint(c));

/** Any UTF-16 unit or code point, lone surrogates included, biased to what parsers trip on. */
const anyUnit = fc.oneof(
  { weight: 6, arbitrary: char(0x20, 0x7e) },
  { weight: 1, arbitrary: char(0x00, 0x1f) },
  { weight: 2, arbitrary: char(0x80, 0xffff) }, // includes 0xD800–0xDFFF: lone surrogates
  { weight: 2, arbitrary: char(0x10000, 0x10ffff) },
  { weight: 1, arbitrary: char(0xd800, 0xdfff) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('\u0000', '\u2028', '\ufeff', '\uffff', '%', '%zz', '%C0%AE', '\\', '"', "'", '..'),
  },
);

const hostileText = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: anyUnit, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'system',
      'data',
      'null',
      'true',
      '-1',
      '0',
      '1e3',
      '0x10',
      'NaN',
      'Infinity',
      '9999999999999999999999',
      '-0',
      ' 12 ',
      '__proto__',
      'constructor',
      '../../etc/passwd',
      '%00',
      '${jndi:x}',
      "' OR 1=1 --",
      '<script>',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 5000 }).map((n) => 'x'.repeat(n)) },
);

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD), RFC 3986 unreserved kept. */
function pct(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `s` as raw request-line bytes: what node:http sends as is (0x21–0xFF) stays, the rest is escaped. */
function rawTarget(s: string, reserved: string): string {
  let out = '';
  for (const c of s) {
    const code = c.charCodeAt(0);
    out += c.length === 1 && code >= 0x21 && code <= 0xff && !reserved.includes(c) ? c : pct(c);
  }
  return out;
}

/** Header values node:http accepts: tab and 0x20–0xFF except DEL. */
const headerValue = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.string({ unit: fc.oneof(char(0x20, 0x7e), char(0xa0, 0xff), fc.constant('\t')), maxLength: 60 }),
  },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 2000 }).map((n) => 'h'.repeat(n)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', 'application/json', 'null', '-1', '20191115T033655Z', 'Bearer x', '\t'),
  },
);

const headerName = fc
  .string({
    unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_!#$%&*+.^`|~'),
    minLength: 1,
    maxLength: 16,
  })
  .filter(
    (n) =>
      !['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade', 'te', 'trailer'].includes(n),
  );

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

type BodySpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'text'; readonly text: string; readonly encoding: 'utf8' | 'latin1' }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array };

function bodyBytes(spec: BodySpec): Buffer | undefined {
  if (spec.kind === 'none') return undefined;
  if (spec.kind === 'bytes') return Buffer.from(spec.bytes);
  return Buffer.from(spec.text, spec.encoding);
}

function serialise(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value); // BigInt and the like: not JSON, which is the point
  }
}

function deep(depth: number, kind: 'array' | 'object', inner = 'null'): string {
  return kind === 'array'
    ? '['.repeat(depth) + inner + ']'.repeat(depth)
    : '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}

/** Sets `value` at a random place in a JSON value (or returns it when there is no place). */
function plant(target: unknown, value: unknown, choice: number): unknown {
  if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
    const keys = Object.keys(target);
    const key = keys.length > 0 && choice % 3 !== 0 ? (keys[choice % keys.length] as string) : `x${choice}`;
    const current = (target as Record<string, unknown>)[key];
    return {
      ...target,
      [key]: current !== null && typeof current === 'object' ? plant(current, value, Math.floor(choice / 7)) : value,
    };
  }
  if (Array.isArray(target) && target.length > 0) {
    const copy = [...target];
    copy[choice % copy.length] = plant(copy[choice % copy.length], value, Math.floor(choice / 7));
    return copy;
  }
  return value;
}

function bodyArbitrary(
  op: ApiOperation,
  strings: fc.Arbitrary<string>,
  seeds: readonly unknown[],
): fc.Arbitrary<BodySpec> {
  const fromSchema = op.bodySchema ? schemaValue(op.bodySchema, strings) : fc.jsonValue({ maxDepth: 2 });
  // Mutating valid bodies gets further into the services than bodies built from the schema alone.
  const shaped =
    seeds.length > 0
      ? fc.oneof(
          fromSchema,
          fc.constantFrom(...seeds).map((v) => structuredClone(v)),
        )
      : fromSchema;
  const text = (arb: fc.Arbitrary<string>) =>
    fc.record({
      kind: fc.constant('text' as const),
      text: arb,
      encoding: fc.oneof(
        { weight: 9, arbitrary: fc.constant('utf8' as const) },
        { weight: 1, arbitrary: fc.constant('latin1' as const) },
      ),
    });
  const huge = fc
    .tuple(fc.integer({ min: 10_000, max: 600_000 }), fc.string({ unit: anyUnit, minLength: 1, maxLength: 8 }))
    .map(([n, s]) => s.repeat(Math.ceil(n / s.length)).slice(0, n));
  const nesting = fc.tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom('array' as const, 'object' as const));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) },
    { weight: 3, arbitrary: text(fc.json()) },
    { weight: 3, arbitrary: text(fc.anything({ maxDepth: 4 }).map(serialise)) },
    { weight: 4, arbitrary: text(shaped.map(serialise)) },
    {
      // A shaped body with one value replaced by anything, hostile text, or deep nesting.
      weight: 6,
      arbitrary: text(
        fc
          .tuple(
            shaped,
            fc.oneof(
              fc.anything({ maxDepth: 3 }),
              hostileText,
              huge.map((s) => s.slice(0, 70_000)),
            ),
            fc.nat(),
          )
          .map(([value, replacement, choice]) => serialise(plant(value, replacement, choice))),
      ),
    },
    {
      weight: 2,
      arbitrary: text(
        fc.tuple(shaped, nesting).map(([value, [depth, kind]]) => {
          const json = serialise(value);
          // Deep nesting inside an otherwise valid object: the part that once crashed the recorder.
          return json.startsWith('{') && json !== '{}'
            ? `${json.slice(0, -1)},"zz":${deep(depth, kind)}}`
            : deep(depth, kind, json || 'null');
        }),
      ),
    },
    {
      // Deep JSON inside a string field (ingest parses JSON text found in request/response).
      weight: 1,
      arbitrary: text(
        fc
          .tuple(shaped, fc.integer({ min: 100, max: 20_000 }), fc.nat())
          .map(([value, depth, choice]) => serialise(plant(value, deep(depth, 'array', '{"password":"p"}'), choice))),
      ),
    },
    { weight: 1, arbitrary: text(huge) },
    { weight: 1, arbitrary: text(huge.map((s) => JSON.stringify({ tracker_type: 'data', tracker_name: s }))) },
    { weight: 2, arbitrary: text(fc.string({ unit: anyUnit, maxLength: 200 })) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------

function errorCode(json: unknown): string {
  return String((json as { error_code?: unknown } | undefined)?.error_code ?? '');
}

type Auth = Role | 'token' | 'unsigned' | 'forged' | 'bad-token';

interface FuzzCall {
  readonly op: string;
  readonly method: string;
  readonly auth: Auth;
  /** Each path parameter's value as it goes into the request line. */
  readonly pathParams: Readonly<Record<string, string>>;
  readonly trailingSlash: boolean;
  readonly rawQuery: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: BodySpec;
}

describe('fuzzing every operation (property)', () => {
  let svc: TestService;
  let agent: http.Agent;
  let operations: ApiOperation[];
  let projectId: string;
  let domainId: string;
  let keys: Record<Role, IssuedCredential>;
  let token: string;
  const stats = {
    calls: 0,
    byOp: new Map<string, number>(),
    byStatus: new Map<number, number>(),
    authenticated: 0,
    acceptedWrites: 0,
    ingestedIds: new Set<string>(),
    auditChecked: 0,
    restores: 0,
  };
  let baselineTraces: Map<string, string>;
  const recentCalls: string[] = [];

  const trackersNow = async () => JSON.stringify(await svc.service.runtime.store.listTrackers(projectId));

  function systemRecording(trackersJson: string): boolean {
    return (JSON.parse(trackersJson) as Array<{ tracker_type: string; status: string }>).some(
      (t) => t.tracker_type === 'system' && t.status !== 'disabled',
    );
  }

  /** A write route called on this project with its own method: its failures are recorded. */
  function isAuditedWrite(call: FuzzCall): boolean {
    const op = operations.find((o) => o.key === call.op) as ApiOperation;
    return (
      ['POST', 'PUT', 'DELETE'].includes(op.method) &&
      call.method === op.method &&
      call.op !== INGEST &&
      call.pathParams['project_id'] === projectId
    );
  }

  async function recentAuditTrace(requestId: string): Promise<boolean> {
    const page = await svc.service.runtime.store.listTraces({
      projectId,
      eventType: 'system',
      trackerName: 'system',
      from: Date.now() - HOUR,
      to: Date.now() + HOUR,
      limit: 3,
      filters: { service_type: 'CTS' },
    });
    return page.wire.some((w) => (JSON.parse(w) as { request_id?: string }).request_id === requestId);
  }

  /** An accepted write may have deleted or disabled the system tracker: put it back for the audit checks. */
  async function restoreSystemTracker(): Promise<void> {
    const trackers = JSON.parse(await trackersNow()) as Array<{ tracker_type: string; status: string }>;
    const system = trackers.find((t) => t.tracker_type === 'system');
    if (system?.status === 'enabled') return;
    const res = system
      ? await signedFetch(svc.url, keys.admin, {
          method: 'PUT',
          path: `/v3/${projectId}/tracker`,
          body: { tracker_type: 'system', tracker_name: 'system', status: 'enabled' },
        })
      : await signedFetch(svc.url, keys.admin, {
          path: `/v3/${projectId}/tracker`,
          body: { tracker_type: 'system', tracker_name: 'system' },
        });
    assert.ok(res.status === 200 || res.status === 201, res.text);
    stats.restores++;
  }

  /** Every trace not recorded by OpenCTS about itself (service CTS), as serialised JSON by id. */
  async function reportedTraces(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const traceType of ['system', 'data']) {
      let next: string | undefined;
      do {
        const res = await signedFetch(svc.url, keys.readonly, {
          path: `/v3/${projectId}/traces`,
          query: { trace_type: traceType, limit: 200, from: Date.now() - 6 * 24 * HOUR, to: Date.now() + HOUR, next },
        });
        assert.equal(res.status, 200, res.text);
        const page = res.json as { traces: Array<Record<string, unknown>>; meta_data: { marker: string | null } };
        for (const t of page.traces) {
          if (t['service_type'] !== 'CTS') out.set(`${traceType}:${String(t['trace_id'])}`, JSON.stringify(t));
        }
        next = page.meta_data.marker ?? undefined;
      } while (next);
    }
    return out;
  }

  before(async () => {
    svc = await startTestService();
    agent = createAgent();
    projectId = svc.credential.project_id;
    domainId = svc.credential.domain_id;
    keys = { admin: svc.credential } as Record<Role, IssuedCredential>;
    for (const role of ['readonly', 'service'] as const) {
      keys[role] = await svc.service.runtime.identity.createCredential({
        projectId,
        domainId,
        user: `fuzz-${role}`,
        role,
      });
    }
    token = (await svc.service.runtime.tokens.issue({ user: svc.credential.user, projectId, ttlMs: 4 * HOUR })).token;
    for (const bucket of ['photos', 'logs', 'transfer'])
      await mkdir(path.join(svc.dataDir, 'buckets', bucket), { recursive: true });
    const create = async (body: unknown) => {
      const res = await signedFetch(svc.url, keys.admin, { path: `/v3/${projectId}/tracker`, body });
      assert.equal(res.status, 201, res.text);
    };
    await create({ tracker_type: 'system', tracker_name: 'system', obs_info: { bucket_name: 'transfer' } });
    await create({
      tracker_type: 'data',
      tracker_name: 'photo-tracker',
      data_bucket: { data_bucket_name: 'photos', data_event: ['READ', 'WRITE'] },
    });
    const traces = [0, 1, 2].map((i) => ({
      time: Date.now() - (5 + i) * 60_000,
      user: { name: 'alice', id: 'u-alice' },
      service_type: 'ECS',
      resource_type: 'ecs',
      resource_name: i === 2 ? 'photos/cat.jpg' : `vm-${i}`,
      trace_name: i === 2 ? 'PUT.OBJECT' : 'createServer',
      trace_rating: 'normal',
      trace_type: i === 2 ? 'ObsAPI' : 'ApiCall',
      ...(i === 2 ? { read_only: false, service_type: 'OBS' } : {}),
    }));
    const res = await signedFetch(svc.url, keys.service, { path: `/v3/${projectId}/traces`, body: { traces } });
    assert.equal(res.status, 201, res.text);
    operations = await fetchOperations(svc.url);
    baselineTraces = await reportedTraces();
    assert.equal(baselineTraces.size, 3);
  });

  after(async () => {
    agent?.destroy();
    await svc?.close();
  });

  function callArbitrary(): fc.Arbitrary<FuzzCall> {
    const seeds = validSeeds();
    // Realistic values mixed in, so that some generated calls are valid (and get further).
    const strings = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          'system',
          'data',
          'photos',
          'logs',
          'transfer',
          'photo-tracker',
          'fz-1',
          'ECS',
          'createServer',
          'photos/x',
        ),
      },
      { weight: 2, arbitrary: hostileText },
    );
    const pathValue = (name: string) =>
      fc.oneof(
        {
          weight: 12,
          arbitrary: fc.constant(
            name === 'project_id' ? projectId : name === 'domain_id' ? domainId : name === 'version' ? 'v3' : 'x',
          ),
        },
        { weight: 2, arbitrary: hostileText.map(pct) },
        { weight: 1, arbitrary: hostileText.map((s) => rawTarget(s, '/?#')) },
        { weight: 1, arbitrary: fc.constantFrom('.', '..', '%2e%2e', '%', '%zz', '%00', 'a'.repeat(300), '%2F', ';x') },
      );
    const queryFor = (op: ApiOperation) => {
      const names = fc.oneof(
        {
          weight: 4,
          arbitrary:
            op.queryParams.length > 0 ? fc.constantFrom(...op.queryParams.map((q) => q.name)) : fc.constant('limit'),
        },
        { weight: 1, arbitrary: hostileText },
        { weight: 1, arbitrary: fc.constantFrom('trace_type[]', 'limit', 'next', '__proto__', 'tracker_name') },
      );
      const values = (name: string) => {
        const param = op.queryParams.find((q) => q.name === name);
        return fc.oneof(
          { weight: 3, arbitrary: param ? schemaValue(param.schema, strings).map((v) => String(v)) : hostileText },
          { weight: 4, arbitrary: hostileText },
          { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }).map((d) => String(Date.now() + d * HOUR)) },
        );
      };
      const pair = names.chain((name) =>
        fc
          .tuple(fc.constant(name), values(name), fc.constantFrom('pct', 'raw', 'raw', 'bare'))
          .map(([k, v, how]) =>
            how === 'pct'
              ? `${pct(k)}=${pct(v)}`
              : how === 'raw'
                ? `${rawTarget(k, '#&=')}=${rawTarget(v, '#&')}`
                : rawTarget(k, '#&'),
          ),
      );
      return fc
        .tuple(
          fc.array(pair, { maxLength: 6 }),
          fc.oneof(
            { weight: 6, arbitrary: fc.constant('') },
            { weight: 1, arbitrary: fc.constantFrom('&', '&&', '=', '%', '%zz', ';', '?') },
          ),
        )
        .map(([pairs, junk]) => pairs.join('&') + junk);
    };
    const headers = fc
      .record(
        {
          'content-type': fc.oneof(
            {
              weight: 6,
              arbitrary: fc.constantFrom(
                'application/json',
                'application/json;charset=UTF-8',
                'application/json; charset=latin1',
              ),
            },
            {
              weight: 2,
              arbitrary: fc.constantFrom(
                'text/plain',
                'application/x-www-form-urlencoded',
                'multipart/form-data; boundary=x',
                'application/JSON',
                '*/*',
                'application/json-patch+json',
              ),
            },
            { weight: 1, arbitrary: headerValue },
          ),
          'x-project-id': fc.oneof(
            { weight: 4, arbitrary: fc.constant(projectId) },
            { weight: 1, arbitrary: headerValue },
          ),
          'user-agent': headerValue,
          'x-forwarded-for': headerValue,
          'x-security-token': headerValue,
          'x-sdk-content-sha256': fc.constantFrom(
            'UNSIGNED-PAYLOAD',
            '',
            'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          ),
          accept: headerValue,
          'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', '*', 'gzip;q=0'),
          'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x'),
        },
        { requiredKeys: [] },
      )
      .chain((known) =>
        fc.dictionary(headerName, headerValue, { maxKeys: 3 }).map((extra) => ({ ...extra, ...known })),
      );
    const auth = fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom<Auth>(...ROLES) },
      { weight: 2, arbitrary: fc.constant<Auth>('token') },
      { weight: 1, arbitrary: fc.constantFrom<Auth>('unsigned', 'forged', 'bad-token') },
    );
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
    return fc.constantFrom(...operations).chain((op) =>
      fc.record({
        op: fc.constant(op.key),
        method: fc.oneof(
          { weight: 12, arbitrary: fc.constant(op.method) },
          { weight: 1, arbitrary: fc.constantFrom(...methods) },
        ),
        auth,
        pathParams: fc.record(Object.fromEntries(op.pathParams.map((n) => [n, pathValue(n)]))) as fc.Arbitrary<
          Record<string, string>
        >,
        trailingSlash: fc.oneof(
          { weight: 12, arbitrary: fc.constant(false) },
          { weight: 1, arbitrary: fc.constant(true) },
        ),
        rawQuery: queryFor(op),
        headers,
        body: bodyArbitrary(op, strings, seeds[op.key] ?? []),
      }),
    );
  }

  function toRawCall(call: FuzzCall): RawCall {
    const op = operations.find((o) => o.key === call.op) as ApiOperation;
    const reqPath = fillPath(op.path, call.pathParams) + (call.trailingSlash ? '/' : '');
    const headers: Record<string, string> = { ...call.headers };
    const base = { method: call.method, path: reqPath, rawQuery: call.rawQuery, headers, body: bodyBytes(call.body) };
    switch (call.auth) {
      case 'admin':
      case 'readonly':
      case 'service':
        return { ...base, key: keys[call.auth] };
      case 'token':
        return { ...base, headers: { ...headers, 'x-auth-token': token } };
      case 'bad-token':
        return { ...base, headers: { ...headers, 'x-auth-token': `${token.slice(0, -4)}AAAA` } };
      case 'forged':
        // A valid-looking signature by a key that exists, with the wrong secret.
        return { ...base, key: { access_key_id: keys.admin.access_key_id, secret_access_key: 'not-the-secret' } };
      case 'unsigned':
        return base;
    }
  }

  function summary(call: FuzzCall, res: RawResult | undefined): string {
    const body = bodyBytes(call.body);
    const shown = {
      ...call,
      body: body === undefined ? undefined : `${body.length} bytes: ${body.subarray(0, 300).toString('latin1')}`,
    };
    return `call ${JSON.stringify(shown)}\nanswer ${res ? `${res.status} ${res.text.slice(0, 500)}` : '(none)'}`;
  }

  test(`≥ ${MIN_CALLS} hostile calls: no 5xx, CTS error bodies, no change but by accepted writes`, async (t) => {
    t.diagnostic(`seed ${SEED}; operations: ${operations.map((o) => o.key).join(', ')}`);
    await assertProperty(
      fc.asyncProperty(callArbitrary(), async (call) => {
        const before = await trackersNow();
        let res: RawResult;
        try {
          res = await rawRequest(svc.url, toRawCall(call), agent);
        } catch (err) {
          throw new Error(`no answer: ${String(err)}\n${summary(call, undefined)}`, { cause: err });
        }
        const afterCall = await trackersNow();
        stats.calls++;
        stats.byOp.set(call.op, (stats.byOp.get(call.op) ?? 0) + 1);
        stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
        if (res.status !== 401 && res.status !== 429 && ['admin', 'readonly', 'service', 'token'].includes(call.auth)) {
          stats.authenticated++;
        }
        const previous = recentCalls.join('\n');
        recentCalls.push(summary(call, res));
        if (recentCalls.length > 3) recentCalls.shift();
        // Earlier calls share the keep-alive connections: show them too.
        const context = () => `${summary(call, res)}\nafter\n${previous}`;

        assert.ok(res.status >= 200 && res.status < 500, `status ${res.status}\n${context()}`);
        const bodyless = call.method === 'HEAD' || res.status === 204;
        let json: unknown;
        if (!bodyless && res.text !== '') {
          try {
            json = JSON.parse(res.text);
          } catch {
            assert.fail(`answer is not JSON\n${context()}`);
          }
        }
        if (res.status >= 400 && !bodyless) {
          const error = json as Record<string, unknown>;
          assert.ok(error !== null && typeof error === 'object' && !Array.isArray(error), `error body\n${context()}`);
          assert.deepEqual(Object.keys(error).sort(), ['error_code', 'error_msg'], `error body\n${context()}`);
          assert.match(String(error['error_code']), /^CTS\.\d{4}$/, context());
          assert.equal(typeof error['error_msg'], 'string', context());
          assert.match(String(res.headers['content-type']), /^application\/json/, context());
        }
        const write = !['GET', 'HEAD', 'OPTIONS'].includes(call.method);
        const accepted = res.status >= 200 && res.status < 300 && write;
        if (afterCall !== before) {
          assert.ok(accepted, `trackers changed by a call answered ${res.status}\n${context()}`);
        }
        if (accepted) stats.acceptedWrites++;
        if (accepted && call.op === INGEST && res.status === 201) {
          for (const id of (json as { trace_ids: Array<string | null> }).trace_ids) if (id) stats.ingestedIds.add(id);
        }
        // A refused write to this project leaves its trace, whatever the input (audit.ts): a body
        // the recorder cannot handle must not make the attempt invisible.
        // Requests Node's HTTP parser refuses never reach the application (errors.ts handleClientError
        // answers them on the raw socket and closes it): there is no route, hence no trace.
        const refusedByParser = res.headers['connection'] === 'close' && /^CTS\.94(00|08|31)$/.test(errorCode(json));
        if (
          isAuditedWrite(call) &&
          res.status >= 400 &&
          res.status !== 429 &&
          !refusedByParser &&
          systemRecording(afterCall)
        ) {
          const requestId = String(res.headers['x-request-id']);
          assert.ok(await recentAuditTrace(requestId), `no trace of the refused write ${requestId}\n${context()}`);
          stats.auditChecked++;
        }
        if (accepted) await restoreSystemTracker();
      }),
      { seed: SEED, numRuns: Math.max(RUNS, operations.length * RUNS_PER_OPERATION) },
    );

    // The API shows what the store holds; reported traces are the old ones plus accepted ingests.
    const listed = await signedFetch(svc.url, keys.admin, { path: `/v3/${projectId}/trackers` });
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual((listed.json as { trackers: unknown }).trackers, JSON.parse(await trackersNow()));
    const traces = await reportedTraces();
    for (const [id, json] of baselineTraces)
      assert.equal(traces.get(id), json, `reported trace ${id} changed or vanished`);
    for (const id of traces.keys()) {
      const traceId = id.slice(id.indexOf(':') + 1);
      assert.ok(baselineTraces.has(id) || stats.ingestedIds.has(traceId), `trace ${id} from nowhere`);
    }
    for (const probe of ['/healthz', '/readyz']) {
      const res = await fetch(new URL(probe, svc.url));
      assert.equal(res.status, 200, probe);
    }

    assert.ok(stats.calls >= MIN_CALLS, `${stats.calls} calls`);
    for (const op of operations) assert.ok((stats.byOp.get(op.key) ?? 0) >= 50, `${op.key} fuzzed`);
    assert.ok(stats.authenticated >= stats.calls / 3, `${stats.authenticated} calls got past authentication`);
    t.diagnostic(
      `${stats.calls} generated calls; ${stats.authenticated} authenticated; ${stats.acceptedWrites} accepted writes ` +
        `(system tracker restored ${stats.restores} times); ${stats.auditChecked} refused writes checked for their trace`,
    );
    t.diagnostic(`by status ${JSON.stringify(Object.fromEntries([...stats.byStatus].sort((a, b) => a[0] - b[0])))}`);
    t.diagnostic(`by operation ${JSON.stringify(Object.fromEntries(stats.byOp))}`);
  });
  // What the fuzz found first (fixed in json-body.ts and redact.ts), pinned as plain examples.
  test('deep nesting: refused with CTS.0003 and still recorded, never a 500, never stored unredacted', async () => {
    const put = (extra: string) =>
      rawRequest(
        svc.url,
        {
          method: 'PUT',
          path: `/v3/${projectId}/tracker`,
          headers: { 'content-type': 'application/json' },
          body: `{"tracker_type":"system","tracker_name":"system","status":"enabled","zz":${extra}}`,
          key: keys.admin,
        },
        agent,
      );
    await restoreSystemTracker();
    const shallow = await put(deep(100, 'array'));
    assert.equal(shallow.status, 200, shallow.text);
    for (const depth of [129, 3_000, 100_000]) {
      for (const kind of ['array', 'object'] as const) {
        const before = await trackersNow();
        const res = await put(deep(depth, kind));
        assert.equal(res.status, 400, res.text);
        assert.equal(errorCode(JSON.parse(res.text)), 'CTS.0003');
        assert.equal(await trackersNow(), before);
        assert.ok(await recentAuditTrace(String(res.headers['x-request-id'])), 'the refused write has its trace');
      }
    }
    // JSON text in a reported trace is parsed to redact it: too deep to redact is refused, not stored as is.
    const res = await signedFetch(svc.url, keys.service, {
      path: `/v3/${projectId}/traces`,
      body: {
        traces: [
          {
            time: Date.now(),
            user: { name: 'alice' },
            service_type: 'ECS',
            resource_type: 'ecs',
            trace_name: 'deepSecret',
            trace_rating: 'normal',
            trace_type: 'ApiCall',
            request: deep(20_000, 'array', '{"password":"hunter2"}'),
          },
        ],
      },
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(errorCode(res.json), 'CTS.0003');
    const stored = await signedFetch(svc.url, keys.readonly, {
      path: `/v3/${projectId}/traces`,
      query: { trace_type: 'system', trace_name: 'deepSecret', limit: 200, from: Date.now() - HOUR },
    });
    assert.deepEqual((stored.json as { traces: unknown[] }).traces, []);
  });
});
