/**
 * The benchmarks must keep running: each is run once at a tiny size, as `npm run bench` would run
 * it (a separate process on the compiled code), and must exit 0 and print a table with real
 * figures and no errors. Most run concurrently, the last two one after the other, so the whole file
 * stays around a minute on an idle machine.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { parseMarkdownTable } from '../../bench/support/stats.js';
import { TEST_PG_URL } from '../support/postgres.js';

const execFileAsync = promisify(execFile);
const TRACKER_WRITES = fileURLToPath(new URL('../../bench/tracker-writes.js', import.meta.url));
const TRACED_WRITES = fileURLToPath(new URL('../../bench/traced-writes.js', import.meta.url));
const INGEST = fileURLToPath(new URL('../../bench/ingest.js', import.meta.url));
const LIST_TRACES = fileURLToPath(new URL('../../bench/list-traces.js', import.meta.url));
const LIST_TRACES_PG = fileURLToPath(new URL('../../bench/list-traces-pg.js', import.meta.url));
const DELIVERY_LATENCY = fileURLToPath(new URL('../../bench/delivery-latency.js', import.meta.url));
const DELIVERY_THROUGHPUT = fileURLToPath(new URL('../../bench/delivery-throughput.js', import.meta.url));
const VERIFY_SPEED = fileURLToPath(new URL('../../bench/verify-speed.js', import.meta.url));
const SIGNATURE_VERIFY = fileURLToPath(new URL('../../bench/signature-verify.js', import.meta.url));
const NOTIFICATION_LATENCY = fileURLToPath(new URL('../../bench/notification-latency.js', import.meta.url));
const SCALE_OUT = fileURLToPath(new URL('../../bench/scale-out.js', import.meta.url));

async function runBenchmark(
  file: string,
  args: readonly string[],
  timeoutMs = 55_000,
): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, [file, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }).catch(
    (err: { code?: number; stdout?: string; stderr?: string }) =>
      assert.fail(`benchmark exited ${err.code}:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`),
  );
}

/** The rows of the first table whose header starts with `first` and has `column`, as header → cell maps. */
function tableRows(stdout: string, first: string, column: string): Array<Record<string, string>> {
  const rows = parseMarkdownTable(stdout);
  const start = rows.findIndex((r) => r[0] === first && r.includes(column));
  assert.ok(start >= 0, `no table with ${first} and ${column} in:\n${stdout}`);
  const header = rows[start]!;
  const out: Array<Record<string, string>> = [];
  for (const row of rows.slice(start + 1)) {
    if (row.length !== header.length || row[0] === header[0]) break;
    out.push(Object.fromEntries(header.map((h, i) => [h, row[i] ?? ''])));
  }
  assert.ok(out.length > 0, `table ${first} has no rows`);
  return out;
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

function figure(cell: string | undefined): number {
  // `1,234 (1,100–1,300)` or `1,234` → 1234
  return Number((cell ?? '').split(' ')[0]!.replaceAll(',', '').replace(/×$/, ''));
}

describe('benchmarks run', { concurrency: true }, () => {
  test(
    'tracker-writes at a tiny size exits 0 and prints non-zero cycles/s with 0 errors',
    { timeout: 60_000 },
    async () => {
      const { stdout, stderr } = await execFileAsync(
        process.execPath,
        [TRACKER_WRITES, '--duration', '1', '--repeat', '1', '--connections', '2', '--warmup', '0'],
        { timeout: 55_000, maxBuffer: 16 * 1024 * 1024 },
      ).catch((err: { code?: number; stdout?: string; stderr?: string }) => {
        assert.fail(`benchmark exited ${err.code}:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
      });

      const rows = parseMarkdownTable(stdout);
      const header = rows.find((r) => r[0] === 'conns' && r.includes('cycles/s'));
      assert.ok(header, `no results table in:\n${stdout}\n${stderr}`);
      const row = rows[rows.indexOf(header) + 1];
      assert.ok(row, 'results table has no row');
      const cell = (name: string) => row[header.indexOf(name)];

      assert.equal(cell('conns'), '2');
      assert.ok(figure(cell('cycles/s')) > 0, `cycles/s is ${cell('cycles/s')}`);
      assert.ok(figure(cell('req/s')) > 0, `req/s is ${cell('req/s')}`);
      assert.equal(cell('errors'), '0');
      assert.ok(figure(cell('bare Fastify req/s')) > 0, `bare Fastify req/s is ${cell('bare Fastify req/s')}`);
      // The ratio is printed (cycles/s > 0 is checked above); on a loaded machine a 1 s run may round to 0.00×.
      assert.match(cell('writes/s ÷ raw SQLite') ?? '', /^\d+\.\d\d×/);
      assert.match(stdout, /Raw SQLite single-row commits .*: [\d,]+ commits\/s/);
      assert.doesNotMatch(stdout, /ERRORS/);
    },
  );
  test(
    'traced-writes at a tiny size: non-zero writes/s and raw ratio, 0 errors, traces equal to 2xx answers',
    { timeout: 60_000 },
    async () => {
      const { stdout } = await runBenchmark(TRACED_WRITES, [
        '--duration',
        '0.5',
        '--repeat',
        '1',
        '--connections',
        '2',
        '--warmup',
        '0',
      ]);
      const [row] = tableRows(stdout, 'conns', 'writes/s');
      assert.equal(row!['conns'], '2');
      assert.ok(figure(row!['writes/s']) > 0, `writes/s is ${row!['writes/s']}`);
      assert.equal(row!['errors'], '0');
      assert.ok(figure(row!['bare Fastify req/s']) > 0);
      assert.match(row!['writes/s ÷ raw writes/s (1 commit per row)'] ?? '', /^\d+ %/);
      assert.match(stdout, /Raw SQLite single-row commits .*: [\d,]+ commits\/s/);
      assert.match(stdout, /PUTs answered 2xx, \d+ updateTracker traces rated normal → EQUAL/);
      assert.doesNotMatch(stdout, /ERRORS/);
    },
  );

  test('ingest at a tiny size: non-zero traces/s and raw ratio, 0 errors', { timeout: 60_000 }, async () => {
    const { stdout } = await runBenchmark(INGEST, [
      '--duration',
      '0.5',
      '--repeat',
      '1',
      '--connections',
      '2',
      '--warmup',
      '0',
    ]);
    const [row] = tableRows(stdout, 'conns', 'traces/s');
    assert.equal(row!['conns'], '2');
    assert.ok(figure(row!['traces/s']) > 0, `traces/s is ${row!['traces/s']}`);
    assert.equal(row!['errors'], '0');
    assert.ok(figure(row!['bare Fastify traces/s']) > 0);
    assert.match(row!['traces/s ÷ raw no-index'] ?? '', /^\d+ %/);
    assert.match(stdout, /NO index .*: [\d,]+ rows\/s/);
    assert.doesNotMatch(stdout, /ERRORS/);
  });

  test(
    'scale-out at a tiny size: 1 and 2 instances on one PostgreSQL database, non-zero traces/s, 0 errors, every acknowledged trace stored once',
    // Three servers, a migration and CLI key creation: ~15 s alone, up to a minute beside the other runs.
    { timeout: 125_000 },
    async () => {
      const { stdout } = await runBenchmark(
        SCALE_OUT,
        [
          '--duration',
          '1',
          '--repeat',
          '1',
          '--instances',
          '1,2',
          '--connections',
          '4',
          '--warmup',
          '0',
          '--url',
          TEST_PG_URL,
        ],
        120_000,
      );
      const rows = tableRows(stdout, 'instances', 'traces/s');
      assert.deepEqual(
        rows.map((r) => [r['instances'], r['conns each']]),
        [
          ['1', '4'],
          ['2', '2/2'],
        ],
      );
      for (const row of rows) {
        assert.ok(figure(row['traces/s']) > 0, `traces/s is ${row['traces/s']}`);
        assert.equal(row['errors'], '0');
        assert.match(row['traces/s ÷ raw pg (same schema)'] ?? '', /^\d+ %/);
        assert.match(row['scaling vs 1 instance'] ?? '', /^\d+\.\d\d×/);
      }
      assert.equal(rows[0]!['scaling vs 1 instance'], '1.00×');
      assert.match(stdout, /Raw pg, same rows, .*: [\d,]+ rows\/s/);
      const stored =
        /Traces in the database: ([\d,]+); acknowledged: ([\d,]+) \(equal: no trace lost or doubled\)/.exec(stdout);
      assert.ok(stored, `no equality line in:\n${stdout}`);
      assert.equal(stored[1], stored[2]);
      assert.ok(figure(stored[1]) > 0);
      assert.doesNotMatch(stdout, /ERRORS|MISMATCH/);
    },
  );

  test(
    'list-traces at a tiny size: every latency cell measured, raw figures, throughput without errors',
    { timeout: 60_000 },
    async () => {
      const { stdout } = await runBenchmark(LIST_TRACES, [
        '--traces',
        '2000',
        '--queries',
        '3',
        '--warmup-queries',
        '1',
        '--cold-queries',
        '1',
        '--duration',
        '0.5',
        '--repeat',
        '1',
        '--connections',
        '2',
      ]);
      assert.match(stdout, /Load through SqliteStore.changeTrackers.*[\d,]+ rows\/s/);
      const cells = tableRows(stdout, 'query', 'OpenCTS p99 ms');
      assert.equal(cells.length, 28, '7 shapes × 2 windows × warm and cold');
      for (const c of cells) {
        assert.ok(figure(c['OpenCTS p50 ms']) > 0, `${c['query']} ${c['window']} ${c['cache']}: OpenCTS p50`);
        assert.ok(figure(c['raw p50 ms']) > 0, `${c['query']} ${c['window']} ${c['cache']}: raw p50`);
      }
      const throughput = tableRows(stdout, 'limit', 'OpenCTS req/s');
      assert.equal(throughput.length, 2);
      for (const t of throughput) {
        assert.ok(figure(t['OpenCTS req/s']) > 0, `limit ${t['limit']}: OpenCTS req/s`);
        assert.ok(figure(t['bare Fastify req/s']) > 0, `limit ${t['limit']}: bare req/s`);
        assert.equal(t['errors'], '0');
      }
      assert.doesNotMatch(stdout, /ERRORS/);
    },
  );

  test(
    'delivery-latency at a tiny size: every acknowledged trace reaches the bucket',
    { timeout: 90_000 },
    async () => {
      const { stdout } = await runBenchmark(DELIVERY_LATENCY, [
        '--duration',
        '2',
        '--repeat',
        '1',
        '--warmup',
        '0',
        '--rate',
        '100',
        '--drain',
        '15',
      ]);
      const [row] = tableRows(stdout, 'store', 'p99 ms');
      assert.equal(row!['store'], 'fs');
      assert.ok(figure(row!['p50 ms']) > 0 && figure(row!['p99 ms']) >= figure(row!['p50 ms']));
      assert.match(row!['p99 ÷ floor p99'] ?? '', /^\d+\.\d\d×/);
      const [w] = tableRows(stdout, 'window', 'missing');
      assert.ok(figure(w!['traces']) > 0);
      assert.equal(w!['missing'], '0');
      assert.doesNotMatch(stdout, /ERRORS/);
    },
  );

  test('delivery-throughput at a tiny size: delivered and raw traces/s, ratio', { timeout: 90_000 }, async () => {
    const { stdout } = await runBenchmark(DELIVERY_THROUGHPUT, ['--traces', '2000', '--repeat', '1']);
    const [real, raw] = tableRows(stdout, 'path', 'traces/s');
    assert.ok(figure(real!['traces/s']) > 0);
    assert.ok(figure(raw!['traces/s']) > 0);
    assert.match(real!['real ÷ raw'] ?? '', /^\d+\.\d\d×/);
    assert.match(stdout, /OpenCTS delivery throughput: 2,000 traces/);
    assert.doesNotMatch(stdout, /ERRORS/);
  });

  test('verify-speed at a tiny size: clean chain, MB/s printed, CLI exits 0', { timeout: 90_000 }, async () => {
    const { stdout } = await runBenchmark(VERIFY_SPEED, [
      '--periods',
      '5',
      '--files-per-period',
      '2',
      '--traces-per-file',
      '20',
      '--repeat',
      '1',
    ]);
    const rows = tableRows(stdout, 'path', 'MB/s').slice(0, 3);
    for (const r of rows) assert.ok(figure(r['MB/s']) > 0, `${r['path']}: ${r['MB/s']}`);
    assert.match(rows[1]!['verify ÷ raw'] ?? '', /^\d+ %/);
    assert.match(stdout, /verifyTrail found 0 problems; 5\/5 digests and 10\/10 files valid/);
    assert.match(stdout, /opencts verify \(child process, once\): .* exit 0/);
  });

  test('signature-verify at a tiny size: verifications/s beside raw HMAC', { timeout: 30_000 }, async () => {
    const { stdout } = await runBenchmark(SIGNATURE_VERIFY, ['--duration', '0.2', '--repeat', '1']);
    assert.match(stdout, /verifySignature, incl\. parsing Authorization \(the server path\) \| [\d,]+/);
    assert.match(stdout, /ratio: verification ÷ raw HMAC\s+\| \d+\.\d\d×/);
  });
});

// After the concurrent runs above, one at a time, so that they do not add to their load (their ratios are
// small; list-traces-pg adds a PostgreSQL server's work to its own).
describe('notification and PostgreSQL ListTraces benchmark runs', () => {
  test(
    'notification-latency at a tiny size: every acknowledged trace reaches the webhook, with its ratio to a raw POST',
    { timeout: 60_000 },
    async () => {
      const { stdout } = await runBenchmark(NOTIFICATION_LATENCY, [
        '--duration',
        '1',
        '--warmup',
        '0',
        '--rate',
        '50',
        '--raw-posts',
        '50',
      ]);
      const [row] = tableRows(stdout, 'path', 'p99 ms');
      assert.equal(row!['path'], 'trace → webhook');
      assert.ok(figure(row!['n']) > 0);
      assert.ok(figure(row!['p50 ms']) > 0 && figure(row!['p99 ms']) >= figure(row!['p50 ms']));
      assert.match(row!['p99 ÷ raw p99'] ?? '', /^\d+\.\d\d×$/);
      const [counts] = tableRows(stdout, 'sent', 'missing');
      assert.equal(counts!['missing'], '0');
      assert.equal(counts!['acknowledged'], counts!['sent']);
      assert.doesNotMatch(stdout, /ERRORS/);
    },
  );

  test(
    'list-traces-pg at a tiny size: a throwaway PostgreSQL database, every warm cell measured against the raw query, throughput without errors',
    { timeout: 60_000 },
    async () => {
      const { stdout, stderr } = await runBenchmark(LIST_TRACES_PG, [
        '--traces',
        '3000',
        '--queries',
        '3',
        '--warmup-queries',
        '1',
        '--duration',
        '1',
        '--repeat',
        '1',
        '--connections',
        '2',
        '--pg-url',
        TEST_PG_URL,
      ]);
      assert.match(stdout, /Load through PostgresStore.changeTrackers.*[\d,]+ rows\/s.*VACUUM \(ANALYZE\)/);
      assert.match(stdout, /catalogue [\d,]+ operations, 50 users/);
      assert.match(stdout, /Cold cells: NOT measured/);
      const cells = tableRows(stdout, 'query', 'OpenCTS p99 ms');
      assert.equal(cells.length, 14, '7 shapes × 2 windows, warm');
      for (const c of cells) {
        assert.equal(c['cache'], 'warm');
        assert.ok(figure(c['OpenCTS p50 ms']) > 0, `${c['query']} ${c['window']}: OpenCTS p50`);
        assert.ok(figure(c['raw p50 ms']) > 0, `${c['query']} ${c['window']}: raw p50`);
        assert.match(c['OpenCTS ÷ raw (p99)'] ?? '', /^\d+\.\d×$/);
      }
      assert.equal(figure(cells.find((c) => c['query'] === '0 filters' && c['window'] === '7 d')!['rows']), 200);
      const throughput = tableRows(stdout, 'limit', 'OpenCTS req/s');
      assert.equal(throughput.length, 2);
      for (const t of throughput) {
        assert.ok(figure(t['OpenCTS req/s']) > 0, `limit ${t['limit']}: OpenCTS req/s`);
        assert.ok(figure(t['bare Fastify req/s']) > 0, `limit ${t['limit']}: bare req/s`);
        assert.equal(t['errors'], '0');
        assert.ok(figure(t['PostgreSQL CPU %']) > 0, `limit ${t['limit']}: PostgreSQL CPU %`);
      }
      assert.match(stdout, /0 filters, 7 d: Limit → .*execution [\d.]+ ms/);
      assert.doesNotMatch(stdout, /ERRORS/);
      const database = /database (opencts_bench_[0-9a-f]+)/.exec(stderr)?.[1];
      assert.ok(database, `no database name in:\n${stderr}`);
      assert.equal(await databaseExists(database), false, `${database} was not dropped`);
    },
  );
});
