/**
 * The ListTraces indexes of the SQLite store, kept out of the `traces` table so that recording a
 * trace costs about what inserting its row costs.
 *
 * Why: an index entry added to a b-tree one at a time costs ~40 µs of CPU for these multi-column
 * keys, and a key out of insertion order (a resource id, a service, an event time that arrives
 * late) also makes each commit rewrite one page per entry: the five indexes ListTraces needs made
 * trace inserts 8-12x slower than into the bare table (README, "Benchmarks").
 *
 * How (a small log-structured index):
 *  - the newest traces are indexed in memory (recent-traces.ts) once their write commits; after a
 *    restart or a crash they are read back from `traces`;
 *  - when RUN_TRACES of them have gathered, one write copies their query columns into a new
 *    table of its own, a *run*, and only then creates the run's indexes: CREATE INDEX sorts
 *    the keys and writes each index page once, instead of inserting entries one by one;
 *  - a query asks the recent traces and every run whose time span meets the window, each for its
 *    newest `limit + 1` matches, and merges them; runs are few (one per RUN_TRACES traces);
 *  - the retention purge deletes traces oldest first: a run whose traces are all gone is dropped
 *    as a whole, and queries skip entries below the oldest trace still stored.
 */
import type Database from 'better-sqlite3';
import { TRACE_COLUMNS, type TraceRowValues } from '../trace-row.js';
import { RecentTraces, TRACE_KEY_COLUMNS, type TraceKey } from './recent-traces.js';

/** Traces per run: bounds the memory of the recent index (~300 B a trace) and the runs a query asks. */
export const RUN_TRACES = 32_768;

/**
 * The indexes of a run, each led by the query scope and ending in the page order: the scope, user,
 * service and user + service indexes also carry the low-cardinality filter columns, so combined
 * filters are checked on index entries; a resource id or name picks so few traces that its rows
 * are read. Built by sorting once per run, an index costs ingest little.
 */
export const RUN_INDEXES = {
  scope:
    'project_id, tracker_name, time, trace_id, event_type, service_type, user_name, resource_type, trace_name, trace_rating, access_key_id',
  service:
    'project_id, tracker_name, service_type, time, trace_id, event_type, user_name, resource_type, trace_name, trace_rating',
  user: 'project_id, tracker_name, user_name, time, trace_id, event_type, service_type, resource_type, trace_name, trace_rating',
  // A user's traces of one service: the 3- and 5-filter queries scan 1/1,500 of a window, not 1/50.
  user_service:
    'project_id, tracker_name, user_name, service_type, time, trace_id, event_type, resource_type, trace_name, trace_rating',
  resource_id: 'project_id, tracker_name, resource_id, time',
  resource_name: 'project_id, tracker_name, resource_name, time',
} as const;

export type RunIndex = keyof typeof RUN_INDEXES;

/** Migration 9: the runs replace the five ListTraces indexes of `traces`. */
export const RUNS_SCHEMA_SQL = `
  DROP INDEX traces_scope;
  DROP INDEX traces_service;
  DROP INDEX traces_user;
  DROP INDEX traces_resource_id;
  DROP INDEX traces_resource_name;
  CREATE TABLE trace_runs (
    run       INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    min_time  INTEGER NOT NULL,
    max_time  INTEGER NOT NULL,
    traces    INTEGER NOT NULL
  ) STRICT;
`;

export function runTable(run: number): string {
  return `trace_run_${run}`;
}

const KEY_LIST = TRACE_KEY_COLUMNS.join(', ');

/** Where each key column sits in a row of TRACE_COLUMNS. */
const KEY_POSITIONS = TRACE_KEY_COLUMNS.filter((c) => c !== 'seq').map(
  (column) => [column, (TRACE_COLUMNS as readonly string[]).indexOf(column)] as const,
);

function runTableSql(run: number): string {
  return `CREATE TABLE ${runTable(run)} (seq INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, project_id TEXT NOT NULL,
    tracker_name TEXT NOT NULL, event_type TEXT NOT NULL, time INTEGER NOT NULL, service_type TEXT NOT NULL,
    resource_type TEXT NOT NULL, resource_id TEXT, resource_name TEXT, trace_name TEXT NOT NULL,
    trace_rating TEXT NOT NULL, user_name TEXT, access_key_id TEXT, enterprise_project_id TEXT) STRICT`;
}

function runIndexesSql(run: number): string {
  const table = runTable(run);
  return Object.entries(RUN_INDEXES)
    .map(([name, columns]) => `CREATE INDEX IF NOT EXISTS ${table}_${name} ON ${table} (${columns})`)
    .join(';');
}

interface RunRow {
  readonly run: number;
  readonly first_seq: number;
  readonly last_seq: number;
}

/** Maintains the recent index and the runs of one connection; the store drives it. */
export class TraceIndex {
  readonly recent = new RecentTraces();
  private readonly stmt;
  /**
   * What the batch in progress changed, applied to the recent index only when it commits: the keys
   * of the traces its writes inserted, the last seq a run it made took, the purge's new floor.
   */
  private pendingKeys: TraceKey[] = [];
  private pendingRunLastSeq: number | undefined;
  private pendingFloor: number | undefined;
  /** Bumped when runs are dropped, so that query caches can forget their statements. */
  dropGeneration = 0;

  private constructor(
    private readonly db: Database.Database,
    readonly runTraces: number,
  ) {
    this.stmt = {
      keysAfter: db.prepare(`SELECT ${KEY_LIST} FROM traces WHERE seq > ? ORDER BY seq`),
      lastRunSeq: db.prepare('SELECT coalesce(max(last_seq), 0) AS seq FROM trace_runs'),
      nextRun: db.prepare('SELECT coalesce(max(run), 0) + 1 AS run FROM trace_runs'),
      nthTraceAfter: db.prepare('SELECT seq FROM traces WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?'),
      addRun: db.prepare(
        `INSERT INTO trace_runs (run, first_seq, last_seq, min_time, max_time, traces)
         VALUES (@run, @first_seq, @last_seq, @min_time, @max_time, @traces)`,
      ),
      oldestTrace: db.prepare('SELECT min(seq) AS seq FROM traces'),
      purgedRuns: db.prepare('SELECT run, first_seq, last_seq FROM trace_runs WHERE last_seq < ?'),
      dropRun: db.prepare('DELETE FROM trace_runs WHERE run = ?'),
      runsInWindow: db.prepare(
        `SELECT run, max_time FROM trace_runs WHERE max_time > @from AND min_time < @to AND last_seq >= @floor
         ORDER BY max_time DESC`,
      ),
    };
  }

  /**
   * Reads the index state of `db`: builds the runs missing for the traces after the last run (the
   * first open after migration 9 builds them all), and indexes the rest in memory.
   */
  static open(db: Database.Database, runTraces = RUN_TRACES): TraceIndex {
    const index = new TraceIndex(db, runTraces);
    // One transaction per run: a large database's first open after migration 9 builds many.
    const buildOne = db.transaction((): boolean => {
      const after = index.lastRunSeq();
      const last = index.stmt.nthTraceAfter.get(after, runTraces - 1) as { seq: number } | undefined;
      if (last) index.writeRun(after, last.seq);
      return last !== undefined;
    });
    while (buildOne());
    // Runs made before an index was added to RUN_INDEXES get it now.
    db.transaction(() => {
      for (const run of index.allRuns()) db.exec(runIndexesSql(run));
    })();
    for (const key of index.stmt.keysAfter.iterate(index.lastRunSeq()) as Iterable<TraceKey>) index.recent.add(key);
    return index;
  }

  private lastRunSeq(): number {
    return (this.stmt.lastRunSeq.get() as { seq: number }).seq;
  }

  /** Copies the query columns of traces (after, last] into a new run and indexes it. */
  private writeRun(after: number, last: number): void {
    const run = (this.stmt.nextRun.get() as { run: number }).run;
    const table = runTable(run);
    this.db.exec(runTableSql(run));
    this.db
      .prepare(
        `INSERT INTO ${table} (${KEY_LIST}) SELECT ${KEY_LIST} FROM traces WHERE seq > ? AND seq <= ? ORDER BY seq`,
      )
      .run(after, last);
    const span = this.db
      .prepare(
        `SELECT min(seq) AS first_seq, max(seq) AS last_seq, min(time) AS min_time, max(time) AS max_time,
           count(*) AS traces FROM ${table}`,
      )
      .get() as Record<string, number>;
    this.db.exec(runIndexesSql(run));
    // An empty span still records the run: the next one starts after it.
    this.stmt.addRun.run({
      run,
      first_seq: span['first_seq'] ?? after + 1,
      last_seq: last,
      min_time: span['min_time'] ?? 0,
      max_time: span['max_time'] ?? 0,
      traces: span['traces'] ?? 0,
    });
  }

  /** The query columns of a trace just inserted into `traces` with these row values. */
  keyOf(seq: number | bigint, row: TraceRowValues): TraceKey {
    const key: Record<string, string | number | null> = { seq: Number(seq) };
    for (const [column, at] of KEY_POSITIONS) key[column] = row[at] ?? null;
    return key as unknown as TraceKey;
  }

  /** Takes the keys of a write that succeeded; they are indexed when its batch commits. */
  accept(keys: readonly TraceKey[]): void {
    for (const key of keys) this.pendingKeys.push(key);
  }

  committed(): void {
    for (const key of this.pendingKeys) this.recent.add(key);
    this.pendingKeys = [];
    const last = this.pendingRunLastSeq;
    const floor = this.pendingFloor;
    this.pendingRunLastSeq = undefined;
    this.pendingFloor = undefined;
    if (last !== undefined || floor !== undefined) {
      this.recent.retain((seq) => seq > (last ?? 0) && seq >= (floor ?? 0));
    }
  }

  aborted(): void {
    this.pendingKeys = [];
    this.pendingRunLastSeq = undefined;
    this.pendingFloor = undefined;
  }

  /** Whether the recent index holds a run's worth of traces. */
  full(): boolean {
    return this.recent.size >= this.runTraces;
  }

  /** Moves the committed recent traces into a new run; call inside a write transaction. */
  flush(): void {
    const last = this.recent.lastSeq;
    const after = this.lastRunSeq();
    if (last <= after) return;
    this.writeRun(after, last);
    this.pendingRunLastSeq = last;
  }

  /** After the purge removed traces: drops the runs and recent keys of removed traces only. */
  purged(): void {
    const oldest = (this.stmt.oldestTrace.get() as { seq: number | null }).seq;
    if (oldest === null) return;
    for (const run of this.stmt.purgedRuns.all(oldest) as RunRow[]) {
      this.db.exec(`DROP TABLE ${runTable(run.run)}`);
      this.stmt.dropRun.run(run.run);
      this.dropGeneration++;
    }
    this.pendingFloor = oldest;
  }

  /** Every run there is. */
  allRuns(): Set<number> {
    return new Set(this.db.prepare('SELECT run FROM trace_runs').pluck().all() as number[]);
  }

  /**
   * The runs that may hold traces of the window, those with the newest traces first, and the
   * oldest seq still stored.
   */
  runsFor(from: number, to: number): { runs: Array<{ run: number; max_time: number }>; floor: number } {
    const floor = (this.stmt.oldestTrace.get() as { seq: number | null }).seq ?? 0;
    return { runs: this.stmt.runsInWindow.all({ from, to, floor }) as Array<{ run: number; max_time: number }>, floor };
  }
}
