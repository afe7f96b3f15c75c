/**
 * Traced writes: how many tracker updates per second OpenCTS commits together with their trace,
 * against raw SQLite single-row commits measured in the same run (DESIGN.md, "Performance method").
 *
 * Real path: OpenCTS (`node bin/opencts.js serve`, a child process on a temp data dir), with the
 * system tracker enabled so that every management call is recorded. Each connection sends signed
 * `PUT /v3/{project}/tracker` requests that toggle `is_lts_enabled` of its own data tracker
 * (`--target data`, default) or of the system tracker (`--target system`, every connection on
 * the same row). Each 200 answer means the tracker row AND its updateTracker trace were committed.
 * The load is closed-loop (node:http keep-alive, one request in flight per connection) so that
 * every request sent is answered: at the end the server is stopped and the number of
 * updateTracker traces in its database must equal the number of 200 answers.
 *
 * Raw limits, in the same run and interleaved with it:
 *  - raw better-sqlite3 single-row commits of the same rows (goal basis): autocommit UPSERT of the
 *    tracker row, then autocommit INSERT of an updateTracker trace row, repeated; the store's schema
 *    (its migrations, with all trace indexes) and pragmas, in a fresh file each round. For
 *    information, the same pair in one explicit transaction per pair;
 *  - a bare Fastify 5 server answering the same signed PUTs from the same client.
 *
 * Goal: writes/s ≥ 100 % of the raw writes/s with one commit per row, i.e. raw single-row commits/s ÷ 2
 * (a write is two rows; group commit must beat one commit per row).
 *
 * Usage: node dist/bench/traced-writes.js [--duration 10] [--repeat 3] [--connections 1,10,50]
 *        [--warmup 2] [--target data|system] [--json] [--server-cpu-prof DIR]
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { buildApiCallTrace, userOf } from '../src/core/trace/audit-trace.js';
import { uuidv7 } from '../src/core/ids.js';
import type { Tracker } from '../src/core/tracker/tracker.js';
import type { ChildServer } from './support/child-server.js';
import { closedLoopLoad, type LoadRun, type LoadTarget } from './support/load.js';
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
  INSERT_PROJECT_SQL,
  openStoreSchema,
  traceRow,
  UPSERT_TRACKER_SQL,
} from './support/raw-sqlite.js';
import { formatNumber, formatSummary, markdownTable, summarize, type Summary, errorSection } from './support/stats.js';

// ---------------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------------

type TargetKind = 'data' | 'system';

export interface Options {
  readonly duration: number;
  readonly repeat: number;
  readonly connections: number[];
  readonly warmup: number;
  readonly target: TargetKind;
  /** The server's `--durability` and the raw loop's `synchronous` (normal = NORMAL, full = FULL). */
  readonly durability: 'normal' | 'full';
  readonly json: boolean;
  readonly serverCpuProf: string | undefined;
}

const USAGE = `usage: node dist/bench/traced-writes.js [options]
  --duration <s>          seconds per measurement (default 10)
  --repeat <n>            repetitions of every cell (default 3)
  --connections <list>    concurrent connections, comma-separated (default 1,10,50)
  --warmup <s>            unmeasured warm-up of each server before the first cell (default 2; 0 = none)
  --target data|system    toggle one data tracker per connection (default) or the system tracker
  --durability normal|full  serve --durability and the raw loop's synchronous setting (default normal)
  --json                  print the results as JSON instead of tables
  --server-cpu-prof <dir> write a V8 CPU profile of the OpenCTS server into <dir> (node --cpu-prof)`;

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string', default: '10' },
      repeat: { type: 'string', default: '3' },
      connections: { type: 'string', default: '1,10,50' },
      warmup: { type: 'string', default: '2' },
      target: { type: 'string', default: 'data' },
      durability: { type: 'string', default: 'normal' },
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
  if (values.target !== 'data' && values.target !== 'system') throw new Error('--target: data or system');
  if (values.durability !== 'normal' && values.durability !== 'full') throw new Error('--durability: normal or full');
  return {
    duration: positive('duration', values.duration),
    repeat: positiveInteger('repeat', values.repeat),
    connections: integerList('connections', values.connections),
    warmup: positive('warmup', values.warmup, true),
    target: values.target,
    durability: values.durability,
    json: values.json,
    serverCpuProf: values['server-cpu-prof'],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The signed update
// ---------------------------------------------------------------------------------------------------------------

const trackerName = (target: TargetKind, conn: number) => (target === 'system' ? 'system' : `bench-c${conn}`);

/** Every call flips is_lts_enabled of the connection's tracker (each one is a real change and a trace). */
function updates(projectId: string, target: TargetKind) {
  const lts = new Map<number, boolean>();
  return (conn: number) => {
    const next = !(lts.get(conn) ?? false);
    lts.set(conn, next);
    return {
      method: 'PUT' as const,
      path: `/v3/${projectId}/tracker`,
      body: JSON.stringify({ tracker_type: target, tracker_name: trackerName(target, conn), is_lts_enabled: next }),
    };
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Raw SQLite
// ---------------------------------------------------------------------------------------------------------------

export interface RawRun {
  /** Autocommit statements per second (tracker upsert and trace insert alternating). */
  readonly commitsPerSec: number;
  /** Tracker upsert + trace insert in one explicit transaction, per second. */
  readonly pairTxnPerSec: number;
  readonly traceBytes: number;
  readonly trackerBytes: number;
  /** Indexes on the store's traces table. */
  readonly traceIndexes: number;
}

function rawSqlite(
  dir: string,
  round: number,
  options: Pick<Options, 'duration' | 'durability'>,
  credentials: Credentials,
  tracker: Tracker,
): RawRun {
  const seconds = options.duration;
  const measure = (file: string, pairsInOneTxn: boolean) => {
    const db = openStoreSchema(path.join(dir, file), options.durability);
    try {
      db.prepare(INSERT_PROJECT_SQL).run(credentials.projectId, credentials.domainId, 'bench', Date.now());
      const upsert = db.prepare(UPSERT_TRACKER_SQL);
      const insert = db.prepare(insertTraceSql());
      const begin = db.prepare('BEGIN IMMEDIATE');
      const commit = db.prepare('COMMIT');
      const bodies = [false, true].map((on) =>
        JSON.stringify({ ...tracker, lts: { ...tracker.lts, is_lts_enabled: on } }),
      );
      const now = Date.now();
      const facts = {
        projectId: credentials.projectId,
        domainId: credentials.domainId,
        user: userOf({ userId: 'u', userName: 'bench', domainId: credentials.domainId, accessKeyId: 'AK' }),
        sourceIp: '127.0.0.1',
        userAgent: 'bench',
        requestId: 'req-1',
        apiVersion: 'v3',
        time: now,
        requestBody: { tracker_type: tracker.tracker_type, tracker_name: tracker.tracker_name, is_lts_enabled: true },
        contentLength: 80,
        resourceUrl: `/v3/${credentials.projectId}/tracker`,
        readOnly: false,
      };
      const template = traceRow(
        buildApiCallTrace(
          facts,
          {
            traceName: 'updateTracker',
            resourceType: 'tracker',
            resourceId: tracker.id,
            resourceName: tracker.tracker_name,
          },
          { httpStatus: 200 },
          { traceId: uuidv7(now), recordTime: now },
        ),
      );
      let writes = 0;
      const started = performance.now();
      const deadline = started + seconds * 1000;
      let t = started;
      for (let i = 0; t < deadline; i++) {
        const row = [...template];
        row[0] = uuidv7(); // trace ids are unique per tracker (index traces_id)
        if (pairsInOneTxn) begin.run();
        upsert.run(tracker.id, credentials.projectId, tracker.tracker_type, tracker.tracker_name, bodies[i & 1]);
        insert.run(...row);
        if (pairsInOneTxn) commit.run();
        writes++;
        if ((i & 31) === 0) t = performance.now();
      }
      const elapsed = (performance.now() - started) / 1000;
      return {
        traceIndexes: indexCount(db, 'traces'),
        perSec: (pairsInOneTxn ? writes : 2 * writes) / elapsed,
        traceBytes: String(template[19]).length,
        trackerBytes: bodies[0]!.length,
      };
    } finally {
      db.close();
    }
  };
  const single = measure(`raw-${round}-single.db`, false);
  const pairs = measure(`raw-${round}-pairs.db`, true);
  return {
    commitsPerSec: single.perSec,
    pairTxnPerSec: pairs.perSec,
    traceBytes: single.traceBytes,
    trackerBytes: single.trackerBytes,
    traceIndexes: single.traceIndexes,
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

export interface Verification {
  readonly answered2xx: number;
  readonly answeredOther: number;
  readonly updateTraces: number;
  readonly updateFailureTraces: number;
  readonly ok: boolean;
}

export interface Report {
  readonly benchmark: 'traced-writes';
  readonly options: Omit<Options, 'json' | 'serverCpuProf'>;
  readonly environment: Record<string, string | number>;
  readonly raw: RawRun[];
  readonly cells: Array<Cell & { readonly summary: Record<string, Summary> }>;
  readonly verification: Verification;
  readonly errors: number;
}

const GOAL = 1.0;

function summarizeCell(cell: Cell, raw: readonly RawRun[]): Record<string, Summary> {
  const o = cell.opencts;
  const b = cell.bareFastify;
  return {
    writesPerSec: summarize(o.map((r) => r.okPerSec)),
    p50: summarize(o.map((r) => r.p50)),
    p99: summarize(o.map((r) => r.p99)),
    serverCpuPercent: summarize(o.map((r) => r.serverCpuPercent)),
    serverCpuUsPerRequest: summarize(o.map((r) => r.serverCpuUsPerRequest)),
    clientCpuPercent: summarize(o.map((r) => r.clientCpuPercent)),
    bareRequestsPerSec: summarize(b.map((r) => r.okPerSec)),
    bareP50: summarize(b.map((r) => r.p50)),
    bareP99: summarize(b.map((r) => r.p99)),
    bareServerCpuPercent: summarize(b.map((r) => r.serverCpuPercent)),
    // Ratios pair the runs of one round, then take the median.
    vsBare: summarize(o.map((r, i) => r.okPerSec / b[i]!.okPerSec)),
    // A write is two rows (the tracker and its trace): one commit per row gives commits/2 writes/s.
    vsRawCommits: summarize(o.map((r, i) => r.okPerSec / (raw[cell.round[i]!]!.commitsPerSec / 2))),
    vsRawPairs: summarize(o.map((r, i) => r.okPerSec / raw[cell.round[i]!]!.pairTxnPerSec)),
  };
}

function pct(s: Summary): string {
  if (s.n <= 1) return percent(s.median);
  return `${percent(s.median)} (${percent(s.min)}–${percent(s.max)})`;
}

export function render(report: Report): string {
  const o = report.options;
  const env = report.environment;
  const rawCommits = summarize(report.raw.map((r) => r.commitsPerSec));
  const rawPairs = summarize(report.raw.map((r) => r.pairTxnPerSec));
  const lines: string[] = [];
  lines.push(
    `OpenCTS traced writes: signed PUT /v3/{project}/tracker toggling is_lts_enabled of ${o.target === 'data' ? `one data tracker per connection (the project holds the system tracker and ${Math.max(...o.connections)} data trackers throughout)` : 'the system tracker (all connections)'}; each 200 = tracker row + updateTracker trace committed; serve --durability ${o.durability}`,
  );
  lines.push(
    `${o.duration} s per measurement, ${o.repeat} repetition(s), warm-up ${o.warmup} s; figures are median (min–max) over repetitions. Closed-loop node:http client, 1 request in flight per connection.`,
  );
  lines.push(describeEnvironment(env));
  lines.push(
    `Load average (1/5/15 min): ${env['loadAverageStart']} at the start, ${env['loadAverageEnd']} at the end.`,
  );
  lines.push(
    `Raw SQLite single-row commits (autocommit tracker UPSERT, then autocommit INSERT of a ${report.raw[0]?.traceBytes ?? '?'} B updateTracker trace; store schema with its ${report.raw[0]?.traceIndexes ?? '?'} trace indexes, WAL, synchronous=${report.options.durability === 'full' ? 'FULL' : 'NORMAL'}, 8 KB pages): ${formatSummary(rawCommits, 0)} commits/s = ${formatNumber(rawCommits.median / 2, 0)} writes/s`,
  );
  lines.push(
    `Raw SQLite, tracker UPSERT + trace INSERT in one transaction per pair (for information): ${formatSummary(rawPairs, 0)} pairs/s`,
  );
  lines.push('');
  lines.push(
    markdownTable(
      [
        'conns',
        'writes/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'bare Fastify req/s',
        'writes ÷ bare',
        'writes/s ÷ raw writes/s (1 commit per row)',
        `goal ≥ ${percent(GOAL)}`,
        'writes ÷ raw pair-txn/s',
      ],
      report.cells.map((c) => {
        const s = c.summary;
        return [
          String(c.connections),
          formatSummary(s['writesPerSec']!, 0),
          formatSummary(s['p50']!, 2),
          formatSummary(s['p99']!, 2),
          String(c.opencts.reduce((n, r) => n + r.errors, 0)),
          formatSummary(s['bareRequestsPerSec']!, 0),
          pct(s['vsBare']!),
          pct(s['vsRawCommits']!),
          s['vsRawCommits']!.median >= GOAL ? 'met' : 'MISSED',
          pct(s['vsRawPairs']!),
        ];
      }),
    ),
  );
  lines.push('');
  lines.push('CPU during the runs (% of one core) and server CPU per write:');
  lines.push(
    markdownTable(
      [
        'conns',
        'OpenCTS CPU %',
        'OpenCTS µs/write',
        'client CPU %',
        'bare Fastify CPU %',
        'bare p50 ms',
        'bare p99 ms',
      ],
      report.cells.map((c) => {
        const s = c.summary;
        return [
          String(c.connections),
          formatSummary(s['serverCpuPercent']!, 0),
          formatSummary(s['serverCpuUsPerRequest']!, 0),
          formatSummary(s['clientCpuPercent']!, 0),
          formatSummary(s['bareServerCpuPercent']!, 0),
          formatSummary(s['bareP50']!, 2),
          formatSummary(s['bareP99']!, 2),
        ];
      }),
    ),
  );
  lines.push('');
  const v = report.verification;
  lines.push(
    `Verification (database read after the server stopped, warm-up included): ${v.answered2xx} PUTs answered 2xx, ` +
      `${v.updateTraces} updateTracker traces rated normal → ${v.ok ? 'EQUAL' : 'MISMATCH'}; ` +
      `${v.answeredOther} non-2xx answers, ${v.updateFailureTraces} updateTracker failure traces.`,
  );
  lines.push(...errorSection(report.cells, report.errors));
  return lines.join('\n');
}

export async function runBenchmark(options: Options): Promise<Report> {
  const root = await mkdtemp(path.join(tmpdir(), 'opencts-bench-traced-writes-'));
  const dataDir = path.join(root, 'data');
  const rawDir = path.join(root, 'raw-sqlite');
  mkdirSync(rawDir, { recursive: true });
  const servers: ChildServer[] = [];
  const loadAverageStart = loadAverage();
  let client: SignedClient | undefined;
  try {
    progress(`traced-writes: temp dir ${root}, load average ${loadAverageStart}`);
    const credentials = await createCredentials(dataDir);
    const opencts = await startOpenCts({
      dataDir,
      cpuProfDir: options.serverCpuProf,
      durability: options.durability,
    });
    servers.push(opencts);
    const bare = await startBareFastify();
    servers.push(bare);
    progress(`traced-writes: OpenCTS pid ${opencts.pid} at ${opencts.url}, bare Fastify pid ${bare.pid}`);

    // The system tracker records every management call; one data tracker per connection.
    client = new SignedClient(opencts.port, credentials);
    const projectPath = `/v3/${credentials.projectId}/tracker`;
    const system = (await mustRequest(client, 'POST', projectPath, [], {
      tracker_type: 'system',
      tracker_name: 'system',
    })) as Tracker;
    let sample = system;
    if (options.target === 'data') {
      for (let c = 0; c < Math.max(...options.connections); c++) {
        const name = trackerName('data', c);
        mkdirSync(path.join(dataDir, 'buckets', name), { recursive: true });
        sample = (await mustRequest(client, 'POST', projectPath, [], {
          tracker_type: 'data',
          tracker_name: name,
          is_lts_enabled: false,
          data_bucket: { data_bucket_name: name, data_event: ['READ', 'WRITE'] },
        })) as Tracker;
      }
    }
    client.close();
    client = undefined;

    const ours: LoadTarget = { port: opencts.port, pid: opencts.pid, credentials };
    const theirs: LoadTarget = { port: bare.port, pid: bare.pid, credentials };
    const next = updates(credentials.projectId, options.target);
    let answered2xx = 0;
    let answeredOther = 0;
    const countOurs = (r: LoadRun) => {
      answered2xx += r.ok;
      answeredOther += r.requests - r.ok;
      return r;
    };

    if (options.warmup > 0) {
      const c = Math.max(...options.connections);
      progress(`traced-writes: warm-up ${options.warmup} s per server at ${c} connections`);
      countOurs(await closedLoopLoad(ours, { connections: c, seconds: options.warmup, next }));
      await closedLoopLoad(theirs, { connections: c, seconds: options.warmup, next });
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
        const o = countOurs(
          await closedLoopLoad(ours, { connections: cell.connections, seconds: options.duration, next }),
        );
        progress(
          `${tag} OpenCTS      ${cell.connections} conns: ${formatNumber(o.okPerSec, 0)} writes/s, p50 ${formatNumber(o.p50, 2)} ms, p99 ${formatNumber(o.p99, 2)} ms, ${o.errors} errors, server CPU ${formatNumber(o.serverCpuPercent, 0)} %, load ${formatNumber(o.loadAverage, 2)}`,
        );
        const b = await closedLoopLoad(theirs, { connections: cell.connections, seconds: options.duration, next });
        progress(
          `${tag} bare Fastify ${cell.connections} conns: ${formatNumber(b.okPerSec, 0)} req/s, p50 ${formatNumber(b.p50, 2)} ms, p99 ${formatNumber(b.p99, 2)} ms, ${b.errors} errors`,
        );
        cell.opencts.push(o);
        cell.bareFastify.push(b);
        cell.round.push(round);
      }
      const r = rawSqlite(rawDir, round, options, credentials, sample);
      raw.push(r);
      progress(
        `${tag} raw SQLite: ${formatNumber(r.commitsPerSec, 0)} single-row commits/s, ${formatNumber(r.pairTxnPerSec, 0)} pair transactions/s`,
      );
    }

    // Stop the server (it drains its writer), then count the traces it committed.
    await opencts.stop();
    const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
    let updateTraces: number;
    let updateFailureTraces: number;
    try {
      const count = db.prepare(
        `SELECT count(*) FROM traces WHERE project_id = ? AND tracker_name = 'system' AND trace_name = 'updateTracker' AND trace_rating = ?`,
      );
      updateTraces = count.pluck().get(credentials.projectId, 'normal') as number;
      updateFailureTraces =
        (db
          .prepare(
            `SELECT count(*) FROM traces WHERE project_id = ? AND trace_name = 'updateTracker' AND trace_rating <> 'normal'`,
          )
          .pluck()
          .get(credentials.projectId) as number) ?? 0;
    } finally {
      db.close();
    }
    const verification: Verification = {
      answered2xx,
      answeredOther,
      updateTraces,
      updateFailureTraces,
      ok: updateTraces === answered2xx && updateFailureTraces === answeredOther,
    };
    progress(
      `traced-writes: ${answered2xx} 2xx answers, ${updateTraces} updateTracker traces: ${verification.ok ? 'equal' : 'MISMATCH'}`,
    );

    const errors =
      cells.reduce((n, c) => n + [...c.opencts, ...c.bareFastify].reduce((m, r) => m + r.errors, 0), 0) +
      (verification.ok ? 0 : 1);
    return {
      benchmark: 'traced-writes',
      options: {
        duration: options.duration,
        repeat: options.repeat,
        connections: options.connections,
        warmup: options.warmup,
        target: options.target,
        durability: options.durability,
      },
      environment: { ...environment(), loadAverageStart, loadAverageEnd: loadAverage() },
      raw,
      cells: cells.map((c) => ({ ...c, summary: summarizeCell(c, raw) })),
      verification,
      errors,
    };
  } finally {
    client?.close();
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
  // Any non-2xx answer, socket error or trace count mismatch fails the benchmark.
  if (report.errors > 0) process.exitCode = 1;
}

if (isEntryPoint(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`traced-writes: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
