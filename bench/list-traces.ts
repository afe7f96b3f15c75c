/**
 * ListTraces latency and throughput on a large project, against the same queries run directly on
 * SQLite in the same run (DESIGN.md, "Performance method").
 *
 * Data: N traces (default 1,000,000; `--traces N`) in one project, recorded by the system tracker,
 * their times spread uniformly over the 7 days before the load started and inserted in time order
 * (how live ingest arrives). Traces come from bench/support/trace-generator.ts (30 services, 200
 * resource types, 50 users, 300 operation names, 20,000 resources, ratings 6:2:1, ~1.3 KB each)
 * and are turned into stored rows by the real ingest code (tracesToStore). They are loaded
 * in-process through the store itself (openRuntime → SqliteStore, then changeTrackers with `--load-batch`
 * traces per call, i.e. per transaction) and the store is closed. Their record_time is the load
 * time, so the server's retention purge leaves them alone. `--data-dir DIR` keeps the loaded data
 * and reuses it on the next run with the same `--traces`.
 *
 * Latency: the server is started as a child process on that data dir; each query is a signed
 * `GET /v3/{project}/traces` (limit 200) on one keep-alive connection, one at a time, timed by the
 * client from signing to the last byte. Shapes: 0 filters; 1 filter (service_type; user;
 * resource_name); 3 filters (service_type + user + resource_type); 5 filters (+ trace_name +
 * trace_rating); page 10 (0 filters, following meta_data.marker, the 10th request timed). Windows:
 * the last 7 days, and 1-hour windows at random places in the 7 days. Parameters are random but
 * consistent (the resource type and operation belong to the service) and seeded, and the raw run of
 * a cell gets exactly the same queries.
 *  - warm: the database file is read once beforehand, and each cell runs 20 unmeasured queries;
 *  - cold: before every query the database file is evicted from the OS page cache
 *    (posix_fadvise DONTNEED through `dd iflag=nocache count=0`, this file only; `--cold system`
 *    drops the whole machine's cache instead). SQLite's own page cache in the server (2 MB) stays.
 * Raw: the store's own query code (TraceQueryCache, the same SQL with the same INDEXED BY) on a
 * read-only better-sqlite3 connection in this process, timed around the call; for page 10 the
 * marker's position is looked up with the store's statement too. Server and raw take turns query by
 * query, alternating which goes first.
 * Goal: p99 ≤ 20 ms for every combination.
 *
 * Throughput: autocannon, `--connections` (default 20), signed GETs for the newest hour of the data
 * with the default limit (10) and with limit 200, against a bare Fastify route answering a canned
 * page of the same size. Goal: ≥ 25 % of bare at limit 10.
 *
 * The same cells on the PostgreSQL store: bench/list-traces-pg.ts (the data, cells and tables are
 * shared through bench/support/list-traces-cells.ts).
 *
 * Usage: node dist/bench/list-traces.js [--traces 1000000] [--data-dir DIR] [--queries 300]
 *        [--warmup-queries 20] [--cell-cap 30] [--cold-queries 30] [--cold-cap 30] [--cold file|system|none] [--duration 10] [--repeat 3] [--connections 20]
 *        [--json] [--server-cpu-prof DIR]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { freemem, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { resolveConfig } from '../src/config.js';
import { openRuntime } from '../src/runtime.js';
import { TraceQueryCache } from '../src/store/sqlite/trace-queries.js';
import { TraceIndex } from '../src/store/sqlite/trace-index.js';
import type { TracePosition, TraceQuery } from '../src/store/store.js';
import type { ChildServer } from './support/child-server.js';
import {
  addSystemTracker,
  DATA_SPAN,
  generateTraceBatch,
  latencyCells,
  latencyLines,
  latencyRun,
  LIMIT,
  measureThroughput,
  measureWarmCells,
  querySpecs,
  SEED,
  serverQuery,
  SHAPES,
  throughputErrorLines,
  throughputErrors,
  throughputLines,
  type LatencyCell,
  type QuerySpec,
  type RawQueries,
  type Shape,
  type SummarizedThroughputCell,
  type Timing,
} from './support/list-traces-cells.js';
import {
  createCredentials,
  DATABASE_FILE,
  describeEnvironment,
  environment,
  isEntryPoint,
  loadAverage,
  positive,
  positiveInteger,
  progress,
  SignedClient,
  startBareFastify,
  startOpenCts,
  type Credentials,
} from './support/opencts.js';
import { formatNumber } from './support/stats.js';
import { buildUniverse, mulberry32, type Universe } from './support/trace-generator.js';

// ---------------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------------

type ColdMode = 'file' | 'system' | 'none';

export interface Options {
  readonly traces: number;
  readonly dataDir: string | undefined;
  readonly loadBatch: number;
  readonly queries: number;
  readonly warmupQueries: number;
  readonly cellCapSeconds: number;
  readonly coldQueries: number;
  readonly coldCapSeconds: number;
  readonly cold: ColdMode;
  readonly duration: number;
  readonly repeat: number;
  readonly connections: number;
  readonly json: boolean;
  readonly serverCpuProf: string | undefined;
}

const USAGE = `usage: node dist/bench/list-traces.js [options]
  --traces <n>            traces in the project (default 1000000; 10000000 works, given time and ~20 GB of disk)
  --data-dir <dir>        keep the loaded data there, and reuse it when it holds the same number of traces
  --load-batch <n>        traces per store transaction while loading (default 2000)
  --queries <n>           measured queries per warm cell (default 300)
  --warmup-queries <n>    unmeasured queries before each warm cell (default 20)
  --cell-cap <s>          stop a warm cell after this many seconds (default 30; its n is shown then)
  --cold-queries <n>      measured queries per cold cell (default 30)
  --cold-cap <s>          stop a cold cell after this many seconds (default 30)
  --cold file|system|none evict the database file only (default), drop the whole OS page cache, or skip cold cells
  --duration <s>          seconds per throughput measurement (default 10)
  --repeat <n>            repetitions of the warm cells and of the throughput runs (default 3; cold cells run once)
  --connections <n>       connections of the throughput runs (default 20)
  --json                  print the results as JSON instead of tables
  --server-cpu-prof <dir> write a V8 CPU profile of the OpenCTS server into <dir> (node --cpu-prof)`;

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      traces: { type: 'string', default: '1000000' },
      'data-dir': { type: 'string' },
      'load-batch': { type: 'string', default: '2000' },
      queries: { type: 'string', default: '300' },
      'warmup-queries': { type: 'string', default: '20' },
      'cell-cap': { type: 'string', default: '30' },
      'cold-queries': { type: 'string', default: '30' },
      'cold-cap': { type: 'string', default: '30' },
      cold: { type: 'string', default: 'file' },
      duration: { type: 'string', default: '10' },
      repeat: { type: 'string', default: '3' },
      connections: { type: 'string', default: '20' },
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
  if (values.cold !== 'file' && values.cold !== 'system' && values.cold !== 'none') {
    throw new Error('--cold: file, system or none');
  }
  return {
    traces: positiveInteger('traces', values.traces),
    dataDir: values['data-dir'],
    loadBatch: positiveInteger('load-batch', values['load-batch']),
    queries: positiveInteger('queries', values.queries),
    warmupQueries: positiveInteger('warmup-queries', values['warmup-queries'], true),
    cellCapSeconds: positive('cell-cap', values['cell-cap']),
    coldQueries: positiveInteger('cold-queries', values['cold-queries']),
    coldCapSeconds: positive('cold-cap', values['cold-cap']),
    cold: values.cold,
    duration: positive('duration', values.duration),
    repeat: positiveInteger('repeat', values.repeat),
    connections: positiveInteger('connections', values.connections),
    json: values.json,
    serverCpuProf: values['server-cpu-prof'],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------------------

const MANIFEST = 'bench-list-traces.json';

interface Manifest {
  readonly traces: number;
  /** Newest trace time (ms): the data spans the 7 days before it. */
  readonly dataEnd: number;
  readonly credentials: Credentials;
  readonly loadSeconds: number;
  readonly closeSeconds: number;
  readonly rowsPerSec: number;
  readonly loadedAt: string;
}

export interface LoadReport {
  readonly reused: boolean;
  readonly traces: number;
  readonly loadSeconds: number;
  readonly closeSeconds: number;
  readonly rowsPerSec: number;
  readonly databaseBytes: number;
  readonly loadedAt: string;
}

/**
 * Loads `n` traces through the store in-process (time order), then closes it. The store is opened
 * by the composition root (openRuntime), exactly as `opencts serve` opens it.
 */
async function loadTraces(dataDir: string, n: number, batch: number, universe: Universe): Promise<Manifest> {
  const credentials = await createCredentials(dataDir);
  const started = performance.now();
  const dataEnd = Date.now();
  const runtime = await openRuntime(resolveConfig({ flags: { dataDir, logLevel: 'warn' }, env: {} }));
  const store = runtime.store;
  const rng = mulberry32(SEED);
  const trackers = [await addSystemTracker(store, credentials, dataEnd - DATA_SPAN)];
  let lastReport = started;
  for (let done = 0; done < n;) {
    const size = Math.min(batch, n - done);
    const recordTime = Date.now();
    const traces = generateTraceBatch(rng, universe, {
      first: done,
      size,
      n,
      dataEnd,
      credentials,
      trackers,
      recordTime: () => recordTime,
    });
    await store.changeTrackers(credentials.projectId, () => ({ traces, result: undefined }));
    done += size;
    const now = performance.now();
    if (now - lastReport > 10_000 || done === n) {
      lastReport = now;
      const s = (now - started) / 1000;
      progress(
        `list-traces: loaded ${formatNumber(done, 0)} / ${formatNumber(n, 0)} traces in ${formatNumber(s, 0)} s (${formatNumber(done / s, 0)} rows/s)`,
      );
    }
  }
  const loaded = performance.now();
  await runtime.close();
  const closed = performance.now();
  const manifest: Manifest = {
    traces: n,
    dataEnd,
    credentials,
    loadSeconds: (loaded - started) / 1000,
    closeSeconds: (closed - loaded) / 1000,
    rowsPerSec: n / ((loaded - started) / 1000),
    loadedAt: new Date().toISOString(),
  };
  writeFileSync(path.join(dataDir, MANIFEST), JSON.stringify(manifest, null, 2));
  return manifest;
}

function readManifest(dataDir: string): Manifest | undefined {
  const file = path.join(dataDir, MANIFEST);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

// ---------------------------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------------------------

/** The same query on SQLite directly, with the store's query code. */
class RawSqliteQueries implements RawQueries {
  readonly sql = new Map<string, string>();
  private readonly cache: TraceQueryCache;
  private readonly position: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly projectId: string,
  ) {
    // A prepare that remembers the SQL the store builds, for EXPLAIN QUERY PLAN.
    const recording = {
      prepare: (text: string) => {
        this.lastSql = text;
        return db.prepare(text);
      },
    } as unknown as Database.Database;
    this.cache = new TraceQueryCache(recording, TraceIndex.open(db));
    // SqliteStore's findTracePosition statement (the API resolves every marker with it).
    this.position = db.prepare(
      'SELECT time, trace_id AS traceId FROM traces WHERE trace_id = ? AND tracker_name = ? AND project_id = ? AND event_type = ?',
    );
  }

  private lastSql = '';

  query(spec: QuerySpec, after?: TracePosition): TraceQuery {
    return {
      projectId: this.projectId,
      eventType: 'system',
      trackerName: 'system',
      from: spec.from,
      to: spec.to,
      limit: LIMIT,
      after,
      filters: spec.filters,
    };
  }

  run(spec: QuerySpec, shape: Shape): Timing {
    let after: TracePosition | undefined;
    let totalMs = 0;
    let last = { ms: 0, rows: 0 };
    for (let page = 0; page < spec.pages; page++) {
      const started = performance.now();
      if (after) after = this.position.get(after.traceId, 'system', this.projectId, 'system') as TracePosition;
      this.lastSql = '';
      const result = this.cache.run(this.query(spec, after));
      const ms = performance.now() - started;
      if (this.lastSql) this.sql.set(`${shape}${after ? ' (next page)' : ''}`, this.lastSql);
      totalMs += ms;
      last = { ms, rows: result.wire.length };
      after = result.next;
      if (!after) break;
    }
    return { ms: last.ms, totalMs, rows: last.rows };
  }
}

function evict(mode: ColdMode, file: string): void {
  if (mode === 'system') {
    execFileSync('sh', ['-c', 'sync; echo 3 > /proc/sys/vm/drop_caches']);
  } else if (mode === 'file') {
    for (const f of [file, `${file}-wal`]) {
      if (existsSync(f)) execFileSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']);
    }
  }
}

/** Reads the whole file once so that it sits in the OS page cache (when it fits). */
function readWhole(file: string): boolean {
  const size = statSync(file).size;
  if (size > freemem() * 0.6) return false;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 << 20);
    for (let pos = 0; pos < size; pos += buf.length) readSync(fd, buf, 0, buf.length, pos);
  } finally {
    closeSync(fd);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------------------------

export interface Report {
  readonly benchmark: 'list-traces';
  readonly options: Omit<Options, 'json' | 'serverCpuProf'>;
  readonly environment: Record<string, string | number>;
  readonly load: LoadReport;
  readonly serverStartSeconds: number;
  readonly warmRead: boolean;
  readonly latency: LatencyCell[];
  readonly plans: Record<string, string>;
  readonly throughput: SummarizedThroughputCell[];
  readonly errors: number;
}

export function render(report: Report): string {
  const o = report.options;
  const env = report.environment;
  const l = report.load;
  const lines: string[] = [];
  lines.push(
    `OpenCTS ListTraces: ${formatNumber(l.traces, 0)} traces in one project over 7 days; signed GET /v3/{project}/traces, limit ${LIMIT}, one connection, sequential`,
  );
  lines.push(describeEnvironment(env));
  lines.push(
    `Load average (1/5/15 min): ${env['loadAverageStart']} at the start, ${env['loadAverageEnd']} at the end.`,
  );
  lines.push(
    l.reused
      ? `Data reused from an earlier run (loaded ${l.loadedAt}: ${formatNumber(l.loadSeconds, 1)} s, ${formatNumber(l.rowsPerSec, 0)} rows/s); database ${formatNumber(l.databaseBytes / 1e9, 2)} GB.`
      : `Load through SqliteStore.changeTrackers, ${o.loadBatch} traces per transaction, time order: ${formatNumber(l.loadSeconds, 1)} s = ${formatNumber(l.rowsPerSec, 0)} rows/s (generation included), then close (PRAGMA optimize, checkpoint) ${formatNumber(l.closeSeconds, 1)} s; database ${formatNumber(l.databaseBytes / 1e9, 2)} GB (${formatNumber(l.databaseBytes / l.traces, 0)} B/trace).`,
  );
  lines.push(
    `Server start on that data dir until GET / answered: ${formatNumber(report.serverStartSeconds, 1)} s. ` +
      `Warm cells: file ${report.warmRead ? 'read once beforehand' : 'NOT pre-read (larger than 60 % of free memory)'}, ${o.warmupQueries} unmeasured queries per cell, ${o.queries} measured (or ${o.cellCapSeconds} s), ${o.repeat} repetition(s) (median (min–max) of each percentile). ` +
      `Cold cells: ${o.cold === 'file' ? 'database file evicted from the OS page cache before every query (posix_fadvise DONTNEED)' : o.cold === 'system' ? 'whole OS page cache dropped before every query' : 'skipped'}, up to ${o.coldQueries} queries or ${o.coldCapSeconds} s, once.`,
  );
  lines.push('');
  lines.push(
    ...latencyLines(
      report.latency,
      "the store's own query code (TraceQueryCache: the same SQL, the same INDEXED BY) on a read-only better-sqlite3 connection in this process",
    ),
  );
  lines.push('');
  lines.push(...throughputLines(report.throughput, o));
  lines.push('');
  lines.push('Query plans (EXPLAIN QUERY PLAN of the SQL the store built):');
  for (const [shape, plan] of Object.entries(report.plans)) lines.push(`  ${shape}: ${plan}`);
  lines.push(...throughputErrorLines(report.throughput));
  return lines.join('\n');
}

export async function runBenchmark(options: Options): Promise<Report> {
  const root = options.dataDir ? undefined : await mkdtemp(path.join(tmpdir(), 'opencts-bench-list-traces-'));
  const dataDir = options.dataDir ? path.resolve(options.dataDir) : path.join(root!, 'data');
  const file = path.join(dataDir, DATABASE_FILE);
  const servers: ChildServer[] = [];
  const loadAverageStart = loadAverage();
  const universe = buildUniverse(1);
  let client: SignedClient | undefined;
  let rawDb: Database.Database | undefined;
  try {
    progress(`list-traces: data dir ${dataDir}, load average ${loadAverageStart}`);
    mkdirSync(dataDir, { recursive: true });
    let manifest = readManifest(dataDir);
    let reused = true;
    if (manifest && manifest.traces !== options.traces) {
      throw new Error(
        `${dataDir} holds ${manifest.traces} traces, not ${options.traces}: use another --data-dir (or the same --traces)`,
      );
    }
    if (!manifest) {
      if (existsSync(file)) throw new Error(`${file} exists but was not loaded by this benchmark`);
      reused = false;
      manifest = await loadTraces(dataDir, options.traces, options.loadBatch, universe);
    }
    const load: LoadReport = {
      reused,
      traces: manifest.traces,
      loadSeconds: manifest.loadSeconds,
      closeSeconds: manifest.closeSeconds,
      rowsPerSec: manifest.rowsPerSec,
      databaseBytes: statSync(file).size,
      loadedAt: manifest.loadedAt,
    };
    const { credentials, dataEnd } = manifest;

    const startedAt = performance.now();
    const opencts = await startOpenCts({ dataDir, cpuProfDir: options.serverCpuProf, readyTimeoutMs: 600_000 });
    servers.push(opencts);
    const serverStartSeconds = (performance.now() - startedAt) / 1000;
    const bare = await startBareFastify();
    servers.push(bare);
    progress(
      `list-traces: OpenCTS pid ${opencts.pid} ready in ${formatNumber(serverStartSeconds, 1)} s at ${opencts.url}; bare Fastify pid ${bare.pid}`,
    );
    client = new SignedClient(opencts.port, credentials);
    // Not read-only: opening the store's ListTraces index may build runs or run indexes that are
    // missing (there are none once the server has opened the file, so nothing is written).
    rawDb = new Database(file, { fileMustExist: true });
    const raw = new RawSqliteQueries(rawDb, credentials.projectId);

    // ---- latency
    const warmRead = readWhole(file);
    const latency: LatencyCell[] = [];
    const warmCells = latencyCells('warm');
    await measureWarmCells(warmCells, options, {
      client,
      projectId: credentials.projectId,
      raw,
      dataEnd,
      universe,
    });
    latency.push(...warmCells);

    if (options.cold !== 'none') {
      const coldCells = latencyCells('cold');
      for (const cell of coldCells) {
        const specs = querySpecs(cell.shape, cell.window, options.coldQueries, dataEnd, universe, 1000)(Date.now());
        const server: Timing[] = [];
        const direct: Timing[] = [];
        const deadline = performance.now() + options.coldCapSeconds * 1000;
        for (const spec of specs) {
          if (performance.now() > deadline) break;
          evict(options.cold, file);
          server.push(await serverQuery(client, credentials.projectId, spec));
          evict(options.cold, file);
          direct.push(raw.run(spec, cell.shape));
        }
        const o = latencyRun(server, server.length < specs.length);
        const r = latencyRun(direct, direct.length < specs.length);
        cell.opencts.push(o);
        cell.raw.push(r);
        progress(
          `cold ${cell.shape}, ${cell.window}: n=${o.n}/${r.n}, OpenCTS p50 ${formatNumber(o.p50, 2)} p99 ${formatNumber(o.p99, 2)} ms; raw p50 ${formatNumber(r.p50, 2)} p99 ${formatNumber(r.p99, 2)} ms; load ${loadAverage()}`,
        );
      }
      latency.push(...coldCells);
      // Back to warm for the throughput runs.
      readWhole(file);
    }

    const plans: Record<string, string> = {};
    const planSpecs = new Map(
      SHAPES.map((shape) => [shape, querySpecs(shape, '7 d', 1, dataEnd, universe, 2000)(Date.now())[0]!]),
    );
    for (const [shape, sql] of raw.sql) {
      const baseShape = SHAPES.find((s) => shape.startsWith(s))!;
      const spec = planSpecs.get(baseShape)!;
      const params: Record<string, string | number> = {
        project_id: credentials.projectId,
        event_type: 'system',
        tracker_name: 'system',
        from: spec.from,
        to: spec.to,
        limit: LIMIT + 1,
      };
      if (sql.includes('@floor')) params['floor'] = 0;
      for (const [k, v] of Object.entries(spec.filters)) params[`f_${k}`] = v;
      if (sql.includes('@after_time')) {
        params['after_time'] = spec.to;
        params['after_id'] = 'f';
      }
      const plan = rawDb
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(params)
        .map((r) => (r as { detail: string }).detail)
        .join('; ');
      plans[shape] = plan;
    }

    // ---- throughput
    const throughput = await measureThroughput(opencts, bare, credentials, dataEnd, options);
    const errors = throughputErrors(throughput);
    return {
      benchmark: 'list-traces',
      options: {
        traces: options.traces,
        dataDir: options.dataDir,
        loadBatch: options.loadBatch,
        queries: options.queries,
        warmupQueries: options.warmupQueries,
        cellCapSeconds: options.cellCapSeconds,
        coldQueries: options.coldQueries,
        coldCapSeconds: options.coldCapSeconds,
        cold: options.cold,
        duration: options.duration,
        repeat: options.repeat,
        connections: options.connections,
      },
      environment: { ...environment(), loadAverageStart, loadAverageEnd: loadAverage() },
      load,
      serverStartSeconds,
      warmRead,
      latency,
      plans,
      throughput,
      errors,
    };
  } finally {
    client?.close();
    rawDb?.close();
    for (const s of servers.reverse()) await s.stop();
    if (root) await rm(root, { recursive: true, force: true });
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
    console.error(`list-traces: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
