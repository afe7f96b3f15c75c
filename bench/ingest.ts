/**
 * Ingest throughput: traces per second through `POST /v3/{project}/traces` (batches of 100), against
 * raw SQLite batch inserts of the same rows measured in the same run (DESIGN.md, "Performance method").
 *
 * Real path: OpenCTS (`node bin/opencts.js serve`, a child process on a temp data dir) with the
 * system tracker enabled, driven by autocannon with a `service` key; every request is signed
 * afresh. Bodies hold 100 synthetic management traces each (bench/support/trace-generator.ts:
 * 30 services, 200 resource types, 50 users, 300 operation names, ratings 6:2:1; about 1.3 KB per
 * stored trace), drawn round-robin from a pre-generated pool, with times in the last 10 minutes.
 * A 201 answer counts only when every trace got an id (was recorded).
 *
 * Raw limits, in the same run and interleaved with it:
 *  - raw better-sqlite3 inserts of the same rows, 100 per transaction, into a table with the
 *    store's trace columns and NO index (goal basis), store pragmas, fresh file each round;
 *  - the same into the store's own `traces` table with all its indexes (for information);
 *  - a bare Fastify 5 server answering the same signed POSTs (JSON parse only), same client.
 * Rows are built before the timed loop with the real ingest code (tracesToStore: redaction,
 * wire JSON), so the raw loop is SQLite alone.
 *
 * Goal: traces/s ≥ 50 % of raw no-index batch inserts.
 *
 * Usage: node dist/bench/ingest.js [--duration 10] [--repeat 3] [--connections 1,4,16] [--batch 100]
 *        [--warmup 2] [--json] [--server-cpu-prof DIR]
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { uuidv7 } from '../src/core/ids.js';
import { tracesToStore, type IngestedTrace } from '../src/core/trace/ingest.js';
import type { Tracker } from '../src/core/tracker/tracker.js';
import type { ChildServer } from './support/child-server.js';
import { autocannonLoad, type LoadRun, type LoadTarget } from './support/load.js';
import {
  createCredentials,
  DATABASE_FILE,
  describeEnvironment,
  environment,
  integerList,
  isEntryPoint,
  loadAverage,
  mustRequest,
  percent,
  positive,
  positiveInteger,
  progress,
  SignedClient,
  startBareFastify,
  startOpenCts,
  type Credentials,
} from './support/opencts.js';
import {
  indexCount,
  insertTraceSql,
  openStoreSchema,
  traceRow,
  tracesTableWithoutIndexes,
  type TraceRow,
} from './support/raw-sqlite.js';
import { formatNumber, formatSummary, markdownTable, summarize, type Summary, errorSection } from './support/stats.js';
import { buildUniverse, generateIngested, mulberry32 } from './support/trace-generator.js';
import { ingestRequests } from './support/ingest-requests.js';

// ---------------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------------

export interface Options {
  readonly duration: number;
  readonly repeat: number;
  readonly connections: number[];
  readonly batch: number;
  readonly warmup: number;
  readonly json: boolean;
  readonly serverCpuProf: string | undefined;
}

const USAGE = `usage: node dist/bench/ingest.js [options]
  --duration <s>          seconds per measurement (default 10)
  --repeat <n>            repetitions of every cell (default 3)
  --connections <list>    concurrent connections, comma-separated (default 1,4,16)
  --batch <n>             traces per request and per raw transaction (default 100, the API maximum)
  --warmup <s>            unmeasured warm-up of each server before the first cell (default 2; 0 = none)
  --json                  print the results as JSON instead of tables
  --server-cpu-prof <dir> write a V8 CPU profile of the OpenCTS server into <dir> (node --cpu-prof)`;

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string', default: '10' },
      repeat: { type: 'string', default: '3' },
      connections: { type: 'string', default: '1,4,16' },
      batch: { type: 'string', default: '100' },
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
  const batch = positiveInteger('batch', values.batch);
  if (batch > 100) throw new Error('--batch: at most 100 (the API limit)');
  return {
    duration: positive('duration', values.duration),
    repeat: positiveInteger('repeat', values.repeat),
    connections: integerList('connections', values.connections),
    batch,
    warmup: positive('warmup', values.warmup, true),
    json: values.json,
    serverCpuProf: values['server-cpu-prof'],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Bodies and rows
// ---------------------------------------------------------------------------------------------------------------

const POOL_BODIES = 64;
const universe = buildUniverse(1);

interface Workload {
  /** JSON bodies of `POST /v3/{project}/traces`. */
  readonly bodies: string[];
  /** The stored rows of the same traces (for raw SQLite), built by the real ingest code. */
  readonly rows: TraceRow[];
  readonly meanBodyBytesPerTrace: number;
  readonly meanWireBytes: number;
}

function workload(credentials: Credentials, systemTracker: Tracker, batch: number): Workload {
  const rng = mulberry32(42);
  const now = Date.now();
  const bodies: string[] = [];
  const rows: TraceRow[] = [];
  let wireBytes = 0;
  for (let b = 0; b < POOL_BODIES; b++) {
    const traces: IngestedTrace[] = [];
    for (let i = 0; i < batch; i++) {
      const item = generateIngested(rng, universe, now - Math.floor(rng() * 600_000), credentials.projectId);
      traces.push(item);
      const ctx = {
        projectId: credentials.projectId,
        domainId: credentials.domainId,
        traceId: uuidv7(now),
        recordTime: now,
      };
      for (const stored of tracesToStore(item, i, [systemTracker], ctx)) {
        const row = traceRow(stored);
        wireBytes += String(row[19]).length;
        rows.push(row);
      }
    }
    bodies.push(JSON.stringify({ traces }));
  }
  const bodyBytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
  return {
    bodies,
    rows,
    meanBodyBytesPerTrace: bodyBytes / (POOL_BODIES * batch),
    meanWireBytes: wireBytes / rows.length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Raw SQLite
// ---------------------------------------------------------------------------------------------------------------

export interface RawRun {
  /** Rows/s into a table with the trace columns and no index, `batch` per transaction. */
  readonly noIndexRowsPerSec: number;
  /** Rows/s into the store's traces table (with its indexes), `batch` per transaction. */
  readonly storeSchemaRowsPerSec: number;
  /** Indexes on the store's traces table. */
  readonly storeIndexes: number;
}

function rawInserts(dir: string, round: number, seconds: number, rows: readonly TraceRow[], batch: number): RawRun {
  let storeIndexes = 0;
  const measure = (file: string, indexed: boolean) => {
    const db = openStoreSchema(path.join(dir, file));
    try {
      if (indexed) storeIndexes = indexCount(db, 'traces');
      let table = 'traces';
      if (!indexed) {
        table = 'raw_traces';
        db.exec(tracesTableWithoutIndexes(table));
      }
      const insert = db.prepare(insertTraceSql(table));
      const insertBatch = db.transaction((from: number) => {
        for (let i = 0; i < batch; i++) {
          const row = rows[(from + i) % rows.length]!;
          // Trace ids are unique per tracker (index traces_id): a fresh UUIDv7 per row, in both tables.
          row[0] = uuidv7();
          insert.run(...row);
        }
      });
      let inserted = 0;
      const started = performance.now();
      const deadline = started + seconds * 1000;
      while (performance.now() < deadline) {
        insertBatch(inserted);
        inserted += batch;
      }
      return inserted / ((performance.now() - started) / 1000);
    } finally {
      db.close();
    }
  };
  return {
    noIndexRowsPerSec: measure(`raw-${round}-noindex.db`, false),
    storeSchemaRowsPerSec: measure(`raw-${round}-store.db`, true),
    storeIndexes,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------------------------

export interface Cell {
  readonly connections: number;
  readonly opencts: LoadRun[];
  readonly bareFastify: LoadRun[];
  readonly round: number[];
}

export interface Report {
  readonly benchmark: 'ingest';
  readonly options: Omit<Options, 'json' | 'serverCpuProf'>;
  readonly environment: Record<string, string | number>;
  readonly workload: { meanBodyBytesPerTrace: number; meanWireBytes: number };
  readonly raw: RawRun[];
  readonly cells: Array<Cell & { readonly summary: Record<string, Summary> }>;
  readonly storedTraces: number;
  readonly databaseBytes: number;
  readonly errors: number;
}

const GOAL = 0.5;

function summarizeCell(cell: Cell, raw: readonly RawRun[], batch: number): Record<string, Summary> {
  const o = cell.opencts;
  const b = cell.bareFastify;
  return {
    tracesPerSec: summarize(o.map((r) => r.okPerSec * batch)),
    requestsPerSec: summarize(o.map((r) => r.okPerSec)),
    p50: summarize(o.map((r) => r.p50)),
    p99: summarize(o.map((r) => r.p99)),
    serverCpuPercent: summarize(o.map((r) => r.serverCpuPercent)),
    serverCpuUsPerTrace: summarize(o.map((r) => r.serverCpuUsPerRequest / batch)),
    clientCpuPercent: summarize(o.map((r) => r.clientCpuPercent)),
    bareTracesPerSec: summarize(b.map((r) => r.okPerSec * batch)),
    bareServerCpuPercent: summarize(b.map((r) => r.serverCpuPercent)),
    vsBare: summarize(o.map((r, i) => r.okPerSec / b[i]!.okPerSec)),
    vsRawNoIndex: summarize(o.map((r, i) => (r.okPerSec * batch) / raw[cell.round[i]!]!.noIndexRowsPerSec)),
    vsRawStoreSchema: summarize(o.map((r, i) => (r.okPerSec * batch) / raw[cell.round[i]!]!.storeSchemaRowsPerSec)),
  };
}

function pct(s: Summary): string {
  if (s.n <= 1) return percent(s.median);
  return `${percent(s.median)} (${percent(s.min)}–${percent(s.max)})`;
}

export function render(report: Report): string {
  const o = report.options;
  const env = report.environment;
  const noIndex = summarize(report.raw.map((r) => r.noIndexRowsPerSec));
  const store = summarize(report.raw.map((r) => r.storeSchemaRowsPerSec));
  const lines: string[] = [];
  lines.push(
    `OpenCTS ingest: signed POST /v3/{project}/traces, ${o.batch} traces per request (${formatNumber(report.workload.meanBodyBytesPerTrace, 0)} B of request JSON and ${formatNumber(report.workload.meanWireBytes, 0)} B of stored wire JSON per trace), system tracker recording`,
  );
  lines.push(
    `${o.duration} s per measurement, ${o.repeat} repetition(s), warm-up ${o.warmup} s; figures are median (min–max) over repetitions. autocannon, 1 request in flight per connection.`,
  );
  lines.push(describeEnvironment(env));
  lines.push(
    `Load average (1/5/15 min): ${env['loadAverageStart']} at the start, ${env['loadAverageEnd']} at the end.`,
  );
  lines.push(
    `Raw SQLite, same rows, ${o.batch} per transaction, table with the trace columns and NO index (store pragmas): ${formatSummary(noIndex, 0)} rows/s`,
  );
  lines.push(
    `Raw SQLite, same rows, ${o.batch} per transaction, the store's traces table with its ${report.raw[0]?.storeIndexes ?? '?'} indexes (for information): ${formatSummary(store, 0)} rows/s`,
  );
  lines.push('');
  lines.push(
    markdownTable(
      [
        'conns',
        'traces/s',
        'req/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'bare Fastify traces/s',
        'traces/s ÷ raw no-index',
        `goal ≥ ${percent(GOAL)}`,
        'traces/s ÷ raw store schema',
      ],
      report.cells.map((c) => {
        const s = c.summary;
        return [
          String(c.connections),
          formatSummary(s['tracesPerSec']!, 0),
          formatSummary(s['requestsPerSec']!, 0),
          formatSummary(s['p50']!, 1),
          formatSummary(s['p99']!, 1),
          String(c.opencts.reduce((n, r) => n + r.errors, 0)),
          formatSummary(s['bareTracesPerSec']!, 0),
          pct(s['vsRawNoIndex']!),
          s['vsRawNoIndex']!.median >= GOAL ? 'met' : 'MISSED',
          pct(s['vsRawStoreSchema']!),
        ];
      }),
    ),
  );
  lines.push('');
  lines.push('CPU during the runs (% of one core) and server CPU per stored trace:');
  lines.push(
    markdownTable(
      ['conns', 'OpenCTS CPU %', 'OpenCTS µs/trace', 'client CPU %', 'bare Fastify CPU %', 'traces/s ÷ bare'],
      report.cells.map((c) => {
        const s = c.summary;
        return [
          String(c.connections),
          formatSummary(s['serverCpuPercent']!, 0),
          formatSummary(s['serverCpuUsPerTrace']!, 1),
          formatSummary(s['clientCpuPercent']!, 0),
          formatSummary(s['bareServerCpuPercent']!, 0),
          pct(s['vsBare']!),
        ];
      }),
    ),
  );
  lines.push('');
  lines.push(
    `The server's database held ${formatNumber(report.storedTraces, 0)} traces (${formatNumber(report.databaseBytes / 1e6, 0)} MB) at the end; it grows through the run, the raw files start empty each round.`,
  );
  lines.push(...errorSection(report.cells, report.errors));
  return lines.join('\n');
}

export async function runBenchmark(options: Options): Promise<Report> {
  const root = await mkdtemp(path.join(tmpdir(), 'opencts-bench-ingest-'));
  const dataDir = path.join(root, 'data');
  const rawDir = path.join(root, 'raw-sqlite');
  mkdirSync(rawDir, { recursive: true });
  const servers: ChildServer[] = [];
  const loadAverageStart = loadAverage();
  try {
    progress(`ingest: temp dir ${root}, load average ${loadAverageStart}`);
    const admin = await createCredentials(dataDir);
    const service = await createCredentials(dataDir, {
      role: 'service',
      projectId: admin.projectId,
      domainId: admin.domainId,
      user: 'reporter',
    });
    const opencts = await startOpenCts({ dataDir, cpuProfDir: options.serverCpuProf });
    servers.push(opencts);
    const bare = await startBareFastify();
    servers.push(bare);
    progress(`ingest: OpenCTS pid ${opencts.pid} at ${opencts.url}, bare Fastify pid ${bare.pid}`);

    const client = new SignedClient(opencts.port, admin);
    const system = (await mustRequest(client, 'POST', `/v3/${admin.projectId}/tracker`, [], {
      tracker_type: 'system',
      tracker_name: 'system',
    })) as Tracker;
    client.close();

    const work = workload(service, system, options.batch);
    progress(
      `ingest: ${work.bodies.length} bodies of ${options.batch} traces, ${formatNumber(work.meanBodyBytesPerTrace, 0)} B JSON and ${formatNumber(work.meanWireBytes, 0)} B wire per trace`,
    );
    const { next, check } = ingestRequests(service.projectId, work.bodies, options.batch);
    const ours: LoadTarget = { port: opencts.port, pid: opencts.pid, credentials: service };
    const theirs: LoadTarget = { port: bare.port, pid: bare.pid, credentials: service };

    if (options.warmup > 0) {
      const c = Math.max(...options.connections);
      progress(`ingest: warm-up ${options.warmup} s per server at ${c} connections`);
      await autocannonLoad(ours, { connections: c, seconds: options.warmup, next, check });
      await autocannonLoad(theirs, { connections: c, seconds: options.warmup, next });
    }

    const cells: Cell[] = options.connections.map((connections) => ({
      connections,
      opencts: [],
      bareFastify: [],
      round: [],
    }));
    const raw: RawRun[] = [];
    for (let round = 0; round < options.repeat; round++) {
      const tag = `[${round + 1}/${options.repeat}]`;
      for (const cell of cells) {
        const o = await autocannonLoad(ours, { connections: cell.connections, seconds: options.duration, next, check });
        progress(
          `${tag} OpenCTS      ${cell.connections} conns: ${formatNumber(o.okPerSec * options.batch, 0)} traces/s, p50 ${formatNumber(o.p50, 1)} ms, p99 ${formatNumber(o.p99, 1)} ms, ${o.errors} errors, server CPU ${formatNumber(o.serverCpuPercent, 0)} %, load ${formatNumber(o.loadAverage, 2)}`,
        );
        const b = await autocannonLoad(theirs, { connections: cell.connections, seconds: options.duration, next });
        progress(
          `${tag} bare Fastify ${cell.connections} conns: ${formatNumber(b.okPerSec * options.batch, 0)} traces/s, ${b.errors} errors`,
        );
        cell.opencts.push(o);
        cell.bareFastify.push(b);
        cell.round.push(round);
      }
      const r = rawInserts(rawDir, round, options.duration, work.rows, options.batch);
      raw.push(r);
      progress(
        `${tag} raw SQLite: ${formatNumber(r.noIndexRowsPerSec, 0)} rows/s without indexes, ${formatNumber(r.storeSchemaRowsPerSec, 0)} rows/s with the store's indexes`,
      );
    }

    await opencts.stop();
    const file = path.join(dataDir, DATABASE_FILE);
    const db = new Database(file, { readonly: true, fileMustExist: true });
    let storedTraces: number;
    try {
      storedTraces = db.prepare('SELECT count(*) FROM traces').pluck().get() as number;
    } finally {
      db.close();
    }
    const errors = cells.reduce((n, c) => n + [...c.opencts, ...c.bareFastify].reduce((m, r) => m + r.errors, 0), 0);
    return {
      benchmark: 'ingest',
      options: {
        duration: options.duration,
        repeat: options.repeat,
        connections: options.connections,
        batch: options.batch,
        warmup: options.warmup,
      },
      environment: { ...environment(), loadAverageStart, loadAverageEnd: loadAverage() },
      workload: { meanBodyBytesPerTrace: work.meanBodyBytesPerTrace, meanWireBytes: work.meanWireBytes },
      raw,
      cells: cells.map((c) => ({ ...c, summary: summarizeCell(c, raw, options.batch) })),
      storedTraces,
      databaseBytes: statSync(file).size,
      errors,
    };
  } finally {
    for (const s of servers.reverse()) await s.stop();
    await rm(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const report = await runBenchmark(options);
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else console.log(`${render(report)}\nTook ${formatNumber((performance.now() - started) / 1000, 0)} s.`);
  if (report.errors > 0) process.exitCode = 1;
}

if (isEntryPoint(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`ingest: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
