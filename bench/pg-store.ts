/**
 * The PostgreSQL store against raw `pg` on the same server, in the same run, on a throwaway
 * database:
 * - ingest: PostgresStore.changeTrackers with `--batch` traces per write (group commit, trace
 *   lock, partitions), 1 and `--writers` concurrent writers, vs raw multi-row INSERTs of the same
 *   rows (one `unnest` statement per batch, autocommit) into the store's own indexed, partitioned
 *   table, and into a table without indexes;
 * - ListTraces (limit 200, newest first) through PostgresStore.listTraces vs the same SQL sent raw.
 * The store is measured in-process, without HTTP (bench/ingest.ts measures the whole API path).
 *
 * Usage: node dist/bench/pg-store.js [--traces N] [--batch N] [--writers N] [--queries N]
 *          [--repeat N] [--url postgres://…/maintenance-db] [--json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { uuidv7 } from '../src/core/ids.js';
import type { Trace } from '../src/core/trace/trace.js';
import type { Tracker } from '../src/core/tracker/tracker.js';
import { openStore } from '../src/store/open-store.js';
import { quietPool } from '../src/store/postgres/postgres-store.js';
import type { Store, TraceQuery } from '../src/store/store.js';
import { TRACE_COLUMNS, traceRowValues } from '../src/store/trace-row.js';
import { createThrowawayDatabase } from './support/throwaway-database.js';
import { formatNumber, formatRatio, formatSummary, markdownTable, percentile, summarize } from './support/stats.js';

const { values: args } = parseArgs({
  options: {
    traces: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '100' },
    writers: { type: 'string', default: '16' },
    queries: { type: 'string', default: '300' },
    repeat: { type: 'string', default: '3' },
    url: {
      type: 'string',
      default: process.env['OPENCTS_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
    json: { type: 'boolean', default: false },
  },
});
const TRACES = Number(args.traces);
const BATCH = Number(args.batch);
const WRITERS = Number(args.writers);
const QUERIES = Number(args.queries);
const REPEAT = Number(args.repeat);
const PROJECT = '0123456789abcdef0123456789abcdef';
const DOMAIN = 'fedcba9876543210fedcba9876543210';
const BIGINT_COLUMNS = new Set(['time', 'record_time', 'content_length', 'total_time']);

let generated = 0;
function makeTraces(n: number): Trace[] {
  const now = Date.now();
  return Array.from({ length: n }, () => {
    const i = generated++;
    const time = now - 3_600_000 + (i % 3_000_000);
    return {
      trace_id: uuidv7(time),
      trace_name: ['createServer', 'deleteServer', 'updateVpc'][i % 3]!,
      trace_rating: 'normal',
      trace_type: 'ApiCall',
      event_type: 'system',
      tracker_name: 'system',
      project_id: PROJECT,
      domain_id: DOMAIN,
      service_type: ['ECS', 'VPC', 'EVS', 'OBS'][i % 4]!,
      resource_type: 'ecs',
      resource_id: `vm-${i % 1000}`,
      resource_name: `web-${i % 1000}`,
      time,
      record_time: now,
      source_ip: '10.0.0.1',
      code: '200',
      request: '{"server":{"name":"web","flavorRef":"s3.large.2"}}',
      user: { name: `user${i % 50}`, access_key_id: `AK${i % 50}`, domain: { id: DOMAIN, name: 'acme' } },
    };
  });
}

const INSERT_COLUMNS = TRACE_COLUMNS.join(', ');
const UNNEST = TRACE_COLUMNS.map((c, i) => `$${i + 1}::${BIGINT_COLUMNS.has(c) ? 'bigint' : 'text'}[]`).join(', ');

function columnsOf(traces: readonly Trace[]): unknown[][] {
  const columns: unknown[][] = TRACE_COLUMNS.map(() => []);
  for (const t of traces) traceRowValues(t).forEach((v, i) => columns[i]!.push(v));
  return columns;
}

/** Traces per second for `total` traces written by `concurrency` loops of `write(batch)`. */
async function rate(concurrency: number, write: (traces: Trace[]) => Promise<unknown>): Promise<number> {
  const batches = Array.from({ length: Math.ceil(TRACES / BATCH) }, () => makeTraces(BATCH));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let b = next++; b < batches.length; b = next++) await write(batches[b]!);
    }),
  );
  return (batches.length * BATCH) / ((performance.now() - started) / 1000);
}

async function latencies(run: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const started = performance.now();
    await run();
    ms.push(performance.now() - started);
  }
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

async function main(): Promise<void> {
  // Dropped at the end, and also when an error or a signal (a test's timeout) ends the run.
  const database = await createThrowawayDatabase(args.url, 'opencts_bench');
  const url = new URL(database.url);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'opencts-bench-pg-'));
  let store: Store | undefined;
  const pool = quietPool(new pg.Pool({ connectionString: url.toString(), max: WRITERS }));
  try {
    store = (await openStore({ dataDir, store: url.toString(), durability: 'normal', retentionDays: 7 })).store;
    await store.ensureProject({ project_id: PROJECT, domain_id: DOMAIN, name: 'bench', created_at: Date.now() });
    const system = { id: 'bench-system', project_id: PROJECT, tracker_name: 'system', tracker_type: 'system' };
    await store.changeTrackers(PROJECT, () => ({ upsert: [system as Tracker], result: undefined }));
    await pool.query(
      `CREATE TABLE raw_no_index (${TRACE_COLUMNS.map((c) => `${c} ${BIGINT_COLUMNS.has(c) ? 'bigint' : 'text'}`).join(', ')})`,
    );
    const raw = (table: string) => async (traces: Trace[]) =>
      pool.query(`INSERT INTO ${table} (${INSERT_COLUMNS}) SELECT * FROM unnest(${UNNEST})`, columnsOf(traces));
    const viaStore = (traces: Trace[]) => store!.changeTrackers(PROJECT, () => ({ traces, result: undefined }));

    const runs = { rawNoIndex: [] as number[], raw1: [] as number[], store1: [] as number[] };
    const runsN = { raw: [] as number[], store: [] as number[] };
    for (let r = 0; r < REPEAT; r++) {
      runs.rawNoIndex.push(await rate(1, raw('raw_no_index')));
      runs.raw1.push(await rate(1, raw('traces')));
      runs.store1.push(await rate(1, viaStore));
      runsN.raw.push(await rate(WRITERS, raw('traces')));
      runsN.store.push(await rate(WRITERS, viaStore));
    }
    await pool.query('ANALYZE traces');
    const rows = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM traces')).rows[0]!.n);
    const query: TraceQuery = {
      projectId: PROJECT,
      eventType: 'system',
      trackerName: 'system',
      from: 0,
      to: Date.now() + 1,
      limit: 200,
      filters: {},
    };
    const rawSql = `SELECT wire, time, trace_id FROM traces WHERE project_id = $1 AND event_type = $2
      AND tracker_name = $3 AND time > $4 AND time < $5 ORDER BY time DESC, trace_id DESC LIMIT 201`;
    const listStore = await latencies(() => store!.listTraces(query));
    const listRaw = await latencies(() => pool.query(rawSql, [PROJECT, 'system', 'system', query.from, query.to]));
    const filtered = { ...query, filters: { resource_id: 'vm-7', user: 'user7' } };
    const listFiltered = await latencies(() => store!.listTraces(filtered));

    const ratio = (a: number[], b: number[]) => summarize(a.map((v, i) => v / b[i]!));
    const report = {
      traces: TRACES,
      batch: BATCH,
      writers: WRITERS,
      rowsAtQueryTime: rows,
      ingest: {
        rawNoIndex: summarize(runs.rawNoIndex),
        raw1: summarize(runs.raw1),
        store1: summarize(runs.store1),
        rawN: summarize(runsN.raw),
        storeN: summarize(runsN.store),
      },
      list: { store: listStore, raw: listRaw, storeTwoFilters: listFiltered },
    };
    if (args.json) {
      console.log(JSON.stringify(report));
      return;
    }
    console.log(
      `PostgreSQL store vs raw pg, ${formatNumber(TRACES)} traces per run in batches of ${BATCH}, ${REPEAT} runs\n`,
    );
    console.log(
      markdownTable(
        ['ingest', 'store traces/s', 'raw rows/s (same schema)', 'ratio', 'raw rows/s (no index)'],
        [
          [
            '1 writer',
            formatSummary(report.ingest.store1),
            formatSummary(report.ingest.raw1),
            formatRatio(ratio(runs.store1, runs.raw1)),
            formatSummary(report.ingest.rawNoIndex),
          ],
          [
            `${WRITERS} writers`,
            formatSummary(report.ingest.storeN),
            formatSummary(report.ingest.rawN),
            formatRatio(ratio(runsN.store, runsN.raw)),
            '',
          ],
        ],
      ),
    );
    console.log(`\nListTraces, limit 200, ${formatNumber(rows)} traces, ${QUERIES} queries each\n`);
    console.log(
      markdownTable(
        ['query', 'p50 ms', 'p99 ms'],
        [
          ['store, no filter', formatNumber(listStore.p50, 2), formatNumber(listStore.p99, 2)],
          ['raw, same SQL', formatNumber(listRaw.p50, 2), formatNumber(listRaw.p99, 2)],
          ['store, resource_id + user', formatNumber(listFiltered.p50, 2), formatNumber(listFiltered.p99, 2)],
        ],
      ),
    );
  } finally {
    await store?.close();
    await pool.end();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
