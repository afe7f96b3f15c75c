/**
 * Tracker write throughput, against its raw limits, in one run (DESIGN.md, "Performance method").
 *
 * Real path: OpenCTS (`node bin/opencts.js serve`, a child process on a temp data dir) driven over
 * a real socket by autocannon. One cycle is a signed `POST /v3/{project}/tracker` creating a data
 * tracker with a unique name, then a signed `DELETE /v3/{project}/trackers?tracker_name=…&tracker_type=data`
 * of that tracker, both on the same connection. Every request is signed afresh (SDK-HMAC-SHA256),
 * and any non-2xx answer is an error.
 *
 * Raw limits, measured in the same run and interleaved with it:
 *  - a bare Fastify 5 server (bench/support/bare-fastify-server.ts, a child process too), driven by
 *    exactly the same signed requests at the same connection counts;
 *  - raw better-sqlite3 single-row transactions: autocommit INSERT then DELETE of tracker rows, with
 *    the store's schema (its migrations) and pragmas, in a fresh temp file.
 *
 * Usage: node dist/bench/tracker-writes.js [--duration 10] [--repeat 3] [--connections 1,10,50]
 *        [--warmup 2] [--json] [--server-cpu-prof DIR]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { signRequest } from '../src/api/auth/sdk-hmac-sha256.js';
import { uuidv7 } from '../src/core/ids.js';
import { planCreateTracker } from '../src/core/tracker/tracker-rules.js';
import { migrate } from '../src/store/sqlite/migrations.js';
import { processCpuSeconds, startChildServer, type ChildServer } from './support/child-server.js';
import {
  formatNumber,
  formatRatio,
  formatSummary,
  markdownTable,
  percentilesInPlace,
  summarize,
  type Summary,
  errorSection,
} from './support/stats.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OPENCTS_BIN = path.join(REPO_ROOT, 'bin', 'opencts.js');
const BARE_FASTIFY = fileURLToPath(new URL('./support/bare-fastify-server.js', import.meta.url));
const HOST = '127.0.0.1';

// ---------------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------------

interface Options {
  readonly duration: number;
  readonly repeat: number;
  readonly connections: number[];
  readonly warmup: number;
  readonly json: boolean;
  readonly serverCpuProf: string | undefined;
}

const USAGE = `usage: node dist/bench/tracker-writes.js [options]
  --duration <s>          seconds per measurement (default 10)
  --repeat <n>            repetitions of every cell (default 3)
  --connections <list>    concurrent connections, comma-separated (default 1,10,50)
  --warmup <s>            unmeasured warm-up of each server before the first cell (default 2; 0 = none)
  --json                  print the results as JSON instead of tables
  --server-cpu-prof <dir> write a V8 CPU profile of the OpenCTS server into <dir> (node --cpu-prof)`;

function positive(name: string, raw: string, allowZero = false): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0))
    throw new Error(`--${name}: not a positive number: ${raw}`);
  return n;
}

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string', default: '10' },
      repeat: { type: 'string', default: '3' },
      connections: { type: 'string', default: '1,10,50' },
      warmup: { type: 'string', default: '2' },
      json: { type: 'boolean', default: false },
      'server-cpu-prof': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const connections = values.connections.split(',').map((c) => positive('connections', c.trim()));
  if (connections.some((c) => !Number.isInteger(c))) throw new Error('--connections: whole numbers only');
  const repeat = positive('repeat', values.repeat);
  if (!Number.isInteger(repeat)) throw new Error('--repeat: a whole number');
  return {
    duration: positive('duration', values.duration),
    repeat,
    connections,
    warmup: positive('warmup', values.warmup, true),
    json: values.json,
    serverCpuProf: values['server-cpu-prof'],
  };
}

const progress = (message: string) => process.stderr.write(`${message}\n`);

// ---------------------------------------------------------------------------------------------------------------
// The signed create → delete cycle
// ---------------------------------------------------------------------------------------------------------------

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly projectId: string;
}

type Kind = 'create' | 'delete';

/** What one load run saw. Latencies are per request, in ms, from autocannon's send to the full response. */
class Recorder {
  readonly latencies: Record<Kind, number[]> = { create: [], delete: [] };
  readonly ok: Record<Kind, number> = { create: 0, delete: 0 };
  readonly failures = new Map<string, number>();
  private lastKind: Kind = 'create';

  /** Called by the request's onResponse, just before autocannon's own 'response' event. */
  answered(kind: Kind, status: number, body: string): void {
    this.lastKind = kind;
    if (status >= 200 && status < 300) {
      this.ok[kind]++;
      return;
    }
    const key = `${kind} → HTTP ${status}: ${body.slice(0, 300)}`;
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
  }

  latency(ms: number): void {
    this.latencies[this.lastKind].push(ms);
  }

  get errorCount(): number {
    let n = 0;
    for (const c of this.failures.values()) n += c;
    return n;
  }
}

interface CycleTarget {
  readonly url: string;
  readonly port: number;
  /** The server process, for its CPU time. */
  readonly pid: number;
  readonly credentials: Credentials;
  /** Data dir of an OpenCTS server, where the per-connection bucket folders are made; none for bare Fastify. */
  readonly dataDir?: string;
}

function bucketName(runId: number, conn: number): string {
  return `bench-r${runId}-c${conn}`;
}

/**
 * The request sequence of one connection: create a data tracker on this connection's own bucket
 * (two trackers on one bucket with the same events conflict, CTS.0209), then delete it. autocannon
 * keeps the order on each connection and rebuilds (so re-signs) every request just before sending it.
 */
function cycleRequests(target: CycleTarget, runId: number, conn: number, recorder: Recorder): autocannon.Request[] {
  const { projectId } = target.credentials;
  const signing = { accessKeyId: target.credentials.accessKeyId, secretAccessKey: target.credentials.secretAccessKey };
  const host = `${HOST}:${target.port}`;
  const bucket = bucketName(runId, conn);
  let seq = 0;
  let name = '';
  const createPath = `/v3/${projectId}/tracker`;
  const deletePath = `/v3/${projectId}/trackers`;
  return [
    {
      method: 'POST',
      setupRequest: (request) => {
        name = `r${runId}c${conn}n${seq++}`;
        const body = JSON.stringify({
          tracker_type: 'data',
          tracker_name: name,
          is_lts_enabled: false,
          data_bucket: { data_bucket_name: bucket, data_event: ['READ', 'WRITE'] },
        });
        const headers = { host, 'content-type': 'application/json;charset=UTF-8', 'x-project-id': projectId };
        const signed = signRequest({ method: 'POST', path: createPath, query: [], headers, body }, signing);
        return { ...request, method: 'POST', path: createPath, body, headers: { ...headers, ...signed } };
      },
      onResponse: (status, body) => recorder.answered('create', status, body),
    },
    {
      method: 'DELETE',
      setupRequest: (request) => {
        const query: Array<[string, string]> = [
          ['tracker_name', name],
          ['tracker_type', 'data'],
        ];
        const headers = { host, 'content-type': 'application/json', 'x-project-id': projectId };
        const signed = signRequest({ method: 'DELETE', path: deletePath, query, headers, body: '' }, signing);
        return {
          ...request,
          method: 'DELETE',
          path: `${deletePath}?tracker_name=${encodeURIComponent(name)}&tracker_type=data`,
          body: undefined,
          headers: { ...headers, ...signed },
        };
      },
      onResponse: (status, body) => recorder.answered('delete', status, body),
    },
  ];
}

export interface LoadRun {
  readonly connections: number;
  readonly seconds: number;
  readonly requests: number;
  readonly cycles: number;
  readonly cyclesPerSec: number;
  readonly requestsPerSec: number;
  /** Over all requests (create and delete), ms. */
  readonly p50: number;
  readonly p99: number;
  readonly createP50: number;
  readonly createP99: number;
  readonly deleteP50: number;
  readonly deleteP99: number;
  /** Non-2xx answers plus connection errors and timeouts. */
  readonly errors: number;
  readonly errorSamples: Record<string, number>;
  /** CPU the server process used during the run, as % of one core (100 = one core saturated). */
  readonly serverCpuPercent: number;
  /** Server CPU time per answered request, µs. */
  readonly serverCpuUsPerRequest: number;
  /** CPU the load generator (this process) used, % of one core. */
  readonly clientCpuPercent: number;
  /** 1-minute load average of the machine when the run ended. */
  readonly loadAverage: number;
}

let nextRunId = 0;

async function runCycles(target: CycleTarget, connections: number, seconds: number): Promise<LoadRun> {
  const runId = nextRunId++;
  if (target.dataDir) {
    for (let c = 0; c < connections; c++) {
      await mkdir(path.join(target.dataDir, 'buckets', bucketName(runId, c)), { recursive: true });
    }
  }
  const recorder = new Recorder();
  let conn = 0;
  const serverCpuBefore = processCpuSeconds(target.pid);
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  const { result, elapsed } = await new Promise<{ result: autocannon.Result; elapsed: number }>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        connections,
        duration: seconds,
        pipelining: 1,
        setupClient: (client) => client.setRequests(cycleRequests(target, runId, conn++, recorder)),
      },
      (err: unknown, res: autocannon.Result) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve({ result: res, elapsed: (performance.now() - started) / 1000 });
      },
    );
    instance.on('response', (_client, _status, _bytes, ms) => recorder.latency(ms));
  });
  const serverCpu = processCpuSeconds(target.pid) - serverCpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);

  const all = [...recorder.latencies.create, ...recorder.latencies.delete];
  const [p50 = NaN, p99 = NaN] = percentilesInPlace(all, [50, 99]);
  const [createP50 = NaN, createP99 = NaN] = percentilesInPlace(recorder.latencies.create, [50, 99]);
  const [deleteP50 = NaN, deleteP99 = NaN] = percentilesInPlace(recorder.latencies.delete, [50, 99]);
  const errorSamples = Object.fromEntries(recorder.failures);
  const socketErrors = result.errors; // includes timeouts
  if (socketErrors > 0) errorSamples[`connection errors/timeouts (${result.timeouts} timeouts)`] = socketErrors;
  const requests = all.length;
  const cycles = recorder.ok.delete;
  return {
    connections,
    seconds: elapsed,
    requests,
    cycles,
    cyclesPerSec: cycles / elapsed,
    requestsPerSec: requests / elapsed,
    p50,
    p99,
    createP50,
    createP99,
    deleteP50,
    deleteP99,
    errors: recorder.errorCount + socketErrors,
    errorSamples,
    serverCpuPercent: (100 * serverCpu) / elapsed,
    serverCpuUsPerRequest: (serverCpu * 1e6) / requests,
    clientCpuPercent: (clientCpu.user + clientCpu.system) / 1e4 / elapsed,
    loadAverage: loadavg()[0] ?? Number.NaN,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// OpenCTS helpers: credentials, and removing what a stopped run left behind
// ---------------------------------------------------------------------------------------------------------------

const execFileAsync = promisify(execFile);

async function createCredentials(dataDir: string): Promise<Credentials> {
  const projectId = randomBytes(16).toString('hex');
  const domainId = randomBytes(16).toString('hex');
  const { stdout } = await execFileAsync(process.execPath, [
    OPENCTS_BIN,
    'credentials',
    'create',
    '--data-dir',
    dataDir,
    '--project-id',
    projectId,
    '--domain-id',
    domainId,
    '--user',
    'bench',
    '--json',
  ]);
  const issued = JSON.parse(stdout) as { access_key_id: string; secret_access_key: string; project_id: string };
  return {
    accessKeyId: issued.access_key_id,
    secretAccessKey: issued.secret_access_key,
    projectId: issued.project_id,
  };
}

async function signedFetch(
  server: ChildServer,
  credentials: Credentials,
  method: 'GET' | 'DELETE',
  pathname: string,
  query: Array<[string, string]>,
): Promise<{ status: number; body: string }> {
  const headers = { 'content-type': 'application/json', 'x-project-id': credentials.projectId };
  const signed = signRequest({ method, path: pathname, query, headers, body: '' }, credentials);
  const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const res = await fetch(`${server.url}${pathname}${qs ? `?${qs}` : ''}`, {
    method,
    headers: { ...headers, ...signed },
  });
  return { status: res.status, body: await res.text() };
}

/**
 * autocannon stops mid-cycle, so a run can leave up to one tracker per connection (and a create
 * may still be in flight). Delete every data tracker until none is left, so each run starts from
 * an empty project (the service reads all of a project's trackers on every write).
 */
async function removeLeftoverTrackers(server: ChildServer, credentials: Credentials): Promise<void> {
  const trackers = `/v3/${credentials.projectId}/trackers`;
  for (let attempt = 0; attempt < 50; attempt++) {
    await sleep(100);
    const list = await signedFetch(server, credentials, 'GET', trackers, [['tracker_type', 'data']]);
    if (list.status !== 200) throw new Error(`listing trackers failed: HTTP ${list.status} ${list.body}`);
    if ((JSON.parse(list.body) as { trackers: unknown[] }).trackers.length === 0) return;
    const del = await signedFetch(server, credentials, 'DELETE', trackers, [['tracker_type', 'data']]);
    if (del.status >= 300 && del.status !== 404)
      throw new Error(`deleting trackers failed: HTTP ${del.status} ${del.body}`);
  }
  throw new Error('trackers left over after a run could not be removed');
}

// ---------------------------------------------------------------------------------------------------------------
// Raw SQLite single-row commits
// ---------------------------------------------------------------------------------------------------------------

export interface SqliteRun {
  readonly seconds: number;
  readonly commits: number;
  readonly commitsPerSec: number;
  readonly bodyBytes: number;
}

/** A tracker row body as the store writes it (a real data tracker, serialised). */
function sampleTrackerBody(projectId: string, domainId: string): string {
  const { tracker } = planCreateTracker(
    [],
    {
      tracker_type: 'data',
      tracker_name: 'r0c0n0',
      is_lts_enabled: false,
      data_bucket: { data_bucket_name: 'bench-r0-c0', data_event: ['READ', 'WRITE'] },
    },
    { projectId, domainId, region: 'local-1', now: Date.now(), newId: () => uuidv7() },
  );
  return JSON.stringify(tracker);
}

/**
 * Autocommit INSERT then DELETE of the same tracker row, repeated for `seconds`: every statement is
 * its own transaction, as a store without group commit would do. Same schema (the store's
 * migrations) and pragmas as SqliteStore, in a fresh file.
 */
function rawSqliteCommits(dir: string, runId: number, seconds: number): SqliteRun {
  const file = path.join(dir, `raw-sqlite-${runId}.db`);
  const db = new Database(file);
  try {
    db.pragma('page_size = 8192');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    const projectId = randomBytes(16).toString('hex');
    const domainId = randomBytes(16).toString('hex');
    db.prepare('INSERT INTO projects (project_id, domain_id, name, created_at) VALUES (?, ?, ?, ?)').run(
      projectId,
      domainId,
      projectId,
      Date.now(),
    );
    // The store's own statements (SqliteStore.upsertTracker / deleteTracker).
    const insert = db.prepare(
      `INSERT INTO trackers (id, project_id, tracker_type, tracker_name, body) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET tracker_name = excluded.tracker_name, body = excluded.body`,
    );
    const remove = db.prepare('DELETE FROM trackers WHERE id = ? AND project_id = ?');
    const body = sampleTrackerBody(projectId, domainId);
    let commits = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let now = started;
    for (let i = 0; now < deadline; i++) {
      const id = uuidv7();
      insert.run(id, projectId, 'data', `r0c0n${i}`, body);
      remove.run(id, projectId);
      commits += 2;
      if ((i & 63) === 0) now = performance.now();
    }
    const elapsed = (performance.now() - started) / 1000;
    return { seconds: elapsed, commits, commitsPerSec: commits / elapsed, bodyBytes: Buffer.byteLength(body) };
  } finally {
    db.close();
  }
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return db.prepare('SELECT sqlite_version()').pluck().get() as string;
  } finally {
    db.close();
  }
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return '?';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------------------------

export interface Cell {
  readonly connections: number;
  readonly opencts: LoadRun[];
  readonly bareFastify: LoadRun[];
  /** Index of the SQLite run of the same round, to pair ratios. */
  readonly round: number[];
}

export interface Report {
  readonly benchmark: 'tracker-writes';
  readonly options: Omit<Options, 'json' | 'serverCpuProf'>;
  readonly environment: Record<string, string | number>;
  readonly sqlite: SqliteRun[];
  readonly cells: Array<
    Cell & {
      readonly summary: Record<string, Summary>;
    }
  >;
  readonly errors: number;
}

function summarizeCell(cell: Cell, sqlite: readonly SqliteRun[]): Record<string, Summary> {
  const o = cell.opencts;
  const b = cell.bareFastify;
  return {
    cyclesPerSec: summarize(o.map((r) => r.cyclesPerSec)),
    requestsPerSec: summarize(o.map((r) => r.requestsPerSec)),
    p50: summarize(o.map((r) => r.p50)),
    p99: summarize(o.map((r) => r.p99)),
    createP50: summarize(o.map((r) => r.createP50)),
    createP99: summarize(o.map((r) => r.createP99)),
    deleteP50: summarize(o.map((r) => r.deleteP50)),
    deleteP99: summarize(o.map((r) => r.deleteP99)),
    errors: summarize(o.map((r) => r.errors)),
    bareRequestsPerSec: summarize(b.map((r) => r.requestsPerSec)),
    bareP50: summarize(b.map((r) => r.p50)),
    bareP99: summarize(b.map((r) => r.p99)),
    bareErrors: summarize(b.map((r) => r.errors)),
    serverCpuPercent: summarize(o.map((r) => r.serverCpuPercent)),
    serverCpuUsPerRequest: summarize(o.map((r) => r.serverCpuUsPerRequest)),
    clientCpuPercent: summarize(o.map((r) => r.clientCpuPercent)),
    bareServerCpuPercent: summarize(b.map((r) => r.serverCpuPercent)),
    bareServerCpuUsPerRequest: summarize(b.map((r) => r.serverCpuUsPerRequest)),
    bareClientCpuPercent: summarize(b.map((r) => r.clientCpuPercent)),
    // Ratios pair the runs of one round (measured next to each other), then take the median.
    requestsVsBare: summarize(o.map((r, i) => r.requestsPerSec / b[i]!.requestsPerSec)),
    writesVsRawSqlite: summarize(o.map((r, i) => (2 * r.cyclesPerSec) / sqlite[cell.round[i]!]!.commitsPerSec)),
  };
}

function render(report: Report, options: Options): string {
  const sqlite = summarize(report.sqlite.map((r) => r.commitsPerSec));
  const env = report.environment;
  const lines: string[] = [];
  lines.push(
    'OpenCTS tracker writes: cycle = signed POST /v3/{project}/tracker (new data tracker) + signed DELETE /v3/{project}/trackers?tracker_name=…&tracker_type=data',
  );
  lines.push(
    `${options.duration} s per measurement, ${options.repeat} repetition(s), warm-up ${options.warmup} s; figures are median (min–max) over repetitions.`,
  );
  lines.push(
    `Machine: ${env['cpus']} × ${env['cpuModel']}; Node ${env['node']}; fastify ${env['fastify']}, better-sqlite3 ${env['betterSqlite3']} (SQLite ${env['sqlite']}), autocannon ${env['autocannon']}.`,
  );
  lines.push(
    `1-minute load average: ${env['loadAverageStart']} at the start, ${env['loadAverageEnd']} at the end (other work on the machine competes for its cores).`,
  );
  lines.push(
    `Raw SQLite single-row commits (autocommit INSERT + DELETE of a ${report.sqlite[0]?.bodyBytes ?? '?'} B tracker row; store schema, WAL, synchronous=NORMAL, 8 KB pages): ${formatSummary(sqlite)} commits/s`,
  );
  lines.push('');
  const headers = [
    'conns',
    'cycles/s',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'bare Fastify req/s',
    'req/s ÷ bare',
    'writes/s ÷ raw SQLite',
  ];
  const rows = report.cells.map((c) => {
    const s = c.summary;
    return [
      String(c.connections),
      formatSummary(s['cyclesPerSec']!, 0),
      formatSummary(s['requestsPerSec']!, 0),
      formatSummary(s['p50']!, 2),
      formatSummary(s['p99']!, 2),
      String(c.opencts.reduce((n, r) => n + r.errors, 0)),
      formatSummary(s['bareRequestsPerSec']!, 0),
      formatRatio(s['requestsVsBare']!),
      formatRatio(s['writesVsRawSqlite']!),
    ];
  });
  lines.push(markdownTable(headers, rows));
  lines.push('');
  lines.push('Latency by request (OpenCTS, ms) and bare Fastify latency:');
  lines.push(
    markdownTable(
      ['conns', 'create p50', 'create p99', 'delete p50', 'delete p99', 'bare p50', 'bare p99', 'bare errors'],
      report.cells.map((c) => {
        const s = c.summary;
        return [
          String(c.connections),
          formatSummary(s['createP50']!, 2),
          formatSummary(s['createP99']!, 2),
          formatSummary(s['deleteP50']!, 2),
          formatSummary(s['deleteP99']!, 2),
          formatSummary(s['bareP50']!, 2),
          formatSummary(s['bareP99']!, 2),
          String(c.bareFastify.reduce((n, r) => n + r.errors, 0)),
        ];
      }),
    ),
  );
  lines.push('');
  lines.push('CPU use during the runs (% of one core; µs of server CPU per answered request):');
  lines.push(
    markdownTable(
      [
        'conns',
        'OpenCTS CPU %',
        'OpenCTS µs/req',
        'client CPU %',
        'bare Fastify CPU %',
        'bare Fastify µs/req',
        'client CPU % (bare)',
      ],
      report.cells.map((c) => {
        const s = c.summary;
        return [
          String(c.connections),
          formatSummary(s['serverCpuPercent']!, 0),
          formatSummary(s['serverCpuUsPerRequest']!, 0),
          formatSummary(s['clientCpuPercent']!, 0),
          formatSummary(s['bareServerCpuPercent']!, 0),
          formatSummary(s['bareServerCpuUsPerRequest']!, 0),
          formatSummary(s['bareClientCpuPercent']!, 0),
        ];
      }),
    ),
  );
  lines.push('');
  lines.push(
    'Notes: req/s counts create and delete requests (2 per cycle); a cycle is counted when its DELETE answered 2xx. ' +
      'Writes/s = 2 × cycles/s (one tracker insert and one delete per cycle). Bare Fastify gets the same signed requests ' +
      'from the same load generator, so its req/s is the ceiling of this client + HTTP on this machine. ' +
      'The load generator and the servers share the machine’s cores.',
  );
  lines.push(...errorSection(report.cells, report.errors));
  return lines.join('\n');
}

export async function runBenchmark(options: Options): Promise<Report> {
  const root = await mkdtemp(path.join(tmpdir(), 'opencts-bench-tracker-writes-'));
  const dataDir = path.join(root, 'data');
  const sqliteDir = path.join(root, 'raw-sqlite');
  mkdirSync(sqliteDir, { recursive: true });
  const servers: ChildServer[] = [];
  const loadAverageStart = loadavg()[0] ?? Number.NaN;
  try {
    progress(`tracker-writes: temp dir ${root}`);
    const credentials = await createCredentials(dataDir);
    const profArgs = options.serverCpuProf
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.serverCpuProf)}`]
      : [];
    const opencts = await startChildServer({
      args: [
        ...profArgs,
        OPENCTS_BIN,
        'serve',
        '--data-dir',
        dataDir,
        '--host',
        HOST,
        '--port',
        '{port}',
        '--log-level',
        'warn',
      ],
      host: HOST,
    });
    servers.push(opencts);
    const bare = await startChildServer({ args: [BARE_FASTIFY, '--host', HOST, '--port', '{port}'], host: HOST });
    servers.push(bare);
    progress(
      `tracker-writes: OpenCTS pid ${opencts.pid} at ${opencts.url}, bare Fastify pid ${bare.pid} at ${bare.url}`,
    );

    const ours: CycleTarget = { url: opencts.url, port: opencts.port, pid: opencts.pid, credentials, dataDir };
    const theirs: CycleTarget = { url: bare.url, port: bare.port, pid: bare.pid, credentials };

    if (options.warmup > 0) {
      const c = Math.max(...options.connections);
      progress(`tracker-writes: warm-up ${options.warmup} s per server at ${c} connections`);
      await runCycles(ours, c, options.warmup);
      await removeLeftoverTrackers(opencts, credentials);
      await runCycles(theirs, c, options.warmup);
    }

    const cells: Cell[] = options.connections.map((connections) => ({
      connections,
      opencts: [],
      bareFastify: [],
      round: [],
    }));
    const sqlite: SqliteRun[] = [];
    // Rounds interleave every measurement, so slow drift of the machine hits all of them alike.
    for (let round = 0; round < options.repeat; round++) {
      const tag = `[${round + 1}/${options.repeat}]`;
      for (const cell of cells) {
        const o = await runCycles(ours, cell.connections, options.duration);
        await removeLeftoverTrackers(opencts, credentials);
        progress(
          `${tag} OpenCTS      ${cell.connections} conns: ${formatNumber(o.cyclesPerSec, 0)} cycles/s, ${formatNumber(o.requestsPerSec, 0)} req/s, p50 ${formatNumber(o.p50, 2)} ms, p99 ${formatNumber(o.p99, 2)} ms, ${o.errors} errors, server CPU ${formatNumber(o.serverCpuPercent, 0)} %, load ${formatNumber(o.loadAverage, 2)}`,
        );
        const b = await runCycles(theirs, cell.connections, options.duration);
        progress(
          `${tag} bare Fastify ${cell.connections} conns: ${formatNumber(b.requestsPerSec, 0)} req/s, p50 ${formatNumber(b.p50, 2)} ms, p99 ${formatNumber(b.p99, 2)} ms, ${b.errors} errors, server CPU ${formatNumber(b.serverCpuPercent, 0)} %, load ${formatNumber(b.loadAverage, 2)}`,
        );
        cell.opencts.push(o);
        cell.bareFastify.push(b);
        cell.round.push(round);
      }
      const s = rawSqliteCommits(sqliteDir, round, options.duration);
      sqlite.push(s);
      progress(`${tag} raw SQLite: ${formatNumber(s.commitsPerSec, 0)} single-row commits/s`);
    }

    const errors = cells.reduce((n, c) => n + [...c.opencts, ...c.bareFastify].reduce((m, r) => m + r.errors, 0), 0);
    return {
      benchmark: 'tracker-writes',
      options: {
        duration: options.duration,
        repeat: options.repeat,
        connections: options.connections,
        warmup: options.warmup,
      },
      environment: {
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model.trim() ?? '?',
        fastify: packageVersion('fastify'),
        betterSqlite3: packageVersion('better-sqlite3'),
        sqlite: sqliteVersion(),
        autocannon: packageVersion('autocannon'),
        date: new Date().toISOString(),
        loadAverageStart: formatNumber(loadAverageStart, 2),
        loadAverageEnd: formatNumber(loadavg()[0] ?? Number.NaN, 2),
      },
      sqlite,
      cells: cells.map((c) => ({ ...c, summary: summarizeCell(c, sqlite) })),
      errors,
    };
  } finally {
    for (const s of servers.reverse()) await s.stop();
    await rm(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const report = await runBenchmark(options);
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else console.log(render(report, options));
  // Any non-2xx answer or socket error fails the benchmark: its numbers would not mean what they say.
  if (report.errors > 0) process.exitCode = 1;
}

const isEntryPoint = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]);
if (isEntryPoint) {
  main().catch((err: unknown) => {
    console.error(`tracker-writes: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
