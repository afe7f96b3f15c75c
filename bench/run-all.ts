/**
 * Runs every benchmark in bench/ (each top-level module other than this one; helpers live in
 * bench/support/) one after the other, each in its own process with its defaults. Extra
 * arguments are passed to every benchmark (e.g. `--json`). Exits non-zero if any benchmark failed.
 *
 * The defaults: ingest (traces/s through POST /v3/{project}/traces vs raw batch inserts),
 * list-traces (ListTraces latency and req/s at 1,000,000 traces; loading them takes minutes),
 * list-traces-pg (the same through `opencts serve --store` on a throwaway PostgreSQL database; needs
 * the server on 127.0.0.1:5432 or OPENCTS_TEST_PG_URL, as pg-store and scale-out do),
 * traced-writes (tracker updates committed with their trace vs raw single-row commits) and
 * tracker-writes (create/delete cycles vs raw commits and bare Fastify). Each takes a few minutes.
 * notification-latency: trace commit → webhook received, p50/p99, vs a raw local POST round trip.
 *
 * Usage: node dist/bench/run-all.js [args for every benchmark]   (or `npm run bench`)
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const self = path.basename(fileURLToPath(import.meta.url));

export function benchmarkFiles(dir: string = here): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js') && e.name !== self)
    .map((e) => path.join(dir, e.name))
    .sort();
}

function run(file: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: 'inherit' });
    child.once('error', () => resolve(1));
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const files = benchmarkFiles();
  const failed: string[] = [];
  for (const file of files) {
    const name = path.basename(file, '.js');
    process.stderr.write(`\n=== ${name} ===\n`);
    const started = Date.now();
    const code = await run(file, args);
    process.stderr.write(`=== ${name}: exit ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s ===\n`);
    if (code !== 0) failed.push(name);
  }
  if (failed.length > 0) {
    console.error(`benchmarks failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
