/**
 * ListTraces latency and throughput on a large project stored in PostgreSQL, through the real HTTP
 * path, against the store's own SQL sent raw to the same database in the same run (issue 8;
 * DESIGN.md, "Performance method"). The PostgreSQL twin of bench/list-traces.ts: same data, same
 * cells, same tables (bench/support/list-traces-cells.ts).
 *
 * Database: a throwaway `opencts_bench_<random>` made from the maintenance database of `--pg-url`
 * (default $OPENCTS_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres), dropped at the
 * end, on failure too (and when the process exits without having dropped it), unless
 * `--keep-database` asks to leave it for inspection.
 *
 * Data: N traces (default 1,000,000; `--traces N`) in one project, recorded by the system tracker,
 * from the same generator with the same time spread as the SQLite run (uniform over the 7 days
 * before the load started, in time order). Their record_time is their own time, as if each had been
 * ingested when it happened, so they fill the 8 day partitions (on record_time) that 7 days of live
 * ingest fill (plus the 2 empty days ahead the store keeps); ListTraces filters on time, so every
 * query reads every partition. Loading path:
 * through the PostgreSQL store itself, in-process (openStore with the database's URL, as
 * `opencts serve --store` opens it; then changeTrackers with `--load-batch` traces per call, up to
 * `--load-parallel` calls in flight so generating the next batch overlaps the commit of the last):
 * the store's unnest INSERT, its partitions, its catalogue tables, its trace lock. The store is
 * closed, then `VACUUM (ANALYZE) traces` stands in for the autovacuum a live database would have
 * run by then (statistics of every partition, and the parent's). The partitions and their indexes
 * are then read into the OS page cache with pg_prewarm ('read'), when they fit in 60 % of free memory.
 *
 * Latency: `opencts serve --store <that database>` as a child process; each query is a signed
 * `GET /v3/{project}/traces` (limit 200) on one keep-alive connection, one at a time, timed by the
 * client from signing to the last byte. Shapes and windows as in bench/list-traces.ts: 0 filters;
 * service_type; user; resource_name; 3 filters (service_type + user + resource_type); 5 filters
 * (+ trace_name + trace_rating); page 10 (the 10th page, following meta_data.marker); over the last
 * 7 days and 1-hour windows at random places in them. Warm only: each cell runs `--warmup-queries`
 * unmeasured queries first. Cold cells are not measured: evicting honestly would mean restarting
 * PostgreSQL (shared_buffers) and dropping the OS page cache before every query, on a server and
 * a machine other work shares.
 * Raw: the store's own query function (listTracesPg, src/store/postgres/pg-trace-queries.ts: the
 * same SQL and parameters, an unnamed statement planned for its values) on a plain pg.Pool of one
 * connection in this process, timed around the call; for page 10 the marker's position is looked
 * up first with the store's findTracePosition statement, as the server does. Server and raw take
 * turns query by query, and which goes first alternates: the second finds the pages the first read
 * in shared_buffers (128 MB by default, far less than the data), which halved the 7-day 3-filter
 * figure of whichever ran second.
 * Goal: p99 ≤ 20 ms for every combination.
 * Plans: EXPLAIN (ANALYZE, BUFFERS) of the last raw query of every cell, summarised.
 *
 * Throughput: autocannon, `--connections` (default 20), signed GETs for the newest hour of the data
 * with the default limit (10) and with limit 200, against a bare Fastify route answering a canned
 * page of the same size, with the CPU the database's backends used during each OpenCTS run (the
 * server runs on this machine). Goal: ≥ 25 % of bare at limit 10.
 *
 * Usage: node dist/bench/list-traces-pg.js [--traces 1000000] [--pg-url postgres://…/maintenance-db]
 *        [--load-batch 1000] [--load-parallel 2] [--queries 300] [--warmup-queries 20] [--cell-cap 30]
 *        [--duration 10] [--repeat 3] [--connections 20] [--json] [--server-cpu-prof DIR] [--keep-database]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { freemem, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Trace } from '../src/core/trace/trace.js';
import { openStore } from '../src/store/open-store.js';
import { listTracesPg } from '../src/store/postgres/pg-trace-queries.js';
import { quietPool } from '../src/store/postgres/postgres-store.js';
import type { TracePosition, TraceQuery } from '../src/store/store.js';
import type { ChildServer } from './support/child-server.js';
import { backendCpu, cpuBetween } from './support/postgres-cpu.js';
import {
  addSystemTracker,
  DATA_SPAN,
  generateTraceBatch,
  latencyCells,
  latencyLines,
  LIMIT,
  measureThroughput,
  measureWarmCells,
  SEED,
  throughputErrorLines,
  throughputErrors,
  throughputLines,
  type LatencyCell,
  type QuerySpec,
  type RawQueries,
  type Shape,
  type SummarizedThroughputCell,
  type Timing,
  type Window,
} from './support/list-traces-cells.js';
import {
  createCredentials,
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
import { createThrowawayDatabase, DEFAULT_PG_URL, type ThrowawayDatabase } from './support/throwaway-database.js';
import { buildUniverse, mulberry32, type Universe } from './support/trace-generator.js';

// ---------------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------------

export interface Options {
  readonly traces: number;
  readonly pgUrl: string;
  readonly loadBatch: number;
  readonly loadParallel: number;
  readonly queries: number;
  readonly warmupQueries: number;
  readonly cellCapSeconds: number;
  readonly duration: number;
  readonly repeat: number;
  readonly connections: number;
  readonly json: boolean;
  readonly serverCpuProf: string | undefined;
  readonly keepDatabase: boolean;
}

const USAGE = `usage: node dist/bench/list-traces-pg.js [options]
  --traces <n>            traces in the project (default 1000000)
  --pg-url <url>          PostgreSQL maintenance database to create the throwaway one from
                          (default $OPENCTS_TEST_PG_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --load-batch <n>        traces per changeTrackers call (one transaction) while loading (default 1000)
  --load-parallel <n>     changeTrackers calls in flight while loading (default 2)
  --queries <n>           measured queries per cell (default 300)
  --warmup-queries <n>    unmeasured queries before each cell (default 20)
  --cell-cap <s>          stop a cell after this many seconds (default 30; its n is shown then)
  --duration <s>          seconds per throughput measurement (default 10)
  --repeat <n>            repetitions of the cells and of the throughput runs (default 3)
  --connections <n>       connections of the throughput runs (default 20)
  --json                  print the results as JSON instead of tables
  --server-cpu-prof <dir> write a V8 CPU profile of the OpenCTS server into <dir> (node --cpu-prof)
  --keep-database         leave the loaded database for inspection (its name is printed; drop it yourself)`;

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      traces: { type: 'string', default: '1000000' },
      'pg-url': { type: 'string', default: DEFAULT_PG_URL },
      'load-batch': { type: 'string', default: '1000' },
      'load-parallel': { type: 'string', default: '2' },
      queries: { type: 'string', default: '300' },
      'warmup-queries': { type: 'string', default: '20' },
      'cell-cap': { type: 'string', default: '30' },
      duration: { type: 'string', default: '10' },
      repeat: { type: 'string', default: '3' },
      connections: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
      'server-cpu-prof': { type: 'string' },
      'keep-database': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    traces: positiveInteger('traces', values.traces),
    pgUrl: values['pg-url'],
    loadBatch: positiveInteger('load-batch', values['load-batch']),
    loadParallel: positiveInteger('load-parallel', values['load-parallel']),
    queries: positiveInteger('queries', values.queries),
    warmupQueries: positiveInteger('warmup-queries', values['warmup-queries'], true),
    cellCapSeconds: positive('cell-cap', values['cell-cap']),
    duration: positive('duration', values.duration),
    repeat: positiveInteger('repeat', values.repeat),
    connections: positiveInteger('connections', values.connections),
    json: values.json,
    serverCpuProf: values['server-cpu-prof'],
    keepDatabase: values['keep-database'],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------------------

export interface LoadReport {
  readonly traces: number;
  /** Newest trace time (ms): the data spans the 7 days before it. */
  readonly dataEnd: number;
  readonly loadSeconds: number;
  readonly rowsPerSec: number;
  readonly closeSeconds: number;
  readonly vacuumAnalyzeSeconds: number;
  readonly partitions: number;
  readonly tracesBytes: number;
  readonly catalogue: { readonly operations: number; readonly users: number };
  /** Bytes read into the OS page cache with pg_prewarm, or why not. */
  readonly prewarm: number | string;
}

const GENERATE_SLICE = 200;

/**
 * Loads `n` traces through PostgresStore.changeTrackers in time order (the store opened by
 * openStore, as `opencts serve --store` opens it), closes it, and runs VACUUM (ANALYZE).
 */
async function loadTraces(
  db: ThrowawayDatabase,
  dataDir: string,
  credentials: Credentials,
  options: Options,
  universe: Universe,
  admin: pg.Pool,
): Promise<Omit<LoadReport, 'prewarm'>> {
  const n = options.traces;
  const started = performance.now();
  const dataEnd = Date.now();
  const { store } = await openStore({ dataDir, store: db.url, durability: 'normal', retentionDays: 7 });
  let loaded: number;
  try {
    const trackers = [await addSystemTracker(store, credentials, dataEnd - DATA_SPAN)];
    const rng = mulberry32(SEED);
    const pending: Array<Promise<unknown>> = [];
    let lastReport = started;
    for (let done = 0; done < n;) {
      const size = Math.min(options.loadBatch, n - done);
      // Generated in slices with a turn of the event loop between them, so the round trips of the
      // write in flight (catalogue, NOTIFY, COMMIT) are not kept waiting behind the generator.
      const traces: Trace[] = [];
      for (let slice = 0; slice < size; slice += GENERATE_SLICE) {
        if (slice > 0) await new Promise((resolve) => setImmediate(resolve));
        const part = generateTraceBatch(rng, universe, {
          first: done + slice,
          size: Math.min(GENERATE_SLICE, size - slice),
          n,
          dataEnd,
          credentials,
          trackers,
          // Ingested when it happened: the day partitions fill as live ingest fills them.
          recordTime: (time) => time,
        });
        for (const t of part) traces.push(t);
      }
      const write = store.changeTrackers(credentials.projectId, () => ({ traces, result: undefined }));
      // Awaited below; marked handled now so a failure while another write is awaited does not crash.
      write.catch(() => undefined);
      pending.push(write);
      if (pending.length >= options.loadParallel) await pending.shift();
      done += size;
      const now = performance.now();
      if (now - lastReport > 10_000 || done === n) {
        lastReport = now;
        const s = (now - started) / 1000;
        progress(
          `list-traces-pg: loaded ${formatNumber(done, 0)} / ${formatNumber(n, 0)} traces in ${formatNumber(s, 0)} s (${formatNumber(done / s, 0)} rows/s); load ${loadAverage()}`,
        );
      }
    }
    await Promise.all(pending);
  } finally {
    loaded = performance.now();
    await store.close();
  }
  const closed = performance.now();
  await admin.query('VACUUM (ANALYZE) traces');
  const analyzed = performance.now();
  const count = async (sql: string) => Number((await admin.query<{ n: string }>(sql)).rows[0]!.n);
  return {
    traces: n,
    dataEnd,
    loadSeconds: (loaded - started) / 1000,
    rowsPerSec: n / ((loaded - started) / 1000),
    closeSeconds: (closed - loaded) / 1000,
    vacuumAnalyzeSeconds: (analyzed - closed) / 1000,
    partitions: await count(`SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'traces'::regclass`),
    tracesBytes: await count(
      `SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) AS n FROM pg_inherits WHERE inhparent = 'traces'::regclass`,
    ),
    catalogue: {
      operations: await count('SELECT count(*) AS n FROM trace_operations'),
      users: await count('SELECT count(*) AS n FROM trace_users'),
    },
  };
}

/** The trace partitions and their indexes, read into the OS page cache (as the SQLite run reads its file). */
async function prewarm(admin: pg.Pool, tracesBytes: number): Promise<number | string> {
  if (tracesBytes > freemem() * 0.6) return 'not pre-read (larger than 60 % of free memory)';
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
  } catch (err) {
    return `not pre-read (pg_prewarm: ${(err as Error).message})`;
  }
  const pages = await admin.query<{ pages: string }>(`
    SELECT coalesce(sum(pg_prewarm(r.oid, 'read')), 0) AS pages FROM (
      SELECT inhrelid AS oid FROM pg_inherits WHERE inhparent = 'traces'::regclass
      UNION ALL
      SELECT i.inhrelid FROM pg_inherits i JOIN pg_index x ON x.indexrelid = i.inhparent
      WHERE x.indrelid = 'traces'::regclass) r`);
  const blockSize = Number((await admin.query<{ b: string }>(`SELECT current_setting('block_size') AS b`)).rows[0]!.b);
  return Number(pages.rows[0]!.pages) * blockSize;
}

// ---------------------------------------------------------------------------------------------------------------
// Raw queries
// ---------------------------------------------------------------------------------------------------------------

/** int8 as a JS number, as PostgresStore's pool parses it. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** PostgresStore.findTracePosition's statement with a tracker name (the API resolves every marker with it). */
const POSITION_SQL = `SELECT time, trace_id AS "traceId" FROM traces
             WHERE trace_id = $1 AND tracker_name = $2 AND project_id = $3 AND event_type = $4 LIMIT 1`;

/** The store's query function on a plain pool of one connection; remembers each cell's last statement. */
class RawPgQueries implements RawQueries {
  /** `shape, window` (and ` (next page)`) → the last statement sent, for EXPLAIN. */
  readonly statements = new Map<string, pg.QueryConfig>();
  private readonly recording: pg.Pool;
  private lastStatement: pg.QueryConfig | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly projectId: string,
  ) {
    // listTracesPg only calls pool.query(config): a stand-in that remembers the config it was given.
    this.recording = {
      query: (config: pg.QueryConfig) => {
        this.lastStatement = config;
        return pool.query(config);
      },
    } as unknown as pg.Pool;
  }

  private query(spec: QuerySpec, after?: TracePosition): TraceQuery {
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

  async run(spec: QuerySpec, shape: Shape, window: Window): Promise<Timing> {
    let after: TracePosition | undefined;
    let totalMs = 0;
    let last = { ms: 0, rows: 0 };
    for (let page = 0; page < spec.pages; page++) {
      const started = performance.now();
      if (after) {
        after = (
          await this.pool.query<TracePosition>(POSITION_SQL, [after.traceId, 'system', this.projectId, 'system'])
        ).rows[0];
      }
      const result = await listTracesPg(this.recording, this.query(spec, after));
      const ms = performance.now() - started;
      this.statements.set(`${shape}, ${window}${after ? ' (next page)' : ''}`, this.lastStatement!);
      totalMs += ms;
      last = { ms, rows: result.wire.length };
      after = result.next;
      if (!after) break;
    }
    return { ms: last.ms, totalMs, rows: last.rows };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------------------------

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

interface ExplainResult {
  Plan: PlanNode;
  'Planning Time': number;
  'Execution Time': number;
  JIT?: { Timing?: { Total?: number } };
}

/** Partition index → the index of `traces` it belongs to (partition indexes have generated names). */
async function parentIndexNames(pool: pg.Pool): Promise<Map<string, string>> {
  const rows = await pool.query<{ child: string; parent: string }>(`
    SELECT c.relname AS child, p.relname AS parent FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'i'`);
  return new Map(rows.rows.map((r) => [r.child, r.parent]));
}

/** `Limit → Merge Append → (8 × Index Scan Backward traces_user)`: node types, with indexes by their parent's name. */
function describePlan(node: PlanNode, indexes: ReadonlyMap<string, string>): string {
  const index = node['Index Name'];
  const type = node['Scan Direction'] === 'Backward' ? `${node['Node Type']} Backward` : node['Node Type'];
  const self = index ? `${type} ${indexes.get(index) ?? index}` : type;
  const children = node.Plans ?? [];
  if (children.length === 0) return self;
  if (children.length === 1) return `${self} → ${describePlan(children[0]!, indexes)}`;
  const groups = new Map<string, number>();
  for (const c of children) {
    const d = describePlan(c, indexes);
    groups.set(d, (groups.get(d) ?? 0) + 1);
  }
  return `${self} → (${[...groups].map(([d, k]) => (k > 1 ? `${k} × ${d}` : d)).join(' + ')})`;
}

function sumOver(node: PlanNode, key: 'Rows Removed by Filter' | 'Rows Removed by Index Recheck'): number {
  const own = (node[key] ?? 0) * (node['Actual Loops'] ?? 1);
  return own + (node.Plans ?? []).reduce((n, c) => n + sumOver(c, key), 0);
}

async function explain(pool: pg.Pool, statement: pg.QueryConfig, indexes: ReadonlyMap<string, string>) {
  const rows = await pool.query<{ 'QUERY PLAN': ExplainResult[] }>({
    text: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement.text}`,
    values: statement.values,
  });
  const result = rows.rows[0]!['QUERY PLAN'][0]!;
  const plan = result.Plan;
  const jit = result.JIT?.Timing?.Total;
  return (
    `${describePlan(plan, indexes)}; ${formatNumber(plan['Actual Rows'] ?? NaN, 0)} rows, ` +
    `${formatNumber(sumOver(plan, 'Rows Removed by Filter'), 0)} removed by filter, ` +
    `buffers hit ${formatNumber(plan['Shared Hit Blocks'] ?? 0, 0)} read ${formatNumber(plan['Shared Read Blocks'] ?? 0, 0)}; ` +
    `planning ${formatNumber(result['Planning Time'], 2)} ms, execution ${formatNumber(result['Execution Time'], 2)} ms` +
    (jit === undefined ? '' : `, JIT ${formatNumber(jit, 1)} ms`)
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------------------------

export interface Report {
  readonly benchmark: 'list-traces-pg';
  readonly options: Omit<Options, 'json' | 'serverCpuProf' | 'pgUrl' | 'keepDatabase'>;
  readonly environment: Record<string, string | number>;
  readonly postgres: Record<string, string>;
  readonly load: LoadReport;
  readonly serverStartSeconds: number;
  readonly latency: LatencyCell[];
  readonly plans: Record<string, string>;
  readonly throughput: SummarizedThroughputCell[];
  readonly errors: number;
}

export function render(report: Report): string {
  const o = report.options;
  const env = report.environment;
  const l = report.load;
  const pgs = report.postgres;
  const lines: string[] = [];
  lines.push(
    `OpenCTS ListTraces on PostgreSQL: ${formatNumber(l.traces, 0)} traces in one project over 7 days; signed GET /v3/{project}/traces, limit ${LIMIT}, one connection, sequential`,
  );
  lines.push(describeEnvironment(env));
  lines.push(
    `PostgreSQL ${pgs['server_version']} on the same machine (shared_buffers ${pgs['shared_buffers']}, effective_cache_size ${pgs['effective_cache_size']}, work_mem ${pgs['work_mem']}, jit ${pgs['jit']}, plan_cache_mode ${pgs['plan_cache_mode']}).`,
  );
  lines.push(
    `Load average (1/5/15 min): ${env['loadAverageStart']} at the start, ${env['loadAverageEnd']} at the end.`,
  );
  lines.push(
    `Load through PostgresStore.changeTrackers, ${o.loadBatch} traces per call, ${o.loadParallel} in flight, time order, record_time = time: ` +
      `${formatNumber(l.loadSeconds, 1)} s = ${formatNumber(l.rowsPerSec, 0)} rows/s (generation included), close ${formatNumber(l.closeSeconds, 1)} s, ` +
      `VACUUM (ANALYZE) ${formatNumber(l.vacuumAnalyzeSeconds, 1)} s; ${l.partitions} day partitions, ${formatNumber(l.tracesBytes / 1e9, 2)} GB with indexes ` +
      `(${formatNumber(l.tracesBytes / l.traces, 0)} B/trace); catalogue ${formatNumber(l.catalogue.operations, 0)} operations, ${formatNumber(l.catalogue.users, 0)} users.`,
  );
  lines.push(
    `Server start until GET / answered: ${formatNumber(report.serverStartSeconds, 1)} s. ` +
      `Warm cells: partitions and indexes ${typeof l.prewarm === 'number' ? `read into the OS page cache beforehand (pg_prewarm, ${formatNumber(l.prewarm / 1e9, 2)} GB)` : l.prewarm}, ` +
      `${o.warmupQueries} unmeasured queries per cell, ${o.queries} measured (or ${o.cellCapSeconds} s), ${o.repeat} repetition(s) (median (min–max) of each percentile). ` +
      'Cold cells: NOT measured (evicting honestly would mean restarting PostgreSQL for shared_buffers and dropping the OS page cache before every query, on a shared server and machine): warm figures only.',
  );
  lines.push('');
  lines.push(
    ...latencyLines(
      report.latency,
      "the store's own query function (listTracesPg: the same SQL, the same parameters, unnamed statements) on a plain pg.Pool of one connection in this process; page 10 looks the marker up with the store's findTracePosition statement first",
    ),
  );
  lines.push('');
  lines.push(...throughputLines(report.throughput, o));
  lines.push('');
  lines.push('Query plans (EXPLAIN (ANALYZE, BUFFERS) of the last raw statement of each cell, after the cells):');
  for (const [cell, plan] of Object.entries(report.plans)) lines.push(`  ${cell}: ${plan}`);
  lines.push(...throughputErrorLines(report.throughput));
  return lines.join('\n');
}

const SETTINGS = ['server_version', 'shared_buffers', 'effective_cache_size', 'work_mem', 'jit', 'plan_cache_mode'];

export async function runBenchmark(options: Options): Promise<Report> {
  const root = await mkdtemp(path.join(tmpdir(), 'opencts-bench-list-traces-pg-'));
  const dataDir = path.join(root, 'data');
  const loadAverageStart = loadAverage();
  const universe = buildUniverse(1);
  const servers: ChildServer[] = [];
  let client: SignedClient | undefined;
  let admin: pg.Pool | undefined;
  let rawPool: pg.Pool | undefined;
  const db = await createThrowawayDatabase(options.pgUrl, 'opencts_bench');
  try {
    progress(`list-traces-pg: database ${db.name}, data dir ${dataDir}, load average ${loadAverageStart}`);
    admin = quietPool(new pg.Pool({ connectionString: db.url, max: 1, application_name: 'opencts-bench-admin' }));
    // The CLI migrates the new database and makes the data dir's master key (shared with the server).
    const credentials = await createCredentials(dataDir, { store: db.url });
    const loaded = await loadTraces(db, dataDir, credentials, options, universe, admin);
    const load: LoadReport = { ...loaded, prewarm: await prewarm(admin, loaded.tracesBytes) };
    const postgres: Record<string, string> = {};
    for (const name of SETTINGS) {
      postgres[name] = (await admin.query<{ v: string }>('SELECT current_setting($1) AS v', [name])).rows[0]!.v;
    }
    progress(
      `list-traces-pg: loaded in ${formatNumber(load.loadSeconds, 1)} s (${formatNumber(load.rowsPerSec, 0)} rows/s), VACUUM (ANALYZE) ${formatNumber(load.vacuumAnalyzeSeconds, 1)} s, ${formatNumber(load.tracesBytes / 1e9, 2)} GB; load ${loadAverage()}`,
    );
    const { dataEnd } = loaded;

    const startedAt = performance.now();
    const opencts = await startOpenCts({
      dataDir,
      store: db.url,
      cpuProfDir: options.serverCpuProf,
      readyTimeoutMs: 600_000,
    });
    servers.push(opencts);
    const serverStartSeconds = (performance.now() - startedAt) / 1000;
    const bare = await startBareFastify();
    servers.push(bare);
    progress(
      `list-traces-pg: OpenCTS pid ${opencts.pid} ready in ${formatNumber(serverStartSeconds, 1)} s at ${opencts.url}; bare Fastify pid ${bare.pid}`,
    );
    client = new SignedClient(opencts.port, credentials);
    rawPool = quietPool(
      new pg.Pool({ connectionString: db.url, max: 1, types: TYPES, application_name: 'opencts-bench-raw' }),
    );
    const raw = new RawPgQueries(rawPool, credentials.projectId);

    // ---- latency (warm only)
    const latency = latencyCells('warm');
    await measureWarmCells(latency, options, { client, projectId: credentials.projectId, raw, dataEnd, universe });

    const plans: Record<string, string> = {};
    const indexes = await parentIndexNames(admin);
    for (const [cell, statement] of raw.statements) plans[cell] = await explain(admin, statement, indexes);

    // ---- throughput
    const throughput = await measureThroughput(opencts, bare, credentials, dataEnd, {
      ...options,
      databaseCpu: async () => {
        const before = await backendCpu(admin!, db.name);
        return async () => cpuBetween(before, await backendCpu(admin!, db.name));
      },
    });
    return {
      benchmark: 'list-traces-pg',
      options: {
        traces: options.traces,
        loadBatch: options.loadBatch,
        loadParallel: options.loadParallel,
        queries: options.queries,
        warmupQueries: options.warmupQueries,
        cellCapSeconds: options.cellCapSeconds,
        duration: options.duration,
        repeat: options.repeat,
        connections: options.connections,
      },
      environment: { ...environment(), loadAverageStart, loadAverageEnd: loadAverage() },
      postgres,
      load,
      serverStartSeconds,
      latency,
      plans,
      throughput,
      errors: throughputErrors(throughput),
    };
  } finally {
    client?.close();
    for (const s of servers.reverse()) await s.stop();
    await rawPool?.end();
    await admin?.end();
    if (options.keepDatabase) {
      db.keep();
      progress(`list-traces-pg: database ${db.name} kept (--keep-database): DROP DATABASE ${db.name} when done`);
    } else {
      await db.drop();
    }
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
    console.error(`list-traces-pg: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
