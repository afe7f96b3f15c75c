/**
 * Hostile input: hundreds of malformed or abusive requests, sent through a real socket to one
 * running server. Every answer must be a 4xx CTS error — `{"error_code":"CTS.dddd","error_msg":…}`
 * with a JSON content type and an X-Request-Id — never a 2xx, never a 5xx, never a stack trace or
 * a file path. Afterwards the server must still serve, and the stored trackers must be exactly
 * what they were before the barrage.
 *
 * Requests are written byte by byte on raw TCP connections (node:net), so the test can send what
 * HTTP clients refuse to: bad Content-Length, raw `..` paths, invalid UTF-8, duplicate headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  formatSdkDate,
  parseRawQuery,
  sha256Hex,
  signatureHex,
  signRequest,
  stringToSign,
} from '../../src/api/auth/sdk-hmac-sha256.js';
import type { IssuedCredential } from '../../src/service/identity-service.js';
import { startTestService } from '../support/service.js';

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client
// ---------------------------------------------------------------------------------------------

interface RawResponse {
  readonly status: number;
  /** Lower-case header names; every value received, in order. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: Buffer;
}

/** The first final (non-1xx) response in `data`, or undefined while it is incomplete. */
function parseResponse(data: Buffer, closed: boolean): RawResponse | undefined {
  let start = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', start);
    if (headEnd === -1) return undefined;
    const lines = data.subarray(start, headEnd).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3}) /.exec(lines[0] ?? '');
    if (!statusLine) throw new Error(`malformed status line ${JSON.stringify(lines[0])}`);
    const status = Number(statusLine[1]);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed response header ${JSON.stringify(line)}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    const rest = data.subarray(headEnd + 4);
    if (status >= 100 && status < 200) {
      start = headEnd + 4; // `100 Continue`: the final response follows
      continue;
    }
    if (/chunked/i.test((headers.get('transfer-encoding') ?? []).join(','))) {
      const chunks: Buffer[] = [];
      let at = 0;
      for (;;) {
        const sizeEnd = rest.indexOf('\r\n', at);
        if (sizeEnd === -1) return undefined;
        const size = Number.parseInt(rest.subarray(at, sizeEnd).toString('latin1'), 16);
        if (size === 0) return { status, headers, body: Buffer.concat(chunks) };
        if (rest.length < sizeEnd + 2 + size + 2) return undefined;
        chunks.push(rest.subarray(sizeEnd + 2, sizeEnd + 2 + size));
        at = sizeEnd + 2 + size + 2;
      }
    }
    const length = headers.get('content-length');
    if (length) {
      const n = Number(length[0]);
      return rest.length >= n ? { status, headers, body: rest.subarray(0, n) } : undefined;
    }
    return closed ? { status, headers, body: rest } : undefined;
  }
}

/** Writes `bytes` on a fresh connection and resolves with the first complete response. */
function exchange(port: number, bytes: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = (response: RawResponse | undefined, error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (response) resolve(response);
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const attempt = (closed: boolean, cause?: unknown) => {
      try {
        const response = parseResponse(received, closed);
        if (response || closed) {
          settle(
            response,
            cause ?? new Error(`connection closed after ${received.length} bytes without a complete response`),
          );
        }
      } catch (err) {
        settle(undefined, err);
      }
    };
    const timer = setTimeout(() => settle(undefined, new Error('no response within 10 s')), 10_000);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      attempt(false);
    });
    // EPIPE/ECONNRESET while a large body is still being written is fine once the answer is in.
    socket.on('error', (err) => attempt(true, err));
    socket.on('close', () => attempt(true));
    socket.write(bytes);
  });
}

// ---------------------------------------------------------------------------------------------
// Building and signing requests
// ---------------------------------------------------------------------------------------------

type Header = readonly [name: string, value: string];

interface RawRequest {
  readonly method: string;
  /** Request target exactly as sent (path and query, never normalised). */
  readonly target: string;
  /** Sent in order; duplicates allowed. Host, Content-Length and Connection are added unless present. */
  readonly headers: readonly Header[];
  readonly body: Buffer;
  /** `chunked` sends the body with Transfer-Encoding: chunked; `none` adds no framing header. */
  readonly framing?: 'length' | 'chunked' | 'none';
  /** Raw bytes to send instead of anything built from the fields above. */
  readonly raw?: Buffer;
}

const JSON_WITH_BODY = 'application/json;charset=UTF-8';
const JSON_NO_BODY = 'application/json';

function serialise(request: RawRequest, host: string): Buffer {
  if (request.raw) return request.raw;
  const has = (name: string) => request.headers.some(([n]) => n.toLowerCase() === name);
  const lines = [`${request.method} ${request.target} HTTP/1.1`];
  if (!has('host')) lines.push(`Host: ${host}`);
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const framing = request.framing ?? 'length';
  if (framing === 'length' && !has('content-length') && (request.body.length > 0 || request.method !== 'GET')) {
    lines.push(`Content-Length: ${request.body.length}`);
  }
  if (framing === 'chunked') lines.push('Transfer-Encoding: chunked');
  if (!has('connection')) lines.push('Connection: close');
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  if (framing !== 'chunked') return Buffer.concat([head, request.body]);
  const parts: Buffer[] = [head];
  const CHUNK = 1024 * 1024;
  for (let at = 0; at < request.body.length; at += CHUNK) {
    const piece = request.body.subarray(at, at + CHUNK);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

function splitTarget(target: string): { path: string; query: string } {
  const at = target.indexOf('?');
  return at === -1 ? { path: target, query: '' } : { path: target.slice(0, at), query: target.slice(at + 1) };
}

interface Signer {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const signerOf = (c: IssuedCredential): Signer => ({
  accessKeyId: c.access_key_id,
  secretAccessKey: c.secret_access_key,
});

interface CallOptions {
  readonly body?: string | Buffer | object;
  /** Content-Type to send (and sign); null sends none. Defaults to what the SDK sends. */
  readonly contentType?: string | null;
  /** X-Project-Id to send (and sign); null sends none. Defaults to the signer's project. */
  readonly projectHeader?: string | null;
  /** Signs with this key; null leaves the request unsigned. Defaults to the test's admin key. */
  readonly signer?: Signer | null;
  readonly date?: Date;
  /** Headers sent but not signed (added after signing). */
  readonly extraHeaders?: readonly Header[];
  /** Applied to the final header list, after signing: tampering. */
  readonly tamper?: (headers: Header[]) => Header[];
  readonly framing?: RawRequest['framing'];
}

function bodyBytes(body: CallOptions['body']): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Checking answers
// ---------------------------------------------------------------------------------------------

interface Expectation {
  /** Allowed statuses (always within 4xx); any 4xx when absent. */
  readonly status?: readonly number[];
  /** Allowed error codes; any CTS.dddd when absent. */
  readonly code?: string | readonly string[];
}

/** Things that must never reach the wire: stack frames, source paths, framework and driver internals. */
const LEAKS: readonly RegExp[] = [
  /\n\s+at\s/,
  /\bat [\w.<>]+ \(/,
  /node_modules/,
  /node:internal/,
  /file:\/\//,
  /\/(?:work|tmp|home|usr|src|dist)\//,
  /\.[cm]?[jt]s:\d+/,
  /FST_ERR|ERR_[A-Z_]{4,}|HPE_|SQLITE|TypeError|RangeError|SyntaxError/,
  /"statusCode"/,
];

function assertCtsError(response: RawResponse, expect: Expectation): void {
  assert.ok(response.status >= 400 && response.status <= 499, `status ${response.status} is not a 4xx`);
  if (expect.status) {
    assert.ok(expect.status.includes(response.status), `status ${response.status}, expected one of ${expect.status}`);
  }
  const contentType = response.headers.get('content-type') ?? [];
  assert.equal(contentType.length, 1, `content-type headers: ${JSON.stringify(contentType)}`);
  assert.match(contentType[0] ?? '', /^application\/json(?:\s*;|$)/i);
  const requestIds = response.headers.get('x-request-id') ?? [];
  assert.equal(requestIds.length, 1, 'exactly one x-request-id header');
  assert.match(requestIds[0] ?? '', /^\S{8,}$/);
  assert.ok(response.body.length <= 2048, `error body of ${response.body.length} bytes echoes the input`);
  const text = response.body.toString('utf8');
  for (const leak of LEAKS) assert.doesNotMatch(text, leak, 'internal detail in the error body');
  const parsed = JSON.parse(text) as unknown;
  assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), 'body is a JSON object');
  assert.deepEqual(Object.keys(parsed).sort(), ['error_code', 'error_msg']);
  const { error_code: code, error_msg: message } = parsed as Record<string, unknown>;
  assert.equal(typeof code, 'string');
  assert.match(code as string, /^CTS\.\d{4}$/);
  assert.equal(typeof message, 'string');
  assert.notEqual(message, '');
  if (expect.code !== undefined) {
    const allowed = [expect.code].flat();
    assert.ok(allowed.includes(code as string), `error_code ${String(code)}, expected one of ${allowed.join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Value tables
// ---------------------------------------------------------------------------------------------

const OTHER_PROJECT = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const OTHER_DOMAIN = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const BODY_LIMIT = 12 * 1024 * 1024;

/**
 * A data tracker that the server accepts (it is created after the barrage): every body below is
 * this document with one thing broken, so the broken thing is what gets it refused.
 */
const PROBE_DOC = {
  tracker_type: 'data',
  tracker_name: 'hostile-probe',
  is_lts_enabled: true,
  is_support_validate: false,
  data_bucket: { data_bucket_name: 'hostile-src', data_event: ['READ', 'WRITE'] },
  obs_info: {
    bucket_name: 'hostile-dst',
    file_prefix_name: 'hostile',
    is_obs_created: false,
    bucket_lifecycle: 30,
    compress_type: 'gzip',
    is_sort_by_service: true,
  },
  agency_name: 'cts_admin_trust',
} as const;
const PROBE_JSON = JSON.stringify(PROBE_DOC);

/** The existing data tracker that update (PUT) bodies address. */
const UPDATE_KEY = { tracker_type: 'data', tracker_name: 'before-data' } as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A deep copy of `doc` with the value at `path` replaced (or removed when `value` is undefined). */
function withField(doc: object, path: readonly string[], value: Json | undefined): Record<string, Json> {
  const copy = structuredClone(doc) as Record<string, Json>;
  let node: Record<string, Json> = copy;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, Json>;
  }
  const last = path[path.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

type FieldType = 'string' | 'boolean' | 'integer' | 'object' | 'array';

/** Every field of the create/update body, with the JSON type the API documents for it (spec §1.2). */
const TRACKER_FIELDS: ReadonlyArray<readonly [readonly string[], FieldType]> = [
  [['tracker_type'], 'string'],
  [['tracker_name'], 'string'],
  [['agency_name'], 'string'],
  [['is_organization_tracker'], 'boolean'],
  [['management_event_selector'], 'object'],
  [['management_event_selector', 'exclude_service'], 'array'],
  [['is_lts_enabled'], 'boolean'],
  [['obs_info'], 'object'],
  [['obs_info', 'bucket_name'], 'string'],
  [['obs_info', 'file_prefix_name'], 'string'],
  [['obs_info', 'is_obs_created'], 'boolean'],
  [['obs_info', 'bucket_lifecycle'], 'integer'],
  [['obs_info', 'compress_type'], 'string'],
  [['obs_info', 'is_sort_by_service'], 'boolean'],
  [['is_support_trace_files_encryption'], 'boolean'],
  [['kms_id'], 'string'],
  [['is_support_validate'], 'boolean'],
  [['data_bucket'], 'object'],
  [['data_bucket', 'data_bucket_name'], 'string'],
  [['data_bucket', 'data_event'], 'array'],
];

/** Values of the wrong JSON type for each documented type (no coercion may rescue them). */
const WRONG_TYPES: Readonly<Record<FieldType, readonly Json[]>> = {
  string: [123, 0, 1.5, true, null, {}, ['x']],
  boolean: ['true', 'false', 1, 0, null, {}, [true]],
  integer: ['30', 30.5, true, null, {}, [30]],
  object: [[], 'x', 1, true, null, [{}]],
  array: [{}, 'READ', 1, true, null, { 0: 'READ' }],
};

/** Names no tracker, bucket or prefix may have: right-to-left overrides, emoji, NUL, lone surrogates… */
const UNICODE_NAMES: readonly string[] = [
  '\u202Egnp.exe',
  'متتبع-البيانات',
  'עוקב',
  '🔥tracker',
  '👨‍👩‍👧‍👦',
  'a\u0000b',
  '\u0000',
  'e\u0301\u0301\u0301\u0301',
  'z\u0336\u0337\u0338a\u0489',
  '\ud800',
  'ab\udfff',
  'tracker\ud83d',
  'trасker', // Cyrillic а and с
  'ｔｒａｃｋｅｒ',
  'a\u200Bb',
  'a\u00A0b',
  '\uFEFFabc',
  'abc\n',
  'abc\r\nX-Injected: 1',
  '\uFFFF\uFFFE',
  'İstanbul',
];

/** Where unicode names go: [body path, tracker type]. */
const UNICODE_TARGETS: ReadonlyArray<readonly [readonly string[], 'data' | 'system']> = [
  [['tracker_name'], 'data'],
  [['tracker_name'], 'system'],
  [['obs_info', 'bucket_name'], 'data'],
  [['data_bucket', 'data_bucket_name'], 'data'],
  [['obs_info', 'file_prefix_name'], 'data'],
];

/** JSON that is not JSON, or not an object. */
const BAD_JSON_TEXTS: readonly string[] = [
  '',
  ' ',
  '\r\n\t',
  '{',
  '}',
  '[',
  ']',
  '[]',
  '[{}]',
  `[${PROBE_JSON}]`,
  'null',
  '"str"',
  '""',
  '0',
  '42',
  '-1.5e300',
  '1e999',
  'true',
  'false',
  'NaN',
  'Infinity',
  'undefined',
  "{'tracker_type':'data'}",
  '{tracker_type:"data"}',
  '{"tracker_type":"data",}',
  '{"tracker_type":"data" "tracker_name":"x"}',
  '{"tracker_type"::"data"}',
  '{,}',
  '{"a":[1,2,]}',
  '{"a":01}',
  '{"a":0x10}',
  '{"a":.5}',
  '{"a":+1}',
  '{"a":tru}',
  '{"a":nul}',
  '{"a":"\\x41"}',
  '{"a":"\\u12"}',
  '{"a":"\\uZZZZ"}',
  '{"a":"tab\there"}',
  '{"a":"new\nline"}',
  '{"a":1}{"b":2}',
  '/*c*/{}',
  '{"a":1}//comment',
  '{"a":1',
  '{"a":',
  '{"a"',
  '{"',
  '"\\',
];

/** PROBE_JSON followed by something that makes the whole text invalid. */
const TRAILING_GARBAGE: readonly string[] = ['x', '}', ']', ',', ' 1', '{}', '\u0000', 'null', '"', '\uFFFD'];

/** Bytes that are not UTF-8: lone continuation, overlong NUL, UTF-16 surrogate, truncated, 5-byte form. */
const INVALID_UTF8: readonly Buffer[] = [
  Buffer.from([0xff]),
  Buffer.from([0xfe, 0xff]),
  Buffer.from([0x80]),
  Buffer.from([0xc0, 0x80]),
  Buffer.from([0xc1, 0xbf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
];

const nested = (depth: number, open: string, close: string, inner = ''): string =>
  open.repeat(depth) + inner + close.repeat(depth);

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

test('hostile and malformed requests get 4xx CTS errors and leave the server and its data intact', async (t) => {
  const started = Date.now();
  const svc = await startTestService();
  t.after(() => svc.close());
  const port = Number(new URL(svc.url).port);
  const host = `127.0.0.1:${port}`;
  const admin = svc.credential;
  const project = admin.project_id;
  const other = await svc.service.runtime.identity.createCredential({
    projectId: OTHER_PROJECT,
    domainId: OTHER_DOMAIN,
    user: 'mallory',
  });
  for (const bucket of ['before-src', 'before-dst', 'other-src', 'hostile-src', 'hostile-dst']) {
    await mkdir(path.join(svc.dataDir, 'buckets', bucket), { recursive: true });
  }

  /** A request as the SDK would send it, signed unless `signer: null`, then optionally tampered with. */
  const call = (method: string, target: string, o: CallOptions = {}): RawRequest => {
    const body = bodyBytes(o.body);
    const signer = o.signer === undefined ? signerOf(admin) : o.signer;
    const contentType = o.contentType === undefined ? (body.length > 0 ? JSON_WITH_BODY : JSON_NO_BODY) : o.contentType;
    const projectHeader = o.projectHeader === undefined ? project : o.projectHeader;
    const signed: Record<string, string> = { host };
    if (contentType !== null) signed['content-type'] = contentType;
    if (projectHeader !== null) signed['x-project-id'] = projectHeader;
    let headers: Header[] = Object.entries(signed).filter(([name]) => name !== 'host');
    if (signer) {
      const { path: p, query } = splitTarget(target);
      const auth = signRequest({ method, path: p, query: parseRawQuery(query), headers: signed, body }, signer, o.date);
      headers.push(...Object.entries(auth));
    }
    headers.push(...(o.extraHeaders ?? []));
    if (o.tamper) headers = o.tamper(headers);
    return { method, target, headers, body, framing: o.framing ?? 'length' };
  };

  /** SDK-HMAC-SHA256 by hand, for what signRequest will not do (unsigned X-Sdk-Date, odd dates). */
  const handSigned = (
    method: string,
    target: string,
    o: { signedHeaders: readonly string[]; sdkDate: string | null; signer?: Signer; body?: string },
  ): RawRequest => {
    const body = Buffer.from(o.body ?? '', 'utf8');
    const values: Record<string, string> = {
      host,
      'content-type': body.length > 0 ? JSON_WITH_BODY : JSON_NO_BODY,
      'x-project-id': project,
    };
    if (o.sdkDate !== null) values['x-sdk-date'] = o.sdkDate;
    const { path: p, query } = splitTarget(target);
    const signer = o.signer ?? signerOf(admin);
    const signedHeaders = [...o.signedHeaders].sort();
    const canonical = canonicalRequest({
      method,
      canonicalUri: canonicalUri(p.split('/')),
      canonicalQuery: canonicalQuery(parseRawQuery(query)),
      signedHeaders,
      headerValue: (name) => values[name] ?? '',
      payloadHash: sha256Hex(body),
    });
    const signature = signatureHex(signer.secretAccessKey, stringToSign(o.sdkDate ?? '', canonical));
    const headers: Header[] = Object.entries(values).filter(([name]) => name !== 'host');
    headers.push([
      'Authorization',
      `SDK-HMAC-SHA256 Access=${signer.accessKeyId}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`,
    ]);
    return { method, target, headers, body };
  };

  const send = (request: RawRequest) => exchange(port, serialise(request, host));

  /** For set-up and the final checks: a signed call that must succeed. */
  const ok = async (method: string, target: string, o: CallOptions, status: number): Promise<unknown> => {
    const response = await send(call(method, target, o));
    const text = response.body.toString('utf8');
    assert.equal(response.status, status, `${method} ${target}: ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };

  const listTrackers = async (signer: IssuedCredential) => {
    const list = (await ok(
      'GET',
      `/v3/${signer.project_id}/trackers`,
      { signer: signerOf(signer), projectHeader: signer.project_id },
      200,
    )) as {
      trackers: Array<{ tracker_name: string }>;
    };
    return list.trackers.sort((a, b) => a.tracker_name.localeCompare(b.tracker_name));
  };

  // ---- State before the barrage: a system tracker and a data tracker here, one data tracker elsewhere.
  const TRACKER = `/v3/${project}/tracker`;
  const TRACKERS = `/v3/${project}/trackers`;
  await ok('POST', TRACKER, { body: { tracker_type: 'system', tracker_name: 'system', is_lts_enabled: true } }, 201);
  await ok(
    'POST',
    TRACKER,
    {
      body: {
        ...UPDATE_KEY,
        data_bucket: { data_bucket_name: 'before-src', data_event: ['WRITE'] },
        obs_info: { bucket_name: 'before-dst', file_prefix_name: 'before', bucket_lifecycle: 60 },
      },
    },
    201,
  );
  await ok(
    'POST',
    `/v3/${OTHER_PROJECT}/tracker`,
    {
      signer: signerOf(other),
      projectHeader: OTHER_PROJECT,
      body: {
        tracker_type: 'data',
        tracker_name: 'other-data',
        data_bucket: { data_bucket_name: 'other-src', data_event: ['READ'] },
      },
    },
    201,
  );
  const before = await listTrackers(admin);
  assert.deepEqual(
    before.map((tr) => tr.tracker_name),
    ['before-data', 'system'],
  );
  const otherBefore = await listTrackers(other);

  // ---- The barrage
  const perCategory = new Map<string, number>();
  const msPerCategory = new Map<string, number>();
  const problems: string[] = [];
  let hostile = 0;
  const expectError = async (category: string, label: string, request: RawRequest, expect: Expectation = {}) => {
    hostile += 1;
    perCategory.set(category, (perCategory.get(category) ?? 0) + 1);
    const what = `${category} #${perCategory.get(category)} ${label}`;
    let response: RawResponse;
    const sentAt = performance.now();
    try {
      response = await send(request);
    } catch (err) {
      problems.push(`${what}: no response (${(err as Error).message})`);
      return;
    } finally {
      msPerCategory.set(category, (msPerCategory.get(category) ?? 0) + performance.now() - sentAt);
    }
    try {
      assertCtsError(response, expect);
    } catch (err) {
      const body = response.body.toString('utf8').slice(0, 300);
      problems.push(`${what}: ${(err as Error).message.split('\n')[0]} — got ${response.status} ${body}`);
    }
  };
  const short = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

  // 1. Bodies that are not a JSON object (signed, so the body is the only thing wrong).
  const invalidBody: Expectation = { status: [400], code: 'CTS.0003' };
  for (const text of BAD_JSON_TEXTS) {
    await expectError('bad-json', `POST ${short(text)}`, call('POST', TRACKER, { body: text }), invalidBody);
  }
  for (const text of BAD_JSON_TEXTS.slice(0, 24)) {
    await expectError('bad-json', `PUT ${short(text)}`, call('PUT', TRACKER, { body: text }), invalidBody);
  }
  for (let cut = 1; cut < PROBE_JSON.length; cut += 9) {
    const text = PROBE_JSON.slice(0, cut);
    await expectError('bad-json', `truncated at ${cut}`, call('POST', TRACKER, { body: text }), invalidBody);
  }
  for (const tail of TRAILING_GARBAGE) {
    const text = PROBE_JSON + tail;
    await expectError('bad-json', `trailing ${short(tail)}`, call('POST', TRACKER, { body: text }), invalidBody);
  }
  const deep: ReadonlyArray<readonly [string, string]> = [
    ['10,000 nested arrays', nested(10_000, '[', ']')],
    ['10,000 nested objects', nested(10_000, '{"a":', '}', '1')],
    ['100,000 unclosed arrays', '['.repeat(100_000)],
    ['200,000 nested arrays', nested(200_000, '[', ']')],
    ['10,000 nested arrays as data_event', PROBE_JSON.replace('["READ","WRITE"]', nested(10_000, '[', ']', '"READ"'))],
    [
      '10,000 nested arrays as obs_info',
      PROBE_JSON.replace(/"obs_info":\{[^}]*\}/, `"obs_info":${nested(10_000, '[', ']')}`),
    ],
    [
      '10,000 nested objects as data_bucket',
      PROBE_JSON.replace(/"data_bucket":\{[^}]*\}/, `"data_bucket":${nested(10_000, '{"data_bucket":', '}', '{}')}`),
    ],
  ];
  for (const [label, body] of deep) {
    assert.notEqual(body, PROBE_JSON);
    await expectError('bad-json', label, call('POST', TRACKER, { body }), { status: [400] });
  }
  const duplicateKeys: readonly string[] = [
    PROBE_JSON.replace('"tracker_type":"data"', '"tracker_type":"data","tracker_type":"nope"'),
    PROBE_JSON.replace('"tracker_name":"hostile-probe"', '"tracker_name":"hostile-probe","tracker_name":"bad name!"'),
    PROBE_JSON.replace('"data_event":["READ","WRITE"]', '"data_event":["READ"],"data_event":["NONE"]'),
    PROBE_JSON.replace('"bucket_name":"hostile-dst"', '"bucket_name":"hostile-dst","bucket_name":"Bad_Bucket"'),
    `${PROBE_JSON.slice(0, -1)},"tracker_type":"DATA"}`,
    PROBE_JSON.replace('"tracker_type":"data"', '"__proto__":{"tracker_type":"data"}'),
    PROBE_JSON.replace('"tracker_name":"hostile-probe"', '"constructor":{"prototype":{"tracker_name":"x"}}'),
    PROBE_JSON.replace('"tracker_type":"data"', '"tracker_type":"data","tracker_type":{}'),
  ];
  for (const text of duplicateKeys) {
    await expectError('bad-json', `duplicate/prototype keys ${short(text)}`, call('POST', TRACKER, { body: text }), {
      status: [400],
    });
  }
  const encodings: ReadonlyArray<readonly [string, Buffer]> = [
    ['UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(PROBE_JSON)])],
    ['UTF-8 BOM twice', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), Buffer.from(PROBE_JSON)])],
    ['UTF-16LE', Buffer.from(PROBE_JSON, 'utf16le')],
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(PROBE_JSON, 'utf16le')])],
    ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(PROBE_JSON, 'utf16le').swap16()])],
    ['NUL bytes between tokens', Buffer.from(PROBE_JSON.replace(/,/g, ',\u0000'))],
  ];
  for (const [label, body] of encodings) {
    await expectError('bad-json', label, call('POST', TRACKER, { body }), invalidBody);
  }
  for (const bad of INVALID_UTF8) {
    const hex = bad.toString('hex');
    const [head, tail] = PROBE_JSON.split('hostile-probe') as [string, string];
    await expectError(
      'bad-json',
      `invalid UTF-8 ${hex} in tracker_name`,
      call('POST', TRACKER, { body: Buffer.concat([Buffer.from(head + 'ab'), bad, Buffer.from('cd' + tail)]) }),
      { status: [400] },
    );
    const [bHead, bTail] = PROBE_JSON.split('hostile-dst') as [string, string];
    await expectError(
      'bad-json',
      `invalid UTF-8 ${hex} in bucket_name`,
      call('POST', TRACKER, { body: Buffer.concat([Buffer.from(bHead + 'bk'), bad, Buffer.from(bTail)]) }),
      { status: [400] },
    );
    await expectError(
      'bad-json',
      `invalid UTF-8 ${hex} between tokens`,
      call('POST', TRACKER, { body: Buffer.concat([Buffer.from('{'), bad, Buffer.from(PROBE_JSON.slice(1))]) }),
      invalidBody,
    );
  }

  // 2. Every field with a value of the wrong JSON type, on create and on update.
  for (const [field, type] of TRACKER_FIELDS) {
    for (const value of WRONG_TYPES[type]) {
      const label = `${field.join('.')} = ${JSON.stringify(value)}`;
      await expectError(
        'wrong-type',
        `POST ${label}`,
        call('POST', TRACKER, { body: withField(PROBE_DOC, field, value) }),
        {
          status: [400],
        },
      );
    }
    const first = WRONG_TYPES[type][0] as Json;
    await expectError(
      'wrong-type',
      `PUT ${field.join('.')} = ${JSON.stringify(first)}`,
      call('PUT', TRACKER, { body: withField(UPDATE_KEY, field, first) }),
      { status: [400] },
    );
  }
  const wrongElements: ReadonlyArray<readonly [readonly string[], Json]> = [
    [['data_bucket', 'data_event'], [1]],
    [['data_bucket', 'data_event'], [null]],
    [['data_bucket', 'data_event'], [{}]],
    [['data_bucket', 'data_event'], [['READ']]],
    [
      ['data_bucket', 'data_event'],
      [true, 'READ'],
    ],
    [['management_event_selector', 'exclude_service'], [1]],
    [['management_event_selector', 'exclude_service'], [null]],
    [['management_event_selector', 'exclude_service'], [{ KMS: true }]],
  ];
  for (const [field, value] of wrongElements) {
    await expectError(
      'wrong-type',
      `${field.join('.')} = ${JSON.stringify(value)}`,
      call('POST', TRACKER, { body: withField(PROBE_DOC, field, value) }),
      { status: [400] },
    );
  }
  for (const value of [1, true, null, {}, ['enabled']] as Json[]) {
    await expectError(
      'wrong-type',
      `PUT status = ${JSON.stringify(value)}`,
      call('PUT', TRACKER, { body: withField(UPDATE_KEY, ['status'], value) }),
      { status: [400], code: 'CTS.0205' },
    );
  }

  // 3. Required fields missing.
  const missing: ReadonlyArray<readonly [string, string, object, Expectation]> = [
    ['POST', 'empty object', {}, { status: [400], code: 'CTS.0202' }],
    ['POST', 'no tracker_type', withField(PROBE_DOC, ['tracker_type'], undefined), { status: [400], code: 'CTS.0202' }],
    ['POST', 'no tracker_name', withField(PROBE_DOC, ['tracker_name'], undefined), { status: [400], code: 'CTS.0203' }],
    ['POST', 'system without name', { tracker_type: 'system' }, { status: [400] }],
    ['POST', 'no data_bucket', withField(PROBE_DOC, ['data_bucket'], undefined), { status: [400], code: 'CTS.0210' }],
    [
      'POST',
      'no data_bucket_name',
      withField(PROBE_DOC, ['data_bucket', 'data_bucket_name'], undefined),
      { status: [400], code: 'CTS.0210' },
    ],
    [
      'POST',
      'empty data_bucket_name',
      withField(PROBE_DOC, ['data_bucket', 'data_bucket_name'], ''),
      { status: [400], code: 'CTS.0210' },
    ],
    [
      'POST',
      'no data_event',
      withField(PROBE_DOC, ['data_bucket', 'data_event'], undefined),
      { status: [400], code: 'CTS.0219' },
    ],
    ['POST', 'empty data_event', withField(PROBE_DOC, ['data_bucket', 'data_event'], []), { status: [400] }],
    ['POST', 'data_bucket {}', withField(PROBE_DOC, ['data_bucket'], {}), { status: [400], code: 'CTS.0210' }],
    [
      'POST',
      'encryption without kms_id',
      { tracker_type: 'system', tracker_name: 'system', is_support_trace_files_encryption: true },
      { status: [400] },
    ],
    ['PUT', 'empty object', {}, { status: [400], code: 'CTS.0202' }],
    ['PUT', 'no tracker_name', { tracker_type: 'data', status: 'disabled' }, { status: [400] }],
    [
      'PUT',
      'no tracker_type',
      { tracker_name: 'before-data', status: 'disabled' },
      { status: [400], code: 'CTS.0202' },
    ],
    [
      'PUT',
      'unknown tracker',
      { tracker_type: 'data', tracker_name: 'no-such', status: 'disabled' },
      { status: [404] },
    ],
  ];
  for (const [method, label, body, expect] of missing) {
    await expectError('missing-field', `${method} ${label}`, call(method, TRACKER, { body }), expect);
  }

  // 4. Huge values.
  const MB = 'x'.repeat(1024 * 1024);
  const huge: ReadonlyArray<readonly [string, string, object]> = [
    ['POST', '1 MB tracker_name', withField(PROBE_DOC, ['tracker_name'], MB)],
    ['POST', '1 MB system tracker_name', { tracker_type: 'system', tracker_name: MB }],
    ['POST', '1 MB tracker_type', withField(PROBE_DOC, ['tracker_type'], MB)],
    ['POST', '1 MB bucket_name', withField(PROBE_DOC, ['obs_info', 'bucket_name'], MB)],
    ['POST', '1 MB file_prefix_name', withField(PROBE_DOC, ['obs_info', 'file_prefix_name'], MB)],
    ['POST', '1 MB data_bucket_name', withField(PROBE_DOC, ['data_bucket', 'data_bucket_name'], MB)],
    ['POST', '1 MB kms_id', withField(PROBE_DOC, ['kms_id'], MB)],
    ['POST', '1 MB agency_name', withField(PROBE_DOC, ['agency_name'], MB)],
    ['POST', '100k data_event', withField(PROBE_DOC, ['data_bucket', 'data_event'], Array(100_000).fill('READ'))],
    ['POST', '100k bogus data_event', withField(PROBE_DOC, ['data_bucket', 'data_event'], Array(100_000).fill('x'))],
    [
      'POST',
      '100k exclude_service',
      withField(PROBE_DOC, ['management_event_selector', 'exclude_service'], Array(100_000).fill('KMS')),
    ],
    ['POST', '1 MB key', { [MB]: 1, tracker_type: 'data' }],
    ['PUT', '1 MB status', { ...UPDATE_KEY, status: MB }],
    ['PUT', '1 MB tracker_name', { tracker_type: 'data', tracker_name: MB }],
    ['PUT', '100k data_event', { ...UPDATE_KEY, data_bucket: { data_event: Array(100_000).fill('WRITE') } }],
  ];
  for (const [method, label, body] of huge) {
    await expectError('huge-value', `${method} ${label}`, call(method, TRACKER, { body }), { status: [400] });
  }

  // 5. Unicode in names, bucket names and prefixes; and in update keys and delete queries.
  for (const name of UNICODE_NAMES) {
    for (const [field, type] of UNICODE_TARGETS) {
      const doc =
        type === 'system' ? { tracker_type: 'system', tracker_name: name } : withField(PROBE_DOC, field, name);
      await expectError(
        'unicode',
        `${type} ${field.join('.')} = ${JSON.stringify(name)}`,
        call('POST', TRACKER, { body: doc }),
        { status: [400] },
      );
    }
    await expectError(
      'unicode',
      `PUT tracker_name = ${JSON.stringify(name)}`,
      call('PUT', TRACKER, { body: { tracker_type: 'data', tracker_name: name, status: 'disabled' } }),
      { status: [400, 404] },
    );
    await expectError(
      'unicode',
      `DELETE ?tracker_name=${JSON.stringify(name)}`,
      call('DELETE', `${TRACKERS}?tracker_name=${encodeURIComponent(name.replace(/[\ud800-\udfff]/g, '\ufffd'))}`),
      { status: [400, 404] },
    );
  }

  // 6. Enumerations: unknown values and case variants (spec §6a pitfall 6: case-sensitive).
  const enums: ReadonlyArray<readonly [string, readonly string[], object, readonly string[]]> = [
    [
      'POST',
      ['tracker_type'],
      PROBE_DOC,
      ['System', 'SYSTEM', 'Data', 'DATA', ' data', 'data ', 'dаta', '', 'data\u0000', 'trace', 'organization'],
    ],
    ['POST', ['obs_info', 'compress_type'], PROBE_DOC, ['GZIP', 'Gzip', 'JSON', 'Json', 'zip', 'gz', '', 'gzip ']],
    ['POST', ['agency_name'], PROBE_DOC, ['CTS_ADMIN_TRUST', 'cts_admin_trust ', 'admin', 'op_svc_cts']],
    ['PUT', ['status'], UPDATE_KEY, ['Enabled', 'ENABLED', 'Disabled', 'error', '', 'on', 'true', 'enable']],
  ];
  for (const [method, field, base, values] of enums) {
    for (const value of values) {
      await expectError(
        'enum',
        `${method} ${field.join('.')} = ${JSON.stringify(value)}`,
        call(method, TRACKER, { body: withField(base, field, value) }),
        { status: [400] },
      );
    }
  }
  const eventSets: readonly Json[] = [
    ['read'],
    ['Read'],
    ['write'],
    ['WRITE', 'read'],
    ['READ,WRITE'],
    ['ALL'],
    [''],
    ['READ '],
    ['DELETE'],
    ['READ', 'WRITE', 'READ'],
  ];
  for (const events of eventSets) {
    await expectError(
      'enum',
      `data_event = ${JSON.stringify(events)}`,
      call('POST', TRACKER, { body: withField(PROBE_DOC, ['data_bucket', 'data_event'], events) }),
      { status: [400] },
    );
  }
  for (const excluded of [['kms'], ['Kms'], ['OBS'], ['KMS', 'ECS'], ['']] as Json[]) {
    await expectError(
      'enum',
      `PUT system exclude_service = ${JSON.stringify(excluded)}`,
      call('PUT', TRACKER, {
        body: {
          tracker_type: 'system',
          tracker_name: 'system',
          management_event_selector: { exclude_service: excluded },
        },
      }),
      { status: [400] },
    );
  }
  for (const days of [1, 7, 31, 365, 1096, 100_000, -1]) {
    await expectError(
      'enum',
      `bucket_lifecycle = ${days}`,
      call('POST', TRACKER, { body: withField(PROBE_DOC, ['obs_info', 'bucket_lifecycle'], days) }),
      { status: [400] },
    );
  }

  // 7. Bodies just over the 12 MB limit (and a Content-Length that only claims it).
  const padding = 'p'.repeat(BODY_LIMIT + 1 - PROBE_JSON.length - '"pad":"",'.length);
  const oversize = Buffer.from(PROBE_JSON.replace('{', `{"pad":"${padding}",`));
  assert.equal(oversize.length, BODY_LIMIT + 1);
  const tooLarge: Expectation = { status: [413], code: 'CTS.9413' };
  await expectError('oversize', 'signed POST, 12 MB + 1', call('POST', TRACKER, { body: oversize }), tooLarge);
  await expectError('oversize', 'signed PUT, 12 MB + 1', call('PUT', TRACKER, { body: oversize }), tooLarge);
  await expectError(
    'oversize',
    'unsigned POST, 12 MB + 1',
    call('POST', TRACKER, { body: oversize, signer: null }),
    tooLarge,
  );
  await expectError(
    'oversize',
    'chunked POST, 12 MB + 1',
    call('POST', TRACKER, { body: oversize, framing: 'chunked' }),
    tooLarge,
  );
  await expectError(
    'oversize',
    'text/plain POST, 12 MB + 1',
    call('POST', TRACKER, { body: oversize, contentType: 'text/plain' }),
    { status: [413, 415] },
  );
  await expectError(
    'oversize',
    'Content-Length claims 12 MB + 1',
    call('POST', TRACKER, { body: PROBE_JSON, tamper: (h) => [...h, ['Content-Length', String(BODY_LIMIT + 1)]] }),
    tooLarge,
  );
  await expectError(
    'oversize',
    'Content-Length claims 1 TB',
    call('POST', TRACKER, { body: '{}', tamper: (h) => [...h, ['Content-Length', String(2 ** 40)]] }),
    tooLarge,
  );

  // 8. Methods a route does not have.
  const routes: ReadonlyArray<readonly [string, readonly string[], boolean]> = [
    ['/', ['GET'], false],
    ['/v3', ['GET'], false],
    ['/healthz', ['GET'], false],
    ['/readyz', ['GET'], false],
    ['/metrics', ['GET'], false],
    ['/openapi.json', ['GET'], false],
    [TRACKER, ['POST', 'PUT'], true],
    [TRACKERS, ['GET', 'DELETE'], true],
  ];
  const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'SEARCH'];
  for (const [route, defined, api] of routes) {
    for (const method of METHODS.filter((m) => !defined.includes(m))) {
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? PROBE_JSON : undefined;
      const expect: Expectation = { status: [404, 405], code: ['CTS.9404', 'CTS.9405'] };
      await expectError('wrong-method', `${method} ${route}`, call(method, route, { body, signer: null }), expect);
      if (api) await expectError('wrong-method', `signed ${method} ${route}`, call(method, route, { body }), expect);
    }
  }

  // 9. Unknown paths and path tricks.
  const long = (n: number) => 'p'.repeat(n);
  const paths: ReadonlyArray<readonly [string, string, boolean, readonly number[]]> = [
    ['POST', '/v3/../v3/x/tracker', true, [404]],
    ['GET', `/v3/../v3/${project}/trackers`, true, [404]],
    ['GET', `//v3/${project}/trackers`, true, [404]],
    ['POST', `//v3/${project}/tracker`, true, [404]],
    ['GET', `/v3//${project}/trackers`, true, [404]],
    ['GET', `/v3/${project}//trackers`, true, [404]],
    ['GET', `/v3/${project}/trackers//`, true, [404]],
    ['POST', '/v3/%2e%2e/tracker', true, [403]],
    ['POST', '/v3/%2e%2e/tracker', false, [401]],
    ['GET', '/v3/%2E%2E/trackers', true, [403]],
    ['GET', `/v3/%2e%2e/${project}/trackers`, true, [404]],
    ['GET', `/v3/${project}/%2e%2e/trackers`, true, [404]],
    ['GET', '/v3/./trackers', false, [401]],
    ['GET', `/v3/${project}/./trackers`, true, [404]],
    ['GET', `/v3/${project}/trackers/..`, true, [404]],
    ['GET', `/v3/${project}/trackers/../tracker`, true, [404]],
    ['GET', `/v3/${project}/trackers/%2e%2e/%2e%2e/${OTHER_PROJECT}/trackers`, true, [404]],
    ['GET', `/v3/${OTHER_PROJECT}/trackers`, true, [403]],
    ['POST', `/v3/${OTHER_PROJECT}/tracker`, true, [403]],
    ['PUT', `/v3/${OTHER_PROJECT}/tracker`, true, [403]],
    ['DELETE', `/v3/${OTHER_PROJECT}/trackers`, true, [403]],
    ['GET', `/v3/${long(65)}/trackers`, true, [400, 403]],
    ['GET', `/v3/${long(201)}/trackers`, true, [400]],
    ['GET', `/v3/${long(1000)}/trackers`, false, [400]],
    ['GET', `/v3/${long(8000)}/trackers`, true, [400]],
    ['POST', `/v3/${long(5000)}/tracker`, true, [400]],
    ['GET', `/v3/${project}/trackers/${long(5000)}`, true, [404]],
    ['GET', `/v3/${project}/${long(10_000)}`, true, [404]],
    ['GET', `/${long(3000)}`, false, [400, 404]],
    ['GET', `/v3/%7Bproject_id%7D/quotas`, false, [401, 404]],
    ['GET', `/v3/%7Bproject_id%7D/quotas`, true, [403, 404]],
    ['GET', `/v3/%7Bproject_id%7D/trackers`, true, [403]],
    ['GET', '/v3/{project_id}/trackers', false, [401]],
    ['GET', `/v3/${project}/trackers%00`, true, [404]],
    ['GET', `/v3/${project}%00/trackers`, true, [403]],
    ['GET', `/v3/${project}/trackers;jsessionid=1`, true, [404]],
    ['GET', `/V3/${project}/trackers`, true, [404]],
    ['GET', `/v3/${project}/Trackers`, true, [404]],
    ['GET', `/v3/${project}/trackers.json`, true, [404]],
    ['GET', `/v3/${project}/trackers/extra`, true, [404]],
    ['GET', `/v3/${project}/trackers/${project}`, true, [404]],
    ['GET', `/v2.0/${project}/trackers`, true, [404]],
    ['GET', `/v1.0/${project}/trackers`, true, [404]], // v1.0 is served, but has no plural
    ['GET', `/v4/${project}/trackers`, true, [404]],
    ['GET', '/v4', false, [404]],
    ['GET', '/.env', false, [404]],
    ['GET', '/.git/config', false, [404]],
    ['GET', '/etc/passwd', false, [404]],
    ['GET', '/%2e%2e/%2e%2e/etc/passwd', false, [404]],
    ['GET', `/v3/${project}/trackers/../../../../etc/passwd`, true, [404]],
    ['GET', '/..%2f..%2f..%2fetc%2fpasswd', false, [400, 404]],
    ['GET', '/v3/%ff/trackers', true, [400]],
    ['GET', '/v3/%zz/trackers', false, [400]],
    ['GET', '/v3/%/trackers', false, [400]],
    ['GET', '/v3/%u002e/trackers', false, [400]],
    ['GET', '/%', false, [400]],
    ['GET', '/healthz/extra', false, [404]],
    ['GET', '/openapi.json/../healthz', false, [404]],
    ['GET', `http://evil.example/v3/${project}/trackers`, false, [400, 401, 404]],
    ['OPTIONS', '*', false, [400, 404, 405]],
  ];
  for (const [method, target, signed, status] of paths) {
    const body = ['POST', 'PUT'].includes(method) ? PROBE_JSON : undefined;
    await expectError(
      'path',
      `${signed ? 'signed ' : ''}${method} ${short(target)}`,
      call(method, target, { body, ...(signed ? {} : { signer: null }) }),
      { status },
    );
  }

  // 10. Query tricks on list and delete (signed: the query is the only thing wrong).
  const ten = (c: string) => c.repeat(10 * 1024);
  const badListQueries: readonly string[] = [
    'tracker_type=x',
    'tracker_type=System',
    'tracker_type=SYSTEM',
    'tracker_type=DATA',
    'tracker_type=',
    'tracker_type=%20data',
    'tracker_type=data%20',
    'tracker_type=data+',
    'tracker_type=data%00',
    'tracker_type=%00',
    'tracker_type=system,data',
    'tracker_type=*',
    'tracker_type=%zz',
    'tracker_type=%E0%A4%A',
    'tracker_type=%F0%9F%94%A5',
    'tracker_type=data&tracker_type=data',
    'tracker_type=system&tracker_type=data',
    'tracker_type=data&tracker_type=',
    'tracker_name=a&tracker_name=b',
    'tracker_name=before-data&tracker_name=before-data',
    'tracker_type=data&tracker_name=a&tracker_name=b&tracker_name=c',
    `tracker_name=${ten('a')}`,
    `tracker_type=${ten('d')}`,
    `x=${ten('v')}&tracker_type=bogus`,
    `tracker_name=${'%C3%BC'.repeat(100)}`,
    'tracker_type[]=x&tracker_type=bogus',
    'tracker_type[]=data&tracker_type[]=system&tracker_type=nope',
    'tracker_name[$ne]=x&tracker_type=x',
    'tracker_type[0]=system&tracker_type=SYSTEM',
    '&=&==&tracker_type=bad',
    'tracker_type=data;tracker_type=system',
    '__proto__=x&tracker_type=bad',
    'constructor[prototype][x]=1&tracker_type=Data',
  ];
  for (const query of badListQueries) {
    await expectError('query', `GET ?${short(query)}`, call('GET', `${TRACKERS}?${query}`), { status: [400] });
  }
  const badDeleteQueries: readonly string[] = [
    'tracker_type=x',
    'tracker_type=Data',
    'tracker_type=SYSTEM',
    'tracker_type=',
    'tracker_type=data&tracker_type=data',
    'tracker_type=system&tracker_type=system',
    'tracker_name=before-data&tracker_name=before-data',
    'tracker_name=system&tracker_name=system',
    `tracker_name=${ten('a')}`,
    `tracker_type=${ten('x')}`,
    'tracker_type[]=data&tracker_name=no-such-tracker',
    'tracker_type[$ne]=x&tracker_name=zz',
    'tracker_name=',
    'tracker_name=*',
    'tracker_name=%25',
    'tracker_name=%27%20OR%20%271%27%3D%271',
    'tracker_name=before-data%27%20--',
    'tracker_name=%00',
    'tracker_name=before-data%00',
    'tracker_name=BEFORE-DATA',
    'tracker_name=before-data%20',
    'tracker_name=before_data',
    'tracker_type=system&tracker_name=before-data',
    'tracker_type=system&tracker_name=System',
    'tracker_type=data&tracker_name=system',
    'tracker_name=before-data&tracker_type=system',
  ];
  for (const query of badDeleteQueries) {
    await expectError('query', `DELETE ?${short(query)}`, call('DELETE', `${TRACKERS}?${query}`), {
      status: [400, 404],
    });
  }

  // 11. Bodies in a content type other than JSON.
  const multipart = '------x\r\nContent-Disposition: form-data; name="tracker_type"\r\n\r\ndata\r\n------x--\r\n';
  const contentTypes: ReadonlyArray<readonly [string | null, string | Buffer]> = [
    ['text/plain', PROBE_JSON],
    ['text/plain;charset=UTF-8', PROBE_JSON],
    ['application/x-www-form-urlencoded', 'tracker_type=data&tracker_name=form'],
    ['multipart/form-data; boundary=----x', multipart],
    ['application/xml', '<tracker><tracker_type>data</tracker_type></tracker>'],
    ['text/xml', '<tracker/>'],
    ['text/html', '<h1>tracker</h1>'],
    ['application/octet-stream', Buffer.from([0, 1, 2, 3, 255])],
    ['application/javascript', 'alert(1)'],
    ['application/x-yaml', 'tracker_type: data'],
    ['image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47])],
    ['application/jsonx', PROBE_JSON],
    ['application/json-patch+json', PROBE_JSON],
    ['application/merge-patch+json', PROBE_JSON],
    ['application/vnd.api+json', PROBE_JSON],
    ['text/json', PROBE_JSON],
    ['application/json,text/plain', PROBE_JSON],
    ['text/plain; application/json', PROBE_JSON],
    ['application/json\tx', PROBE_JSON],
    ['', PROBE_JSON],
    [null, PROBE_JSON],
  ];
  for (const [contentType, body] of contentTypes) {
    for (const method of ['POST', 'PUT']) {
      await expectError(
        'content-type',
        `${method} ${JSON.stringify(contentType)}`,
        call(method, TRACKER, { body, contentType }),
        { status: [415], code: 'CTS.9415' },
      );
    }
  }
  await expectError(
    'content-type',
    'JSON declared as UTF-16, sent as UTF-16',
    call('POST', TRACKER, {
      body: Buffer.from(PROBE_JSON, 'utf16le'),
      contentType: 'application/json; charset=utf-16',
    }),
    { status: [400, 415] },
  );

  // 12. Authentication abuse. Each target would succeed (or destroy data) if authentication let it through.
  const authTargets: ReadonlyArray<readonly [string, string, string | undefined]> = [
    ['GET', TRACKERS, undefined],
    ['POST', TRACKER, PROBE_JSON],
    ['PUT', TRACKER, JSON.stringify({ ...UPDATE_KEY, status: 'disabled' })],
    ['DELETE', `${TRACKERS}?tracker_type=system&tracker_name=system`, undefined],
  ];
  const unauthenticated: Expectation = { status: [401], code: 'CTS.9401' };
  const forbidden: Expectation = { status: [403], code: 'CTS.0012' };
  const stranger = { accessKeyId: 'UNKNOWNACCESSKEY0000', secretAccessKey: admin.secret_access_key };
  const wrongSecret = { accessKeyId: admin.access_key_id, secretAccessKey: 'not-the-secret-key' };
  const sixteenMinutes = 16 * 60 * 1000;
  const garbage: readonly string[] = [
    '',
    'garbage',
    'Bearer eyJhbGciOiJub25lIn0.e30.',
    'Basic YWRtaW46YWRtaW4=',
    'SDK-HMAC-SHA256',
    'SDK-HMAC-SHA256 Access=',
    'SDK-HMAC-SHA256 Access=, SignedHeaders=, Signature=',
    `SDK-HMAC-SHA256 Access=${admin.access_key_id}, SignedHeaders=x-sdk-date, Signature=${'z'.repeat(64)}`,
    `SDK-HMAC-SHA256 Access=${admin.access_key_id}, SignedHeaders=x-sdk-date, Signature=${'a'.repeat(63)}`,
    `SDK-HMAC-SHA256 Access=${admin.access_key_id}, SignedHeaders=x-sdk-date, Signature=${'a'.repeat(65)}`,
    `SDK-HMAC-SHA256 Access=${admin.access_key_id}, SignedHeaders=x-sdk-date, Signature=${'0'.repeat(64)}`,
    `sdk-hmac-sha256 Access=${admin.access_key_id}, SignedHeaders=x-sdk-date, Signature=${'0'.repeat(64)}`,
    `SDK-HMAC-SM3 Access=${admin.access_key_id}, SignedHeaders=x-sdk-date, Signature=${'0'.repeat(64)}`,
    `AWS4-HMAC-SHA256 Credential=${admin.access_key_id}/20260101/x/cts/aws4_request, SignedHeaders=host, Signature=00`,
    `SDK-HMAC-SHA256 Access=${'A'.repeat(8000)}, SignedHeaders=x-sdk-date, Signature=${'0'.repeat(64)}`,
    `SDK-HMAC-SHA256 Access=${admin.access_key_id}, SignedHeaders=${'h;'.repeat(2000)}x-sdk-date, Signature=${'0'.repeat(64)}`,
    `SDK-HMAC-SHA256 Access=' OR 1=1 --, SignedHeaders=x-sdk-date, Signature=${'0'.repeat(64)}`,
    `SDK-HMAC-SHA256 Access=${admin.access_key_id}\u00ff, SignedHeaders=x-sdk-date, Signature=${'0'.repeat(64)}`,
  ];
  const replaceHeader = (name: string, value: string | null) => (headers: Header[]) => {
    const kept = headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
    return value === null ? kept : [...kept, [name, value] as const];
  };
  const flipSignature = (headers: Header[]): Header[] =>
    headers.map(([n, v]) =>
      n === 'Authorization' ? [n, v.replace(/.$/, (c) => (c === '0' ? '1' : '0'))] : ([n, v] as const),
    );
  for (const [method, target, body] of authTargets) {
    const label = `${method} ${short(target)}`;
    await expectError(
      'auth',
      `no Authorization, ${label}`,
      call(method, target, { body, signer: null }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `no Authorization but X-Sdk-Date, ${label}`,
      call(method, target, { body, signer: null, extraHeaders: [['X-Sdk-Date', formatSdkDate(new Date())]] }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `X-Auth-Token only, ${label}`,
      call(method, target, {
        body,
        signer: null,
        extraHeaders: [['X-Auth-Token', 'MIIEhQYJKoZIhvcNAQcCoIIEdjCCBHICAQExDTALBglghkgBZQMEAgEw']],
      }),
      unauthenticated,
    );
    for (const value of garbage) {
      await expectError(
        'auth',
        `Authorization ${short(value)}, ${label}`,
        call(method, target, { body, signer: null, extraHeaders: [['Authorization', value]] }),
        unauthenticated,
      );
    }
    await expectError(
      'auth',
      `unknown AK, ${label}`,
      call(method, target, { body, signer: stranger }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `wrong SK, ${label}`,
      call(method, target, { body, signer: wrongSecret }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `other project's key on this project, ${label}`,
      call(method, target, { body, signer: signerOf(other), projectHeader: OTHER_PROJECT }),
      forbidden,
    );
    await expectError(
      'auth',
      `lower-case AK, ${label}`,
      call(method, target, {
        body,
        signer: { accessKeyId: admin.access_key_id.toLowerCase(), secretAccessKey: admin.secret_access_key },
      }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `flipped signature, ${label}`,
      call(method, target, { body, tamper: flipSignature }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `host changed after signing, ${label}`,
      call(method, target, { body, tamper: replaceHeader('Host', 'evil.example') }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `X-Project-Id changed after signing, ${label}`,
      call(method, target, { body, tamper: replaceHeader('x-project-id', OTHER_PROJECT) }),
      { status: [401, 403] },
    );
    await expectError(
      'auth',
      `Content-Type changed after signing, ${label}`,
      call(method, target, { body, tamper: replaceHeader('content-type', 'application/json; charset=utf-8') }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `X-Sdk-Date 16 minutes old, ${label}`,
      call(method, target, { body, date: new Date(Date.now() - sixteenMinutes) }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `X-Sdk-Date 16 minutes ahead, ${label}`,
      call(method, target, { body, date: new Date(Date.now() + sixteenMinutes) }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `X-Sdk-Date in 1970, ${label}`,
      call(method, target, { body, date: new Date(0) }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `X-Sdk-Date removed after signing, ${label}`,
      call(method, target, { body, tamper: replaceHeader('X-Sdk-Date', null) }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `X-Sdk-Date sent twice, ${label}`,
      call(method, target, {
        body,
        tamper: (h) => [...h, ['X-Sdk-Date', h.find(([n]) => n === 'X-Sdk-Date')?.[1] ?? '']],
      }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `garbage Authorization line before a valid one, ${label}`,
      call(method, target, { body, tamper: (h) => [['Authorization', 'garbage'], ...h] }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `X-Project-Id differs from path, ${label}`,
      call(method, target, { body, projectHeader: OTHER_PROJECT }),
      forbidden,
    );
    await expectError(
      'auth',
      `X-Project-Id upper-case, ${label}`,
      call(method, target, { body, projectHeader: project.toUpperCase() }),
      forbidden,
    );
    await expectError(
      'auth',
      `X-Project-Id empty, ${label}`,
      call(method, target, { body, projectHeader: '' }),
      forbidden,
    );
    await expectError(
      'auth',
      `x-sdk-date not among SignedHeaders, ${label}`,
      handSigned(method, target, {
        body,
        signedHeaders: ['content-type', 'host', 'x-project-id'],
        sdkDate: formatSdkDate(new Date()),
      }),
      unauthenticated,
    );
    await expectError(
      'auth',
      `only host signed, ${label}`,
      handSigned(method, target, { body, signedHeaders: ['host'], sdkDate: formatSdkDate(new Date()) }),
      unauthenticated,
    );
    for (const sdkDate of [
      '20260101T000000',
      '2026-01-01T00:00:00Z',
      '20261301T000000Z',
      '99991231T235959Z',
      '',
      'now',
    ]) {
      await expectError(
        'auth',
        `X-Sdk-Date ${JSON.stringify(sdkDate)}, ${label}`,
        handSigned(method, target, { body, signedHeaders: ['host', 'x-project-id', 'x-sdk-date'], sdkDate }),
        unauthenticated,
      );
    }
  }
  const tampered: ReadonlyArray<readonly [string, RawRequest]> = [
    [
      'body changed after signing',
      { ...call('POST', TRACKER, { body: PROBE_JSON }), body: Buffer.from(PROBE_JSON.replace('READ', 'WRIT')) },
    ],
    [
      'body appended after signing',
      { ...call('POST', TRACKER, { body: PROBE_JSON }), body: Buffer.from(PROBE_JSON + ' ') },
    ],
    ['method changed after signing', { ...call('GET', `${TRACKERS}?tracker_type=data`), method: 'DELETE' }],
    [
      'query changed after signing',
      { ...call('GET', `${TRACKERS}?tracker_type=data`), target: `${TRACKERS}?tracker_type=system` },
    ],
    [
      'query added after signing',
      {
        ...call('DELETE', `${TRACKERS}?tracker_name=no-such`),
        target: `${TRACKERS}?tracker_name=no-such&tracker_type=data`,
      },
    ],
    ['path changed after signing', { ...call('GET', `/v3/${OTHER_PROJECT}/trackers`), target: TRACKERS }],
    [
      'signed for another project, replayed on this one',
      {
        ...call('GET', `/v3/${OTHER_PROJECT}/trackers`, { signer: signerOf(other), projectHeader: OTHER_PROJECT }),
        target: TRACKERS,
      },
    ],
  ];
  for (const [label, request] of tampered) {
    await expectError('auth', label, request, unauthenticated);
  }
  const crossProject: ReadonlyArray<readonly [string, RawRequest]> = [
    [
      'own key, other project path and header',
      call('GET', `/v3/${OTHER_PROJECT}/trackers`, { projectHeader: OTHER_PROJECT }),
    ],
    ['own key, other project path, own header', call('GET', `/v3/${OTHER_PROJECT}/trackers`)],
    ['own key, other project path, no header', call('GET', `/v3/${OTHER_PROJECT}/trackers`, { projectHeader: null })],
    [
      'own key, create in other project',
      call('POST', `/v3/${OTHER_PROJECT}/tracker`, { body: PROBE_JSON, projectHeader: OTHER_PROJECT }),
    ],
    [
      'own key, delete in other project',
      call('DELETE', `/v3/${OTHER_PROJECT}/trackers?tracker_name=other-data`, { projectHeader: OTHER_PROJECT }),
    ],
    ['X-Project-Id sent twice (own, other)', call('GET', TRACKERS, { projectHeader: `${project}, ${OTHER_PROJECT}` })],
  ];
  for (const [label, request] of crossProject) {
    await expectError('auth', label, request, forbidden);
  }
  {
    // Two X-Project-Id header lines, signed as the value the server sees (joined by ", ").
    const request = call('GET', TRACKERS, { projectHeader: `${project}, ${OTHER_PROJECT}` });
    const split = request.headers.flatMap(([n, v]): Header[] =>
      n === 'x-project-id'
        ? [
            [n, project],
            [n, OTHER_PROJECT],
          ]
        : [[n, v]],
    );
    await expectError('auth', 'two X-Project-Id header lines', { ...request, headers: split }, forbidden);
  }

  // 13. Malformed HTTP that Node's parser refuses before Fastify sees it.
  const rawHttp = (text: string) => ({
    method: '',
    target: '',
    headers: [],
    body: Buffer.alloc(0),
    raw: Buffer.from(text, 'latin1'),
  });
  const H = `Host: ${host}\r\nConnection: close\r\n`;
  const J = 'Content-Type: application/json\r\n';
  const malformed: ReadonlyArray<readonly [string, string]> = [
    ['Content-Length: abc', `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Content-Length: abc\r\n\r\n{}`],
    ['Content-Length: -1', `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Content-Length: -1\r\n\r\n{}`],
    ['Content-Length: 1.5', `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Content-Length: 1.5\r\n\r\n{}`],
    ['Content-Length: 0x10', `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Content-Length: 0x10\r\n\r\n{}`],
    ['Content-Length: 2^76', `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Content-Length: 99999999999999999999999\r\n\r\n{}`],
    ['two Content-Lengths', `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`],
    ['Content-Length: 2, 3', `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Content-Length: 2, 3\r\n\r\n{}`],
    [
      'Content-Length and chunked',
      `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Content-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    ],
    ['Transfer-Encoding: gzip', `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Transfer-Encoding: gzip\r\n\r\n{}`],
    [
      'chunked, bad chunk size',
      `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    ],
    ['Content-Length shorter than body', `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Content-Length: 2\r\n\r\n{}garbage`],
    ['unknown method', `FOO ${TRACKERS} HTTP/1.1\r\n${H}\r\n`],
    ['lower-case method', `get ${TRACKERS} HTTP/1.1\r\n${H}\r\n`],
    ['HTTP/9.9', `GET ${TRACKERS} HTTP/9.9\r\n${H}\r\n`],
    ['extra token in request line', `GET ${TRACKERS} HTTP/1.1 extra\r\n${H}\r\n`],
    ['space in path', `GET /v3/${project} trackers HTTP/1.1\r\n${H}\r\n`],
    ['control byte in path', `GET /v3/\u0001/trackers HTTP/1.1\r\n${H}\r\n`],
    ['raw 0xFF in path', `GET /v3/\u00ff/trackers HTTP/1.1\r\n${H}\r\n`],
    ['backslash path', `GET \\..\\..\\windows\\win.ini HTTP/1.1\r\n${H}\r\n`],
    ['header without colon', `GET ${TRACKERS} HTTP/1.1\r\n${H}BadHeader\r\n\r\n`],
    ['space in header name', `GET ${TRACKERS} HTTP/1.1\r\n${H}Bad Header: x\r\n\r\n`],
    ['NUL in header value', `GET ${TRACKERS} HTTP/1.1\r\n${H}X-Test: a\u0000b\r\n\r\n`],
    ['obsolete line folding', `GET ${TRACKERS} HTTP/1.1\r\n${H}X-Test: a\r\n b\r\n\r\n`],
    ['bare LF line ends', `GET ${TRACKERS} HTTP/1.1\nHost: ${host}\nConnection: close\n\n`],
    ['20 KB header', `GET ${TRACKERS} HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['20 KB request line', `GET ${TRACKERS}?tracker_type=${'a'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`],
    ['no Host header', `GET ${TRACKERS} HTTP/1.1\r\nConnection: close\r\n\r\n`],
    ['no Host header on version discovery', `GET / HTTP/1.1\r\nConnection: close\r\n\r\n`],
    ['unknown Expect', `GET ${TRACKERS} HTTP/1.1\r\n${H}Expect: something-else\r\n\r\n`],
    ['Expect: 100-continue', `POST ${TRACKER} HTTP/1.1\r\n${H}${J}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}`],
    ['duplicate Host', `GET ${TRACKERS} HTTP/1.1\r\nHost: ${host}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`],
    ['HTTP/1.0 without Host', `GET ${TRACKERS} HTTP/1.0\r\n\r\n`],
    ['request line only (HTTP/0.9)', `GET ${TRACKERS}\r\n\r\n`],
    ['Upgrade: websocket', `GET ${TRACKERS} HTTP/1.1\r\n${H}Upgrade: websocket\r\n\r\n`],
  ];
  for (const [label, text] of malformed) {
    await expectError('http', label, rawHttp(text), { status: [400, 401, 413, 431] });
  }

  // ---- After the barrage: nothing went wrong, the server still serves, and no data changed.
  assert.deepEqual(problems, [], `${problems.length} of ${hostile} hostile requests got a wrong answer`);
  assert.ok(hostile >= 250, `only ${hostile} hostile requests were sent`);

  const health = await send(call('GET', '/healthz', { signer: null }));
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body.toString('utf8')), { status: 'ok' });
  const versions = await send(call('GET', '/', { signer: null }));
  assert.equal(versions.status, 200);
  assert.equal((JSON.parse(versions.body.toString('utf8')) as { versions: unknown[] }).versions.length, 3);

  assert.deepEqual(await listTrackers(admin), before, 'the barrage changed the trackers');
  assert.deepEqual(await listTrackers(other), otherBefore, "the barrage changed another project's trackers");
  const created = (await ok('POST', TRACKER, { body: PROBE_JSON }, 201)) as { tracker_name: string; status: string };
  assert.equal(created.tracker_name, 'hostile-probe');
  assert.equal(created.status, 'enabled');
  const after = await listTrackers(admin);
  assert.deepEqual(
    after,
    [...before, created].sort((a, b) => a.tracker_name.localeCompare(b.tracker_name)),
  );

  const summary = [...perCategory]
    .map(([category, n]) => `${category}=${n} (${Math.round(msPerCategory.get(category) ?? 0)} ms)`)
    .join(', ');
  t.diagnostic(`${hostile} hostile requests in ${Date.now() - started} ms: ${summary}`);
});
