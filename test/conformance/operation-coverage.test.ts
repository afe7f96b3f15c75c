/**
 * Every operation of the CTS API (spec §0.1, the §1.9 tag APIs of its row 19, and the legacy
 * §1.11 endpoints) is exercised through a real server by a conformance test, with its documented
 * success status.
 *
 * How it knows: it runs the other conformance tests (test/conformance/**) in a child `node --test`
 * with OPENCTS_TEST_REQUEST_LOG set, so every server they start (test/support/service.ts) appends
 * each request it answered: method, URL and status. An operation is covered when some request
 * matched its method and path template and got its success status: a test that only names an
 * operation, or whose calls all failed, does not count. The operation list is read at test time
 * from test/fixtures/cts-api-operations.md, a pinned copy of those spec sections.
 *
 * PENDING lists operations whose endpoints are not built yet (none now). An operation neither
 * covered nor pending fails the test, and so does a pending one that has become covered: after
 * merging a branch, delete its entries.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { REQUEST_LOG_ENV, makeTempDir, type LoggedRequest } from '../support/service.js';

/** Operations not built yet, with why (every one of issue 7 is built: keep it empty). */
const PENDING: ReadonlyMap<string, string> = new Map<string, string>();

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/cts-api-operations.md', import.meta.url));
const CONFORMANCE_DIR = fileURLToPath(new URL('.', import.meta.url));
const THIS_FILE = path.basename(fileURLToPath(import.meta.url));
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
/** The conformance suite takes about a minute on this machine; leave room for a busy one. */
const CHILD_TIMEOUT_MS = 10 * 60_000;

interface SpecOperation {
  /** `METHOD /path/{param}` as the spec writes it, without a query. */
  readonly key: string;
  readonly method: string;
  readonly path: string;
  /** Success statuses: the spec's OK column, or any 2xx where it says `2xx`. */
  readonly ok: readonly number[];
  /** Where in the spec it comes from. */
  readonly source: string;
}

function okStatuses(text: string): number[] {
  if (/2xx/.test(text)) return Array.from({ length: 100 }, (_, i) => 200 + i);
  return [...text.matchAll(/\b\d{3}\b/g)].map((m) => Number(m[0]));
}

function operation(method: string, rawPath: string, ok: number[], source: string): SpecOperation {
  const pathOnly = rawPath.split('?')[0] as string;
  return { key: `${method} ${pathOnly}`, method, path: pathOnly, ok, source };
}

/** The text of a `### n.n` section of the fixture, up to the next heading. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`### ${heading}`);
  assert.ok(start >= 0, `section ${heading} in the fixture`);
  const next = markdown.indexOf('\n### ', start + 4);
  return markdown.slice(start, next < 0 ? undefined : next);
}

/** §0.1's table: one operation per method and path of a row; row 19 points at §1.9. */
function catalogueOperations(markdown: string): SpecOperation[] {
  const out: SpecOperation[] = [];
  for (const line of section(markdown, '0.1').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 7 || !/^\d+$/.test(cells[1] ?? '')) continue;
    const [, row, methodCell, pathCell, okCell] = cells as [string, string, string, string, string];
    const methods = methodCell.split('/').map((m) => m.trim());
    if (!methods.every((m) => (METHODS as readonly string[]).includes(m))) continue; // row 19: see §1.9
    const paths = [...pathCell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    const oks = okCell.split('/').map(okStatuses);
    methods.forEach((method, i) => {
      const ok = oks.length === methods.length ? (oks[i] as number[]) : oks.flat();
      for (const p of paths) out.push(operation(method, p, ok, `§0.1 #${row}`));
    });
  }
  return out;
}

/** Bullets of the form "* `METHOD /path`" (§1.9's Huawei-only tag APIs, §1.11); status from "→ 204" or "(201)". */
function bulletOperations(text: string, source: string): SpecOperation[] {
  const out: SpecOperation[] = [];
  for (const m of text.matchAll(/`(GET|POST|PUT|DELETE) (\/[^`]*)`/g)) {
    const [whole, method, rawPath] = m as unknown as [string, string, string];
    const end = m.index + whole.length;
    const lineEnd = text.indexOf('\n', end);
    const rest = text.slice(end, lineEnd < 0 ? undefined : lineEnd);
    // The status follows on the same line: "`POST …` (201)" or "`POST …` body … → 204".
    const status = /^\s*\((\d{3})|^.*?→ (\d{3})/.exec(rest);
    const ok = status ? [Number(status[1] ?? status[2])] : [200];
    out.push(operation(method, rawPath, ok, source));
  }
  return out;
}

function specOperations(markdown: string): SpecOperation[] {
  const tagApis = section(markdown, '1.9');
  const huaweiOnly = tagApis.slice(tagApis.indexOf('Huawei-only'));
  return [
    ...catalogueOperations(markdown),
    ...bulletOperations(huaweiOnly, '§1.9 (§0.1 #19)'),
    ...bulletOperations(section(markdown, '1.11'), '§1.11'),
  ];
}

/** Values path parameters take in the tests: project and domain ids are 32 hex digits. */
const PARAM_PATTERNS: Readonly<Record<string, string>> = {
  project_id: '[0-9a-f]{32}',
  domain_id: '[0-9a-f]{32}',
  version: 'v\\d+(?:\\.\\d+)?',
};

function pathPattern(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const param = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (param) return PARAM_PATTERNS[param] ?? '[^/]+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`);
}

function covers(op: SpecOperation, request: LoggedRequest): boolean {
  const requestPath = request.url.split('?')[0] as string;
  return request.method === op.method && op.ok.includes(request.status) && pathPattern(op.path).test(requestPath);
}

function conformanceTestFiles(): string[] {
  return (readdirSync(CONFORMANCE_DIR, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.js') && path.basename(f) !== THIS_FILE)
    .map((f) => path.join(CONFORMANCE_DIR, f))
    .sort();
}

/** Runs the conformance tests in a child `node --test` that logs every answered request to `log`. */
function runConformanceTests(files: readonly string[], log: string): Promise<{ code: number | null; summary: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, [REQUEST_LOG_ENV]: log };
  // Inside `node --test` this is set; the child must run as a test runner of its own.
  delete env['NODE_TEST_CONTEXT'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const summary = output
        .split('\n')
        .filter((l) => /^# (tests|pass|fail|todo) /.test(l))
        .join(', ');
      resolve({ code, summary });
    });
  });
}

describe('operation coverage', () => {
  const operations = specOperations(readFileSync(FIXTURE, 'utf8'));
  const keys = operations.map((o) => o.key);

  test('the pinned spec lists 30 operations: §0.1 (20), §1.9 tag APIs (4), §1.11 legacy (6)', () => {
    assert.equal(new Set(keys).size, keys.length, 'no operation twice');
    assert.equal(operations.filter((o) => o.source.startsWith('§0.1')).length, 20);
    assert.equal(operations.filter((o) => o.source.startsWith('§1.9')).length, 4);
    assert.equal(operations.filter((o) => o.source === '§1.11').length, 6);
    const find = (key: string) => operations.find((o) => o.key === key);
    assert.deepEqual(find('POST /v3/{project_id}/tracker')?.ok, [201]);
    assert.deepEqual(find('PUT /v3/{project_id}/configuration')?.ok, [204]);
    assert.deepEqual(find('POST /v3/{project_id}/{resource_type}/{resource_id}/tags')?.ok, [204]);
    assert.deepEqual(find('DELETE /v1.0/{project_id}/tracker')?.ok, [204]);
    assert.deepEqual(find('GET /v2.0/{project_id}/{tracker_name}/trace')?.ok, [200]);
    assert.equal(find('POST /v3/{project_id}/{resource_type}/{resource_id}/tags/create')?.ok.length, 100);
    assert.ok(find('GET /{version}') && find('GET /'));
  });

  test('every pending operation is an operation of the spec', () => {
    const unknown = [...PENDING.keys()].filter((k) => !keys.includes(k));
    assert.deepEqual(unknown, []);
  });

  test('a request matches an operation by method, path template and success status only', () => {
    const op = operations.find((o) => o.key === 'GET /{version}') as SpecOperation;
    const pid = '0123456789abcdef0123456789abcdef';
    assert.ok(covers(op, { method: 'GET', url: '/v1.0', status: 200 }));
    assert.ok(!covers(op, { method: 'GET', url: '/healthz', status: 200 }));
    assert.ok(!covers(op, { method: 'GET', url: '/v9', status: 404 }));
    const create = operations.find((o) => o.key === 'POST /v3/{project_id}/tracker') as SpecOperation;
    assert.ok(covers(create, { method: 'POST', url: `/v3/${pid}/tracker`, status: 201 }));
    assert.ok(!covers(create, { method: 'POST', url: `/v3/${pid}/tracker`, status: 400 }));
    assert.ok(!covers(create, { method: 'PUT', url: `/v3/${pid}/tracker`, status: 201 }));
    assert.ok(!covers(create, { method: 'POST', url: `/v3/${pid}/tracker/x`, status: 201 }));
    const trace = operations.find((o) => o.key === 'GET /v1.0/{project_id}/{tracker_name}/trace') as SpecOperation;
    assert.ok(covers(trace, { method: 'GET', url: `/v1.0/${pid}/system/trace?limit=10`, status: 200 }));
    assert.ok(!covers(trace, { method: 'GET', url: `/v1.0/${pid}/tracker`, status: 200 }));
  });

  describe('through the conformance tests', () => {
    let dir: string;
    let requests: LoggedRequest[];
    let run: { code: number | null; summary: string };

    before(async () => {
      dir = await makeTempDir('opencts-coverage-');
      const log = path.join(dir, 'requests.jsonl');
      const files = conformanceTestFiles();
      assert.ok(files.length >= 5, `conformance tests found: ${files.join(', ')}`);
      run = await runConformanceTests(files, log);
      requests = readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LoggedRequest);
    });
    after(() => rm(dir, { recursive: true, force: true }));

    test('every operation is covered by a successful request to a real server, or pending', (t) => {
      // The conformance tests report their own failures in the suite; here only requests count.
      t.diagnostic(`conformance run: exit ${run.code}; ${run.summary}`);
      assert.ok(requests.length > 100, `only ${requests.length} requests logged`);
      const covered = operations.filter((op) => requests.some((r) => covers(op, r)));
      const coveredKeys = new Set(covered.map((o) => o.key));
      for (const op of covered) t.diagnostic(`covered ${op.key} (${op.source})`);
      const missing = operations
        .filter((op) => !coveredKeys.has(op.key) && !PENDING.has(op.key))
        .map((op) => `${op.key} (${op.source}, expects ${op.ok.length > 3 ? '2xx' : op.ok.join('/')})`);
      assert.deepEqual(missing, [], 'operations with no successful request in any conformance test');
      const stale = [...PENDING.keys()].filter((k) => coveredKeys.has(k));
      assert.deepEqual(stale, [], 'covered now: remove these from PENDING');
    });
  });
});
