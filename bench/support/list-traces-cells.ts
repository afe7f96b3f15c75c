/**
 * What the ListTraces benchmarks share, whatever the store under the server (bench/list-traces.ts on
 * SQLite, bench/list-traces-pg.ts on PostgreSQL): the data (same generator, same time spread), the
 * query cells (shapes × windows, seeded so the server and raw runs get the same queries), timing one
 * query through the HTTP API, the warm latency loop (server and raw query by query, in turns), the
 * sustained-throughput runs against bare Fastify, and the tables that print all of it.
 */
import { uuidv7 } from '../../src/core/ids.js';
import { tracesToStore } from '../../src/core/trace/ingest.js';
import type { Trace } from '../../src/core/trace/trace.js';
import { planCreateTracker } from '../../src/core/tracker/tracker-rules.js';
import type { Tracker } from '../../src/core/tracker/tracker.js';
import type { Store, TraceFilter } from '../../src/store/store.js';
import type { ChildServer } from './child-server.js';
import { autocannonLoad, type LoadRun, type LoadTarget } from './load.js';
import { loadAverage, percent, progress, type Credentials, type Query, type SignedClient } from './opencts.js';
import { formatNumber, formatSummary, markdownTable, percentilesInPlace, summarize, type Summary } from './stats.js';
import { generateIngested, mulberry32, rating, type Universe } from './trace-generator.js';

export const DAY = 24 * 3600 * 1000;
export const HOUR = 3600 * 1000;
/** Page size of every latency query. */
export const LIMIT = 200;
export const GOAL_P99_MS = 20;
/** OpenCTS req/s at the default limit, as a share of bare Fastify's. */
export const GOAL_THROUGHPUT = 0.25;
/** Seed of the data and of the query parameters. */
export const SEED = 20_240_601;
/** The data spans the 7 days before the load started. */
export const DATA_SPAN = 7 * DAY;

// ---------------------------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------------------------

/** Creates the project's system tracker (the traces are recorded by it) through the store. */
export async function addSystemTracker(store: Store, credentials: Credentials, now: number): Promise<Tracker> {
  let system: Tracker | undefined;
  await store.changeTrackers(credentials.projectId, (current) => {
    const { tracker } = planCreateTracker(
      current,
      { tracker_type: 'system', tracker_name: 'system' },
      {
        projectId: credentials.projectId,
        domainId: credentials.domainId,
        region: 'local-1',
        now,
        newId: () => uuidv7(),
      },
    );
    system = tracker;
    return { upsert: [tracker], result: undefined };
  });
  return system!;
}

export interface TraceBatch {
  /** Traces `first` … `first + size - 1` of `n`, as the store keeps them. */
  readonly first: number;
  readonly size: number;
  readonly n: number;
  readonly dataEnd: number;
  readonly credentials: Credentials;
  readonly trackers: readonly Tracker[];
  /** The record_time (and trace id time) of a trace of this time. */
  readonly recordTime: (time: number) => number;
}

/**
 * Generates one batch with the shared generator and turns it into stored rows with the real ingest
 * code (tracesToStore). Stratified uniform: trace k lies in the k-th of n equal slices of the 7
 * days, so times only grow from batch to batch. Batches must be made in order with one `rng`.
 */
export function generateTraceBatch(rng: () => number, universe: Universe, b: TraceBatch): Trace[] {
  const traces: Trace[] = [];
  for (let i = 0; i < b.size; i++) {
    const k = b.first + i;
    const time = Math.floor(b.dataEnd - DATA_SPAN + ((k + rng()) * DATA_SPAN) / b.n);
    const item = generateIngested(rng, universe, time, b.credentials.projectId);
    const recordTime = b.recordTime(time);
    const ctx = {
      projectId: b.credentials.projectId,
      domainId: b.credentials.domainId,
      traceId: uuidv7(recordTime),
      recordTime,
    };
    traces.push(...tracesToStore(item, i, b.trackers, ctx));
  }
  return traces;
}

// ---------------------------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------------------------

export const SHAPES = [
  '0 filters',
  'service_type',
  'user',
  'resource_name',
  '3 filters',
  '5 filters',
  'page 10',
] as const;
export type Shape = (typeof SHAPES)[number];
export const WINDOWS = ['7 d', '1 h'] as const;
export type Window = (typeof WINDOWS)[number];

export interface QuerySpec {
  readonly from: number;
  readonly to: number;
  readonly filters: Partial<Record<TraceFilter, string>>;
  readonly pages: number;
}

function filtersFor(shape: Shape, rng: () => number, u: Universe): Partial<Record<TraceFilter, string>> {
  const service = u.services[Math.floor(rng() * u.services.length)]!;
  const user = u.users[Math.floor(rng() * u.users.length)]!;
  switch (shape) {
    case '0 filters':
    case 'page 10':
      return {};
    case 'service_type':
      return { service_type: service.name };
    case 'user':
      return { user: user.name };
    case 'resource_name':
      return { resource_name: u.resources[Math.floor(rng() * u.resources.length)]!.name };
    case '3 filters':
    case '5 filters': {
      const three = {
        service_type: service.name,
        user: user.name,
        resource_type: service.resourceTypes[Math.floor(rng() * service.resourceTypes.length)]!,
      };
      if (shape === '3 filters') return three;
      return {
        ...three,
        trace_name: service.operations[Math.floor(rng() * service.operations.length)]!,
        trace_rating: rating(rng),
      };
    }
  }
}

/** The queries of one cell: seeded by the cell, so the server and raw runs get the same ones. */
export function querySpecs(shape: Shape, window: Window, count: number, dataEnd: number, u: Universe, salt: number) {
  const rng = mulberry32(SEED + salt * 7919 + SHAPES.indexOf(shape) * 101 + WINDOWS.indexOf(window));
  return (now: number): QuerySpec[] =>
    Array.from({ length: count }, () => {
      let from: number;
      let to: number;
      if (window === '7 d') {
        from = now - 7 * DAY;
        to = now;
      } else {
        // A random hour inside the data, clear of the retention edge (which moves on while a long
        // load runs, and the server clamps `from` to it).
        const lowest = Math.max(dataEnd, now) - 7 * DAY + 2 * HOUR;
        to = Math.floor(lowest + rng() * (dataEnd - lowest));
        from = to - HOUR;
      }
      return { from, to, filters: filtersFor(shape, rng, u), pages: shape === 'page 10' ? 10 : 1 };
    });
}

export interface Timing {
  /** ms of the timed request (page 10 for the page shape). */
  readonly ms: number;
  /** ms of all its pages. */
  readonly totalMs: number;
  readonly rows: number;
}

/** One query through the HTTP API; page shapes follow meta_data.marker. */
export async function serverQuery(client: SignedClient, projectId: string, spec: QuerySpec): Promise<Timing> {
  const base: Array<[string, string]> = [
    ['limit', String(LIMIT)],
    ['from', String(spec.from)],
    ['to', String(spec.to)],
  ];
  for (const [k, v] of Object.entries(spec.filters)) base.push([k, v]);
  let marker: string | null = null;
  let totalMs = 0;
  let last = { ms: 0, rows: 0 };
  for (let page = 0; page < spec.pages; page++) {
    const query: Query = marker ? [...base, ['next', marker]] : base;
    const res = await client.request('GET', `/v3/${projectId}/traces`, query);
    if (res.status !== 200) throw new Error(`ListTraces answered HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    const meta = (JSON.parse(res.body) as { meta_data: { count: number; marker: string | null } }).meta_data;
    totalMs += res.ms;
    last = { ms: res.ms, rows: meta.count };
    marker = meta.marker;
    if (!marker) break;
  }
  return { ms: last.ms, totalMs, rows: last.rows };
}

/** The same query sent to the database directly, with the store's own query code, timed around it. */
export interface RawQueries {
  run(spec: QuerySpec, shape: Shape, window: Window): Timing | Promise<Timing>;
}

// ---------------------------------------------------------------------------------------------------------------
// Latency
// ---------------------------------------------------------------------------------------------------------------

export interface LatencyRun {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Mean rows in the timed page. */
  readonly rows: number;
  /** p50 of the whole walk (page shape). */
  readonly walkP50: number;
  readonly capped: boolean;
}

export function latencyRun(timings: Timing[], capped: boolean): LatencyRun {
  const rows = timings.reduce((n, t) => n + t.rows, 0) / timings.length;
  const ms = timings.map((t) => t.ms);
  const [p50 = NaN, p99 = NaN, max = NaN] = percentilesInPlace(ms, [50, 99, 100]);
  const [walkP50 = NaN] = percentilesInPlace(
    timings.map((t) => t.totalMs),
    [50],
  );
  return { n: timings.length, p50, p99, max, rows, walkP50, capped };
}

export interface LatencyCell {
  readonly shape: Shape;
  readonly window: Window;
  readonly cache: 'warm' | 'cold';
  readonly opencts: LatencyRun[];
  readonly raw: LatencyRun[];
}

/** Every shape × window, with no runs yet. */
export function latencyCells(cache: 'warm' | 'cold'): LatencyCell[] {
  return SHAPES.flatMap((shape) => WINDOWS.map((window) => ({ shape, window, cache, opencts: [], raw: [] })));
}

export interface WarmOptions {
  readonly queries: number;
  readonly warmupQueries: number;
  readonly cellCapSeconds: number;
  readonly repeat: number;
}

/**
 * The warm cells, `repeat` rounds: per cell, `warmupQueries` unmeasured then `queries` measured
 * (or until `cellCapSeconds`). Server and raw take turns, query by query, so both see the same
 * machine (and the client's connection never idles long enough for the server's keep-alive timeout),
 * and which of them goes first alternates.
 */
export async function measureWarmCells(
  cells: readonly LatencyCell[],
  options: WarmOptions,
  target: { client: SignedClient; projectId: string; raw: RawQueries; dataEnd: number; universe: Universe },
): Promise<void> {
  for (let round = 0; round < options.repeat; round++) {
    for (const cell of cells) {
      const specs = querySpecs(
        cell.shape,
        cell.window,
        options.warmupQueries + options.queries,
        target.dataEnd,
        target.universe,
        round,
      )(Date.now());
      const server: Timing[] = [];
      const direct: Timing[] = [];
      const deadline = performance.now() + options.cellCapSeconds * 1000;
      let capped = false;
      for (const [i, spec] of specs.entries()) {
        if (i >= options.warmupQueries && performance.now() > deadline) {
          capped = true;
          break;
        }
        // Whichever runs second finds the pages the first just read in the caches (PostgreSQL's
        // shared_buffers above all): the order alternates so that both get the same share.
        let t: Timing;
        let d: Timing;
        if (i % 2 === 0) {
          t = await serverQuery(target.client, target.projectId, spec);
          d = await target.raw.run(spec, cell.shape, cell.window);
        } else {
          d = await target.raw.run(spec, cell.shape, cell.window);
          t = await serverQuery(target.client, target.projectId, spec);
        }
        if (i >= options.warmupQueries) {
          server.push(t);
          direct.push(d);
        }
      }
      const o = latencyRun(server, capped);
      const r = latencyRun(direct, capped);
      cell.opencts.push(o);
      cell.raw.push(r);
      progress(
        `[${round + 1}/${options.repeat}] warm ${cell.shape}, ${cell.window}: ${formatNumber(o.rows, 0)} rows, OpenCTS p50 ${formatNumber(o.p50, 2)} p99 ${formatNumber(o.p99, 2)} ms; raw p50 ${formatNumber(r.p50, 2)} p99 ${formatNumber(r.p99, 2)} ms; load ${loadAverage()}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Throughput
// ---------------------------------------------------------------------------------------------------------------

export interface ThroughputCell {
  readonly limit: number | undefined;
  readonly opencts: LoadRun[];
  readonly bareFastify: LoadRun[];
  /** CPU of the database server during each OpenCTS run, % of one core (PostgreSQL only). */
  readonly databaseCpuPercent: number[];
}

export interface ThroughputOptions {
  readonly connections: number;
  readonly duration: number;
  readonly repeat: number;
  /**
   * Starts measuring the CPU a database server outside OpenCTS uses; the function it returns
   * stops and answers CPU seconds. Absent for SQLite (inside the OpenCTS process).
   */
  readonly databaseCpu?: () => Promise<() => Promise<number>>;
}

export type SummarizedThroughputCell = ThroughputCell & { readonly summary: Record<string, Summary> };

/**
 * autocannon, `connections`, signed GETs for the newest hour of the data with the default limit
 * (10) and with limit 200, OpenCTS then bare Fastify answering a canned page of the same size,
 * `repeat` rounds.
 */
export async function measureThroughput(
  opencts: ChildServer,
  bare: ChildServer,
  credentials: Credentials,
  dataEnd: number,
  options: ThroughputOptions,
): Promise<SummarizedThroughputCell[]> {
  const cells: ThroughputCell[] = [undefined, LIMIT].map((limit) => ({
    limit,
    opencts: [],
    bareFastify: [],
    databaseCpuPercent: [],
  }));
  const listPath = `/v3/${credentials.projectId}/traces`;
  const target = (server: ChildServer): LoadTarget => ({ port: server.port, pid: server.pid, credentials });
  const request = (limit: number | undefined) => () => ({
    method: 'GET' as const,
    path: listPath,
    query: [
      ['from', String(dataEnd - HOUR)],
      ['to', String(dataEnd + 1)],
      ...(limit === undefined ? [] : [['limit', String(limit)]]),
    ] as Array<[string, string]>,
  });
  for (let round = 0; round < options.repeat; round++) {
    for (const cell of cells) {
      const spec = { connections: options.connections, seconds: options.duration, next: request(cell.limit) };
      const stopDatabaseCpu = await options.databaseCpu?.();
      const o = await autocannonLoad(target(opencts), spec);
      const databaseCpu = stopDatabaseCpu ? (100 * (await stopDatabaseCpu())) / o.seconds : NaN;
      const b = await autocannonLoad(target(bare), spec);
      cell.opencts.push(o);
      cell.bareFastify.push(b);
      if (stopDatabaseCpu) cell.databaseCpuPercent.push(databaseCpu);
      progress(
        `[${round + 1}/${options.repeat}] throughput limit ${cell.limit ?? 'default'}: OpenCTS ${formatNumber(o.okPerSec, 0)} req/s (p99 ${formatNumber(o.p99, 1)} ms, CPU ${formatNumber(o.serverCpuPercent, 0)} %${stopDatabaseCpu ? `, database CPU ${formatNumber(databaseCpu, 0)} %` : ''}, ${o.errors} errors), bare ${formatNumber(b.okPerSec, 0)} req/s; load ${loadAverage()}`,
      );
    }
  }
  return cells.map((c) => ({
    ...c,
    summary: {
      requestsPerSec: summarize(c.opencts.map((r) => r.okPerSec)),
      p50: summarize(c.opencts.map((r) => r.p50)),
      p99: summarize(c.opencts.map((r) => r.p99)),
      serverCpuPercent: summarize(c.opencts.map((r) => r.serverCpuPercent)),
      databaseCpuPercent: summarize(c.databaseCpuPercent),
      bareRequestsPerSec: summarize(c.bareFastify.map((r) => r.okPerSec)),
      vsBare: summarize(c.opencts.map((r, i) => r.okPerSec / c.bareFastify[i]!.okPerSec)),
    },
  }));
}

export function throughputErrors(cells: readonly ThroughputCell[]): number {
  return cells.reduce((n, c) => n + [...c.opencts, ...c.bareFastify].reduce((m, r) => m + r.errors, 0), 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------------------------

function fmt(s: Summary, decimals = 2): string {
  return formatSummary(s, decimals);
}

/** One row per cell: OpenCTS and raw p50/p99 (median (min–max) over the rounds), their ratios, the goal. */
export function latencyLines(cells: readonly LatencyCell[], rawName: string): string[] {
  const headers = [
    'query',
    'window',
    'cache',
    'rows',
    'OpenCTS p50 ms',
    'OpenCTS p99 ms',
    'raw p50 ms',
    'raw p99 ms',
    'OpenCTS ÷ raw (p50)',
    'OpenCTS ÷ raw (p99)',
    `goal p99 ≤ ${GOAL_P99_MS} ms`,
  ];
  const rows = cells.map((c) => {
    const p50 = summarize(c.opencts.map((r) => r.p50));
    const p99 = summarize(c.opencts.map((r) => r.p99));
    const rp50 = summarize(c.raw.map((r) => r.p50));
    const rp99 = summarize(c.raw.map((r) => r.p99));
    const ratio50 = summarize(c.opencts.map((r, i) => r.p50 / c.raw[i]!.p50));
    const ratio99 = summarize(c.opencts.map((r, i) => r.p99 / c.raw[i]!.p99));
    const capped = c.opencts.some((r) => r.capped) || c.raw.some((r) => r.capped);
    return [
      c.shape,
      c.window,
      `${c.cache}${capped ? ` (n=${c.opencts.map((r) => r.n).join('/')})` : ''}`,
      formatNumber(c.opencts[0]?.rows ?? NaN, 0),
      fmt(p50),
      fmt(p99),
      fmt(rp50),
      fmt(rp99),
      `${formatNumber(ratio50.median, 1)}×`,
      `${formatNumber(ratio99.median, 1)}×`,
      p99.median <= GOAL_P99_MS ? 'met' : 'MISSED',
    ];
  });
  const lines = [`Raw: ${rawName}.`, '', markdownTable(headers, rows)];
  const walks = cells.filter((c) => c.shape === 'page 10');
  if (walks.length > 0) {
    lines.push('');
    lines.push(
      `Walking pages 1–10 (p50 of the whole walk): ${walks
        .map(
          (c) =>
            `${c.window} ${c.cache}: OpenCTS ${fmt(summarize(c.opencts.map((r) => r.walkP50)))} ms, raw ${fmt(summarize(c.raw.map((r) => r.walkP50)))} ms`,
        )
        .join('; ')}`,
    );
  }
  return lines;
}

export function throughputLines(cells: readonly SummarizedThroughputCell[], options: ThroughputOptions): string[] {
  const lines = [
    `Throughput: autocannon, ${options.connections} connections, ${options.duration} s, ${options.repeat} repetition(s); signed GETs for the newest hour of the data:`,
  ];
  const database = cells.some((c) => c.databaseCpuPercent.length > 0);
  lines.push(
    markdownTable(
      [
        'limit',
        'OpenCTS req/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'OpenCTS CPU %',
        ...(database ? ['PostgreSQL CPU %'] : []),
        'bare Fastify req/s',
        'OpenCTS ÷ bare',
        `goal ≥ ${percent(GOAL_THROUGHPUT)} (limit 10)`,
      ],
      cells.map((c) => {
        const s = c.summary;
        const ratio = s['vsBare']!;
        return [
          c.limit === undefined ? '10 (default)' : String(c.limit),
          formatSummary(s['requestsPerSec']!, 0),
          fmt(s['p50']!, 1),
          fmt(s['p99']!, 1),
          String(c.opencts.reduce((n, r) => n + r.errors, 0)),
          formatSummary(s['serverCpuPercent']!, 0),
          ...(database ? [formatSummary(s['databaseCpuPercent']!, 0)] : []),
          formatSummary(s['bareRequestsPerSec']!, 0),
          ratio.n <= 1
            ? percent(ratio.median)
            : `${percent(ratio.median)} (${percent(ratio.min)}–${percent(ratio.max)})`,
          c.limit === undefined ? (ratio.median >= GOAL_THROUGHPUT ? 'met' : 'MISSED') : '',
        ];
      }),
    ),
  );
  return lines;
}

/** The `ERRORS (n):` lines of the throughput runs; none when nothing failed. */
export function throughputErrorLines(cells: readonly ThroughputCell[]): string[] {
  const failures = cells.flatMap((c) =>
    [...c.opencts, ...c.bareFastify].flatMap((r) => Object.entries(r.errorSamples)),
  );
  if (failures.length === 0) return [];
  return ['', `ERRORS (${throughputErrors(cells)}):`, ...failures.map(([k, n]) => `  ${n} × ${k}`)];
}
