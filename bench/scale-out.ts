/**
 * Scale-out ingest: traces per second through `POST /v3/{project}/traces` (batches of 100) with 1, 2
 * and 3 OpenCTS instances sharing ONE PostgreSQL database, against raw `pg` batch inserts of the
 * same rows into the same schema, measured in the same run (issue 8; DESIGN.md, "Performance method").
 *
 * Setup: a throwaway database (created and dropped here), `opencts migrate --store …`, an admin and
 * a `service` key made with `opencts credentials create --store …`, then `--instances` max servers
 * (`opencts serve --store … --data-dir <own dir>`), all with the same OPENCTS_MASTER_KEY. The admin
 * key creates the system tracker; the service key ingests.
 *
 * Load: `--connections` closed-loop keep-alive connections in total, split as evenly as possible
 * across the instances of the cell; every request is signed afresh and carries 100 synthetic traces
 * (bench/support/trace-generator.ts, the bodies of bench/ingest.ts). Closed loops await every request
 * they send, so the acknowledged count is exact: at the end the traces the database holds for the
 * ingesting project must equal the traces acknowledged (201 with an id for every trace).
 * Instances not used by a cell stay running, idle.
 *
 * Raw limit, interleaved with the cells, each round: the same rows (built by the real ingest code,
 * tracesToStore) inserted with `--connections` concurrent `pg` connections, one multi-row `unnest`
 * INSERT of `--batch` rows per statement (autocommit), into the store's own `traces` table (its
 * partitions and indexes) of the same database, under another project id.
 *
 * Usage: node dist/bench/scale-out.js [--duration 10] [--repeat 3] [--instances 1,2,3]
 *          [--connections 12] [--batch 100] [--warmup 2] [--url postgres://…/maintenance-db] [--json]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { uuidv7 } from '../src/core/ids.js';
import { tracesToStore, type IngestedTrace } from '../src/core/trace/ingest.js';
import type { Trace } from '../src/core/trace/trace.js';
import type { Tracker } from '../src/core/tracker/tracker.js';
import { quietPool } from '../src/store/postgres/postgres-store.js';
import { MASTER_KEY_ENV } from '../src/store/secret-box.js';
import { TRACE_COLUMNS, traceRowValues } from '../src/store/trace-row.js';
import type { ChildServer } from './support/child-server.js';
import { backendCpu, cpuBetween } from './support/postgres-cpu.js';
import { createThrowawayDatabase, DEFAULT_PG_URL } from './support/throwaway-database.js';
import { closedLoopLoad, type LoadRun, type LoadTarget } from './support/load.js';
import {
  createCredentials,
  environment,
  integerList,
  isEntryPoint,
  loadAverage,
  mustRequest,
  OPENCTS_BIN,
  percent,
  positive,
  positiveInteger,
  progress,
  SignedClient,
  startOpenCts,
  type Credentials,
} from './support/opencts.js';
import {
  formatNumber,
  formatSummary,
  markdownTable,
  percentilesInPlace,
  summarize,
  type Summary,
} from './support/stats.js';
import { buildUniverse, generateIngested, mulberry32 } from './support/trace-generator.js';
import { ingestRequests } from './support/ingest-requests.js';

// ---------------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------------

export interface Options {
  readonly duration: number;
  readonly repeat: number;
  readonly instances: number[];
  readonly connections: number;
  readonly batch: number;
  readonly warmup: number;
  readonly url: string;
  readonly json: boolean;
}

const USAGE = `usage: node dist/bench/scale-out.js [options]
  --duration <s>          seconds per measurement (default 10)
  --repeat <n>            repetitions of every cell (default 3)
  --instances <list>      OpenCTS instances per cell, comma-separated (default 1,2,3)
  --connections <n>       connections in total, split across the instances (default 12)
  --batch <n>             traces per request and per raw INSERT (default 100, the API maximum)
  --warmup <s>            unmeasured warm-up of every instance before the first cell (default 2; 0 = none)
  --url <url>             PostgreSQL maintenance database to create the throwaway one from
                          (default $OPENCTS_TEST_PG_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --json                  print the results as JSON instead of tables`;

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string', default: '10' },
      repeat: { type: 'string', default: '3' },
      instances: { type: 'string', default: '1,2,3' },
      connections: { type: 'string', default: '12' },
      batch: { type: 'string', default: '100' },
      warmup: { type: 'string', default: '2' },
      url: {
        type: 'string',
        default: DEFAULT_PG_URL,
      },
      json: { type: 'boolean', default: false },
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
  const instances = integerList('instances', values.instances);
  const connections = positiveInteger('connections', values.connections);
  if (connections < Math.max(...instances)) throw new Error('--connections: at least one per instance');
  return {
    duration: positive('duration', values.duration),
    repeat: positiveInteger('repeat', values.repeat),
    instances,
    connections,
    batch,
    warmup: positive('warmup', values.warmup, true),
    url: values.url,
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Bodies and raw rows
// ---------------------------------------------------------------------------------------------------------------

const POOL_BODIES = 64;

interface Workload {
  /** JSON bodies of `POST /v3/{project}/traces`. */
  readonly bodies: string[];
  /** The stored traces of the same items, under the raw project (built by the real ingest code). */
  readonly rawTraces: Trace[];
}

function workload(service: Credentials, rawProjectId: string, system: Tracker, batch: number): Workload {
  const universe = buildUniverse(1);
  const rng = mulberry32(42);
  const now = Date.now();
  const bodies: string[] = [];
  const rawTraces: Trace[] = [];
  for (let b = 0; b < POOL_BODIES; b++) {
    const items: IngestedTrace[] = [];
    for (let i = 0; i < batch; i++) {
      const item = generateIngested(rng, universe, now - Math.floor(rng() * 600_000), service.projectId);
      items.push(item);
      const ctx = { projectId: rawProjectId, domainId: service.domainId, traceId: uuidv7(now), recordTime: now };
      rawTraces.push(...tracesToStore(item, i, [system], ctx));
    }
    bodies.push(JSON.stringify({ traces: items }));
  }
  return { bodies, rawTraces };
}

// ---------------------------------------------------------------------------------------------------------------
// Raw pg
// ---------------------------------------------------------------------------------------------------------------

const BIGINT_COLUMNS = new Set<string>(['time', 'record_time', 'content_length', 'total_time']);
const RAW_INSERT = `INSERT INTO traces (${TRACE_COLUMNS.join(', ')}) SELECT * FROM unnest(${TRACE_COLUMNS.map(
  (c, i) => `$${i + 1}::${BIGINT_COLUMNS.has(c) ? 'bigint' : 'text'}[]`,
).join(', ')})`;

/** Rows/s of `writers` connections each inserting `batch` rows per statement for `seconds`. */
async function rawInserts(
  pool: pg.Pool,
  writers: number,
  seconds: number,
  traces: readonly Trace[],
  batch: number,
): Promise<number> {
  let next = 0;
  let inserted = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) {
        const columns: unknown[][] = TRACE_COLUMNS.map(() => []);
        for (let i = 0; i < batch; i++) {
          const row = traceRowValues(traces[next++ % traces.length]!);
          // Trace ids are unique per tracker (index traces_id): a fresh UUIDv7 per row, as the store gives.
          row[0] = uuidv7();
          row.forEach((v, c) => columns[c]!.push(v));
        }
        await pool.query(RAW_INSERT, columns);
        inserted += batch;
      }
    }),
  );
  return inserted / ((performance.now() - started) / 1000);
}

// ---------------------------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------------------------

/** One measurement of a cell: all instances loaded at once. */
export interface ScaleRun {
  readonly tracesPerSec: number;
  readonly acknowledgedTraces: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly errorSamples: Record<string, number>;
  /** Sum over the loaded instances, % of one core. */
  readonly serverCpuPercent: number;
  /** CPU of the PostgreSQL backends connected to the benchmark's database, % of one core. */
  readonly postgresCpuPercent: number;
  readonly perInstance: LoadRun[];
  readonly round: number;
}

export interface Cell {
  readonly instances: number;
  readonly connectionsPerInstance: number[];
  readonly runs: ScaleRun[];
}

export interface Report {
  readonly benchmark: 'scale-out';
  readonly options: Omit<Options, 'json' | 'url'>;
  readonly environment: Record<string, string | number>;
  readonly postgres: string;
  /** Raw pg rows/s per round. */
  readonly raw: number[];
  readonly cells: Array<Cell & { readonly summary: Record<string, Summary> }>;
  readonly acknowledgedTraces: number;
  readonly storedTraces: number;
  readonly errors: number;
}

/** `total` connections over `instances` servers, as evenly as possible. */
function split(total: number, instances: number): number[] {
  return Array.from({ length: instances }, (_, i) => Math.floor(total / instances) + (i < total % instances ? 1 : 0));
}

async function measure(
  db: { pool: pg.Pool; database: string },
  targets: readonly LoadTarget[],
  connections: readonly number[],
  seconds: number,
  batch: number,
  next: () => { method: 'POST'; path: string; body: string },
  check: (status: number, body: string) => string | undefined,
  round: number,
): Promise<ScaleRun> {
  const latencies: number[] = [];
  const cpuBefore = await backendCpu(db.pool, db.database);
  const started = performance.now();
  const perInstance = await Promise.all(
    targets.map((target, i) =>
      closedLoopLoad(target, {
        connections: connections[i]!,
        seconds,
        next,
        check,
        onLatency: (ms) => latencies.push(ms),
      }),
    ),
  );
  const elapsed = (performance.now() - started) / 1000;
  const postgresCpu = cpuBetween(cpuBefore, await backendCpu(db.pool, db.database));
  const [p50 = NaN, p99 = NaN] = percentilesInPlace(latencies, [50, 99]);
  const errorSamples: Record<string, number> = {};
  perInstance.forEach((r, i) => {
    for (const [k, n] of Object.entries(r.errorSamples)) errorSamples[`instance ${i + 1}: ${k}`] = n;
  });
  const acknowledgedTraces = perInstance.reduce((n, r) => n + r.ok * batch, 0);
  return {
    tracesPerSec: acknowledgedTraces / elapsed,
    acknowledgedTraces,
    p50,
    p99,
    errors: perInstance.reduce((n, r) => n + r.errors, 0),
    errorSamples,
    serverCpuPercent: perInstance.reduce((n, r) => n + r.serverCpuPercent, 0),
    postgresCpuPercent: (100 * postgresCpu) / elapsed,
    perInstance,
    round,
  };
}

function summarizeCell(cell: Cell, raw: readonly number[], baseline: Cell | undefined): Record<string, Summary> {
  const r = cell.runs;
  // Against the 1-instance run of the same round: the table grows through the run and rates drift with it.
  const base = (round: number) => baseline?.runs.find((b) => b.round === round)?.tracesPerSec ?? NaN;
  return {
    tracesPerSec: summarize(r.map((x) => x.tracesPerSec)),
    p50: summarize(r.map((x) => x.p50)),
    p99: summarize(r.map((x) => x.p99)),
    serverCpuPercent: summarize(r.map((x) => x.serverCpuPercent)),
    postgresCpuPercent: summarize(r.map((x) => x.postgresCpuPercent)),
    vsRaw: summarize(r.map((x) => x.tracesPerSec / raw[x.round]!)),
    scaling: summarize(r.map((x) => x.tracesPerSec / base(x.round))),
  };
}

function ratio(s: Summary): string {
  if (!Number.isFinite(s.median)) return '-';
  if (s.n <= 1) return `${formatNumber(s.median, 2)}×`;
  return `${formatNumber(s.median, 2)}× (${formatNumber(s.min, 2)}–${formatNumber(s.max, 2)})`;
}

function pct(s: Summary): string {
  if (s.n <= 1) return percent(s.median);
  return `${percent(s.median)} (${percent(s.min)}–${percent(s.max)})`;
}

export function render(report: Report): string {
  const o = report.options;
  const env = report.environment;
  const lines: string[] = [];
  lines.push(
    `OpenCTS scale-out ingest: signed POST /v3/{project}/traces, ${o.batch} traces per request, ${o.connections} connections in total split across 1..n OpenCTS instances sharing one PostgreSQL database (${report.postgres})`,
  );
  lines.push(
    `${o.duration} s per measurement, ${o.repeat} repetition(s), warm-up ${o.warmup} s; figures are median (min–max) over repetitions; closed-loop node:http keep-alive connections, 1 request in flight each.`,
  );
  lines.push(`Machine: ${env['cpus']} × ${env['cpuModel']}; Node ${env['node']}.`);
  lines.push(
    `Load average (1/5/15 min): ${env['loadAverageStart']} at the start, ${env['loadAverageEnd']} at the end.`,
  );
  lines.push(
    `Raw pg, same rows, ${o.batch} per INSERT … unnest, ${o.connections} connections, into the store's traces table (same schema: partitions and indexes) of the same database: ${formatSummary(summarize(report.raw), 0)} rows/s`,
  );
  lines.push(
    `Note: on this ${env['cpus']}-core machine all instances, PostgreSQL and the load generator share the same ${env['cpus']} cores, so the scaling column shows the coordination overhead of several instances on one database, not added capacity. CPU columns: % of one core during the measurement (PostgreSQL: the backends connected to the benchmark's database).`,
  );
  lines.push('');
  lines.push(
    markdownTable(
      [
        'instances',
        'conns each',
        'traces/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'traces/s ÷ raw pg (same schema)',
        'scaling vs 1 instance',
        'OpenCTS CPU % (sum)',
        'PostgreSQL CPU %',
      ],
      report.cells.map((c) => {
        const s = c.summary;
        return [
          String(c.instances),
          c.connectionsPerInstance.join('/'),
          formatSummary(s['tracesPerSec']!, 0),
          formatSummary(s['p50']!, 1),
          formatSummary(s['p99']!, 1),
          String(c.runs.reduce((n, r) => n + r.errors, 0)),
          pct(s['vsRaw']!),
          ratio(s['scaling']!),
          formatSummary(s['serverCpuPercent']!, 0),
          formatSummary(s['postgresCpuPercent']!, 0),
        ];
      }),
    ),
  );
  lines.push('');
  const equal = report.storedTraces === report.acknowledgedTraces;
  lines.push(
    `Traces in the database: ${formatNumber(report.storedTraces, 0)}; acknowledged: ${formatNumber(report.acknowledgedTraces, 0)} (${equal ? 'equal: no trace lost or doubled' : 'MISMATCH'}).`,
  );
  if (report.errors > 0) {
    lines.push('', `ERRORS (${report.errors}):`);
    for (const c of report.cells) {
      for (const r of c.runs) {
        for (const [k, n] of Object.entries(r.errorSamples)) lines.push(`  ${n} × ${c.instances} instances, ${k}`);
      }
    }
  }
  return lines.join('\n');
}

const execFileAsync = promisify(execFile);

export async function runBenchmark(options: Options): Promise<Report> {
  const root = await mkdtemp(path.join(tmpdir(), 'opencts-bench-scale-'));
  // Dropped in `finally`, or at exit when a signal (a test's timeout) ends the run first.
  const db = await createThrowawayDatabase(options.url, 'opencts_bench');
  const { name, url: store } = db;
  // One master key for the CLI and every instance (the credentials' secrets are sealed with it).
  process.env[MASTER_KEY_ENV] ??= randomBytes(32).toString('base64');
  const servers: ChildServer[] = [];
  const pool = quietPool(new pg.Pool({ connectionString: store, max: options.connections }));
  const loadAverageStart = loadAverage();
  try {
    progress(`scale-out: database ${name}, temp dir ${root}, load average ${loadAverageStart}`);
    const cliDir = path.join(root, 'cli');
    await execFileAsync(process.execPath, [OPENCTS_BIN, 'migrate', '--store', store, '--data-dir', cliDir]);
    const admin = await createCredentials(cliDir, { store });
    const service = await createCredentials(cliDir, {
      store,
      role: 'service',
      projectId: admin.projectId,
      domainId: admin.domainId,
      user: 'reporter',
    });
    const count = Math.max(...options.instances);
    for (let i = 0; i < count; i++) {
      const server = await startOpenCts({ dataDir: path.join(root, `instance-${i + 1}`), store });
      servers.push(server);
      progress(`scale-out: instance ${i + 1} pid ${server.pid} at ${server.url}`);
    }
    const client = new SignedClient(servers[0]!.port, admin);
    const system = (await mustRequest(client, 'POST', `/v3/${admin.projectId}/tracker`, [], {
      tracker_type: 'system',
      tracker_name: 'system',
    })) as Tracker;
    client.close();
    const postgres = (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    const storedCount = async () =>
      Number(
        (await pool.query<{ n: string }>('SELECT count(*) AS n FROM traces WHERE project_id = $1', [service.projectId]))
          .rows[0]!.n,
      );
    // The tracker's creation audited itself in the ingesting project: count from here.
    const before = await storedCount();

    const rawProjectId = randomBytes(16).toString('hex');
    const work = workload(service, rawProjectId, system, options.batch);
    const { next, check } = ingestRequests(service.projectId, work.bodies, options.batch);
    const database = { pool, database: name };
    const targets: LoadTarget[] = servers.map((s) => ({ port: s.port, pid: s.pid, credentials: service }));

    let acknowledgedTraces = 0;
    let errors = 0;
    if (options.warmup > 0) {
      progress(`scale-out: warm-up ${options.warmup} s on all ${count} instances`);
      const w = await measure(
        database,
        targets,
        split(options.connections, count),
        options.warmup,
        options.batch,
        next,
        check,
        0,
      );
      acknowledgedTraces += w.acknowledgedTraces;
      errors += w.errors;
    }

    const cells: Cell[] = options.instances.map((instances) => ({
      instances,
      connectionsPerInstance: split(options.connections, instances),
      runs: [],
    }));
    const raw: number[] = [];
    for (let round = 0; round < options.repeat; round++) {
      const tag = `[${round + 1}/${options.repeat}]`;
      for (const cell of cells) {
        const r = await measure(
          database,
          targets.slice(0, cell.instances),
          cell.connectionsPerInstance,
          options.duration,
          options.batch,
          next,
          check,
          round,
        );
        cell.runs.push(r);
        acknowledgedTraces += r.acknowledgedTraces;
        errors += r.errors;
        progress(
          `${tag} ${cell.instances} instance(s): ${formatNumber(r.tracesPerSec, 0)} traces/s, p50 ${formatNumber(r.p50, 1)} ms, p99 ${formatNumber(r.p99, 1)} ms, ${r.errors} errors, OpenCTS CPU ${formatNumber(r.serverCpuPercent, 0)} %, PostgreSQL CPU ${formatNumber(r.postgresCpuPercent, 0)} %`,
        );
      }
      const rows = await rawInserts(pool, options.connections, options.duration, work.rawTraces, options.batch);
      raw.push(rows);
      progress(`${tag} raw pg: ${formatNumber(rows, 0)} rows/s`);
    }

    for (const s of servers) await s.stop();
    const storedTraces = (await storedCount()) - before;
    const baseline = cells.find((c) => c.instances === 1);
    return {
      benchmark: 'scale-out',
      options: {
        duration: options.duration,
        repeat: options.repeat,
        instances: options.instances,
        connections: options.connections,
        batch: options.batch,
        warmup: options.warmup,
      },
      environment: { ...environment(), loadAverageStart, loadAverageEnd: loadAverage() },
      postgres: `PostgreSQL ${postgres}`,
      raw,
      cells: cells.map((c) => ({ ...c, summary: summarizeCell(c, raw, baseline) })),
      acknowledgedTraces,
      storedTraces,
      errors,
    };
  } finally {
    for (const s of servers.reverse()) await s.stop();
    await pool.end();
    await db.drop();
    await rm(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const report = await runBenchmark(options);
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else console.log(`${render(report)}\nTook ${formatNumber((performance.now() - started) / 1000, 0)} s.`);
  if (report.errors > 0 || report.storedTraces !== report.acknowledgedTraces) process.exitCode = 1;
}

if (isEntryPoint(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`scale-out: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
