/**
 * The benchmarks must keep running: each is run once at a tiny size, as `npm run bench` would run
 * it (a separate process on the compiled code), and must exit 0 and print a table with real
 * figures and no errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseMarkdownTable } from '../../bench/support/stats.js';

const execFileAsync = promisify(execFile);
const TRACKER_WRITES = fileURLToPath(new URL('../../bench/tracker-writes.js', import.meta.url));

function figure(cell: string | undefined): number {
  // `1,234 (1,100–1,300)` or `1,234` → 1234
  return Number((cell ?? '').split(' ')[0]!.replaceAll(',', '').replace(/×$/, ''));
}

describe('benchmarks run', () => {
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
      assert.ok(figure(cell('writes/s ÷ raw SQLite')) > 0, `writes ratio is ${cell('writes/s ÷ raw SQLite')}`);
      assert.match(stdout, /Raw SQLite single-row commits .*: [\d,]+ commits\/s/);
      assert.doesNotMatch(stdout, /ERRORS/);
    },
  );
});
