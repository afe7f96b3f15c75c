/**
 * bench/pg-store.ts keeps running: once at a tiny size on the machine's PostgreSQL, as `npm run
 * bench` runs it, it exits 0 and reports non-zero rates and latencies for every row.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TEST_PG_URL } from '../support/postgres.js';

const BENCH = fileURLToPath(new URL('../../bench/pg-store.js', import.meta.url));

test('pg-store at a tiny size: store and raw ingest rates, ListTraces latencies', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [BENCH, '--traces', '1000', '--repeat', '1', '--queries', '10', '--writers', '2', '--url', TEST_PG_URL, '--json'],
    { timeout: 55_000 },
  );
  const report = JSON.parse(stdout) as {
    rowsAtQueryTime: number;
    ingest: Record<string, { median: number }>;
    list: Record<string, { p50: number; p99: number }>;
  };
  for (const [name, s] of Object.entries(report.ingest)) assert.ok(s.median > 0, `${name}: ${s.median}`);
  assert.equal(report.rowsAtQueryTime, 4 * 1000, 'raw and store rows, with 1 and 2 writers');
  for (const [name, l] of Object.entries(report.list)) assert.ok(l.p50 > 0 && l.p99 >= l.p50, name);
});
