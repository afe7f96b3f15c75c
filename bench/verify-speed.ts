/**
 * Verify speed: MB/s of trace files `verifyTrail` (the code behind `opencts verify`) checks, against
 * the raw limit of the same files measured in the same run (DESIGN.md, "Performance method").
 *
 * The bucket: a data dir opened in-process (openRuntime), a system tracker with a bucket, digests
 * on (is_support_validate) and, by default, one file per delivery (is_sort_by_service off), then
 * `--periods` digest periods of 60 s driven by a fake clock (DeliveryWorker's `now`, as in
 * test/delivery/long-chain.test.ts): in each period `--files-per-period` deliveries of
 * `--traces-per-file` synthetic traces (written through the store) each, so the bucket holds
 * periods × files trace files and periods digests, all signed with the service's RSA key.
 *
 * Real path: `verifyTrail` in-process on the fs object store, over the whole chain (it lists the
 * bucket, walks the digests back from the newest checking signature and links, reads every listed
 * file and compares its SHA-256), repeated; and `opencts verify` once as a child process (wall time,
 * Node start-up included; `opencts --version` is timed too, for the start-up alone).
 *
 * Raw limit, in the same run and interleaved with it: read (readFileSync) + gunzip + SHA-256 of the
 * same trace files. verifyTrail does not gunzip trace files (it hashes the stored bytes), so
 * read + SHA-256 alone is timed too and printed as the tighter bound.
 *
 * Usage: node dist/bench/verify-speed.js [--periods 200] [--files-per-period 3] [--traces-per-file 200]
 *        [--repeat 3] [--sort-by-service] [--no-cli] [--json]
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { ObjectStore } from '../src/delivery/object-store.js';
import { verifyTrail, type VerifyReport } from '../src/delivery/verify.js';
import { cpuMs, filesUnder, openDeliveryFixture, PhaseTimer, type Phase } from './support/delivery-fixture.js';
import {
  describeEnvironment,
  environment,
  isEntryPoint,
  loadAverage,
  OPENCTS_BIN,
  percent,
  positiveInteger,
  progress,
} from './support/opencts.js';
import { formatNumber, formatSummary, markdownTable, summarize, type Summary } from './support/stats.js';

const execFileAsync = promisify(execFile);
const BUCKET = 'bench-verify-speed';
const PERIOD_MS = 60_000;
/** A whole minute in the past, so the chain ends before the real now. */
const START_MS = Date.parse('2026-11-01T00:00:00Z');
const GOAL = 0.5;

export interface Options {
  readonly periods: number;
  readonly filesPerPeriod: number;
  readonly tracesPerFile: number;
  readonly repeat: number;
  readonly sortByService: boolean;
  readonly cli: boolean;
  readonly json: boolean;
}

const USAGE = `usage: node dist/bench/verify-speed.js [options]
  --periods <n>           digest periods of 60 s (default 200)
  --files-per-period <n>  deliveries per period (default 3)
  --traces-per-file <n>   traces per delivery (default 200)
  --repeat <n>            rounds of verifyTrail and the raw limit (default 3)
  --sort-by-service       the tracker sorts files by service (CTS's default; many small files)
  --no-cli                skip the one \`opencts verify\` run
  --json                  print the results as JSON instead of tables`;

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      periods: { type: 'string', default: '200' },
      'files-per-period': { type: 'string', default: '3' },
      'traces-per-file': { type: 'string', default: '200' },
      repeat: { type: 'string', default: '3' },
      'sort-by-service': { type: 'boolean', default: false },
      'no-cli': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    periods: positiveInteger('periods', values.periods),
    filesPerPeriod: positiveInteger('files-per-period', values['files-per-period']),
    tracesPerFile: positiveInteger('traces-per-file', values['traces-per-file']),
    repeat: positiveInteger('repeat', values.repeat),
    sortByService: values['sort-by-service'],
    cli: !values['no-cli'],
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------------------------

export interface Run {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

export interface VerifyRun extends Run {
  readonly problems: number;
  readonly digestsValid: string;
  readonly filesValid: string;
  /** Wall and CPU ms in the object store calls, and the rest (hashing, RSA, parsing, logic). */
  readonly phases: Record<string, Phase>;
}

/** The object store verifyTrail sees: its reads timed, digests and trace files apart. */
function timedObjects(objects: ObjectStore, timer: PhaseTimer): ObjectStore {
  return new Proxy(objects, {
    get: (t, p) => {
      const value: unknown = Reflect.get(t, p, t);
      if (typeof value !== 'function') return value;
      const fn = (value as (...args: unknown[]) => Promise<unknown>).bind(t);
      if (p !== 'getObject' && p !== 'listObjects') return fn;
      return async (...args: unknown[]) => {
        const name =
          p === 'listObjects'
            ? 'objects.listObjects'
            : String(args[1]).includes('/Digest/')
              ? 'objects.getObject (digests)'
              : 'objects.getObject (trace files)';
        const cpu = process.cpuUsage();
        const started = performance.now();
        try {
          return await fn(...args);
        } finally {
          timer.add(name, performance.now() - started, cpuMs(process.cpuUsage(cpu)));
        }
      };
    },
  });
}

async function timedVerify(
  objects: ObjectStore,
  trustedKeys: ReadonlyMap<string, string>,
  to: number,
): Promise<{ run: VerifyRun; report: VerifyReport }> {
  const timer = new PhaseTimer();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const report = await verifyTrail({
    objects: timedObjects(objects, timer),
    bucket: BUCKET,
    tracker: 'system',
    trustedKeys,
    to,
  });
  const ms = performance.now() - started;
  const used = cpuMs(process.cpuUsage(cpu));
  const phases = Object.fromEntries(timer.phases);
  const timed = timer.total();
  phases['rest: SHA-256, RSA verify, digest gunzip + parse, logic'] = {
    ms: ms - timed.ms,
    cpuMs: used - timed.cpuMs,
    calls: 0,
  };
  return {
    report,
    run: {
      seconds: ms / 1000,
      cpuSeconds: used / 1000,
      problems: report.problems.length,
      digestsValid: `${report.digests.valid}/${report.digests.total}`,
      filesValid: `${report.files.valid}/${report.files.total}`,
      phases,
    },
  };
}

function rawPass(files: readonly string[], gunzip: boolean): Run {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const file of files) {
    const body = readFileSync(file);
    if (gunzip) gunzipSync(body);
    createHash('sha256').update(body).digest('hex');
  }
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuMs(process.cpuUsage(cpu)) / 1000 };
}

async function timeCommand(args: readonly string[]): Promise<{ seconds: number; stdout: string; code: number }> {
  const started = performance.now();
  try {
    const { stdout } = await execFileAsync(process.execPath, [...args], { maxBuffer: 64 * 1024 * 1024 });
    return { seconds: (performance.now() - started) / 1000, stdout, code: 0 };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      seconds: (performance.now() - started) / 1000,
      stdout: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      code: typeof e.code === 'number' ? e.code : -1,
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------------

export interface Report {
  readonly benchmark: 'verify-speed';
  readonly options: Omit<Options, 'json'>;
  readonly environment: Record<string, string | number>;
  readonly bucket: {
    readonly buildSeconds: number;
    readonly traceFiles: number;
    readonly digests: number;
    readonly traceFileBytes: number;
    readonly jsonBytes: number;
    readonly traces: number;
  };
  readonly verify: VerifyRun[];
  readonly rawGunzip: Run[];
  readonly rawHashOnly: Run[];
  readonly cli?: { seconds: number; code: number; startupSeconds: number; output: string };
  readonly summary: Record<string, Summary>;
  readonly errors: string[];
}

function pct(s: Summary): string {
  if (s.n <= 1) return percent(s.median);
  return `${percent(s.median)} (${percent(s.min)}–${percent(s.max)})`;
}

export function render(report: Report): string {
  const o = report.options;
  const b = report.bucket;
  const s = report.summary;
  const env = report.environment;
  const mb = b.traceFileBytes / 1e6;
  const lines: string[] = [];
  lines.push(
    `OpenCTS verify speed: ${b.digests} digests over ${o.periods} periods of 60 s, ${formatNumber(b.traceFiles, 0)} gzip trace files (${formatNumber(mb, 1)} MB stored, ${formatNumber(b.jsonBytes / 1e6, 1)} MB JSON, ${formatNumber(b.traces, 0)} traces, ${formatNumber(b.traceFileBytes / b.traceFiles / 1e3, 1)} KB per file; sort by service ${o.sortByService ? 'on' : 'off'}); fs object store, files in the OS page cache`,
  );
  lines.push(
    `${o.repeat} round(s), verifyTrail and the raw passes interleaved; figures are median (min–max) over rounds. MB/s = stored trace-file bytes / time.`,
  );
  lines.push(describeEnvironment(env));
  lines.push(
    `Load average (1/5/15 min): ${env['loadAverageStart']} at the start, ${env['loadAverageEnd']} at the end.`,
  );
  lines.push(`Bucket built by DeliveryWorker with a fake clock in ${formatNumber(b.buildSeconds, 1)} s.`);
  lines.push('');
  lines.push(
    markdownTable(
      ['path', 'MB/s', 'files/s', 'CPU s', 'verify ÷ raw', `goal ≥ ${percent(GOAL)}`, 'verify ÷ raw, CPU'],
      [
        [
          'verifyTrail (in-process)',
          formatSummary(s['verifyMBps']!, 1),
          formatSummary(s['verifyFilesPerSec']!, 0),
          formatSummary(s['verifyCpu']!, 2),
          '',
          '',
          '',
        ],
        [
          'raw: read + gunzip + SHA-256',
          formatSummary(s['rawGunzipMBps']!, 1),
          formatSummary(s['rawGunzipFilesPerSec']!, 0),
          formatSummary(s['rawGunzipCpu']!, 2),
          pct(s['vsRawGunzip']!),
          s['vsRawGunzip']!.median >= GOAL ? 'met' : 'MISSED',
          pct(s['vsRawGunzipCpu']!),
        ],
        [
          'raw: read + SHA-256 (what verify needs)',
          formatSummary(s['rawHashMBps']!, 1),
          formatSummary(s['rawHashFilesPerSec']!, 0),
          formatSummary(s['rawHashCpu']!, 2),
          pct(s['vsRawHash']!),
          s['vsRawHash']!.median >= GOAL ? 'met' : 'MISSED',
          pct(s['vsRawHashCpu']!),
        ],
      ],
    ),
  );
  const v = report.verify[0];
  if (v)
    lines.push(`verifyTrail found ${v.problems} problems; ${v.digestsValid} digests and ${v.filesValid} files valid.`);
  if (report.cli) {
    const c = report.cli;
    lines.push(
      `opencts verify (child process, once): ${formatNumber(c.seconds, 2)} s wall = ${formatNumber(mb / c.seconds, 1)} MB/s, exit ${c.code}; of which Node + CLI start-up (opencts --version) ${formatNumber(c.startupSeconds, 2)} s. Output: ${c.output}`,
    );
  }
  const order = report.verify.map((r, i) => [r.seconds, i] as const).sort((a, b2) => a[0] - b2[0]);
  const mid = report.verify[order[order.length >> 1]![1]]!;
  lines.push('');
  lines.push(
    `Where verifyTrail's time goes (median round, ${formatNumber(mid.seconds, 2)} s wall, ${formatNumber(mid.cpuSeconds, 2)} s CPU):`,
  );
  lines.push(
    markdownTable(
      ['phase', 'calls', 'wall ms', '% of wall', 'CPU ms', '% of CPU', 'µs wall per call'],
      Object.entries(mid.phases)
        .sort((a, b2) => b2[1].ms - a[1].ms)
        .map(([name, p]) => [
          name,
          p.calls ? String(p.calls) : '',
          formatNumber(p.ms, 0),
          `${formatNumber((100 * p.ms) / (mid.seconds * 1000), 1)} %`,
          formatNumber(p.cpuMs, 0),
          `${formatNumber((100 * p.cpuMs) / (mid.cpuSeconds * 1000), 1)} %`,
          p.calls ? formatNumber((1000 * p.ms) / p.calls, 0) : '',
        ]),
    ),
  );
  if (report.errors.length > 0) {
    lines.push('');
    lines.push(`ERRORS (${report.errors.length}):`);
    for (const e of report.errors) lines.push(`  ${e}`);
  }
  return lines.join('\n');
}

export async function runBenchmark(options: Options): Promise<Report> {
  const root = await mkdtemp(path.join(tmpdir(), 'opencts-bench-verify-speed-'));
  const loadAverageStart = loadAverage();
  const fixture = await openDeliveryFixture(path.join(root, 'data'), {
    bucket: BUCKET,
    validate: true,
    obsInfo: { is_sort_by_service: options.sortByService },
  });
  const errors: string[] = [];
  try {
    progress(`verify-speed: temp dir ${root}, load average ${loadAverageStart}`);
    // ---- the bucket: periods × deliveries under a fake clock
    const built = performance.now();
    let clock = START_MS;
    const worker = fixture.worker({ now: () => clock, digestIntervalMs: PERIOD_MS });
    await worker.runOnce(); // starts the first digest period
    const step = Math.floor(PERIOD_MS / (options.filesPerPeriod + 1));
    for (let p = 0; p < options.periods; p++) {
      for (let c = 0; c < options.filesPerPeriod; c++) {
        const at = START_MS + p * PERIOD_MS + (c + 1) * step;
        await fixture.loadTraces(options.tracesPerFile, {
          batch: options.tracesPerFile,
          timeOf: (k) => at - 2000 + k,
          recordTime: () => at,
        });
        clock = at;
        await worker.runOnce();
      }
      if ((p + 1) % 50 === 0) progress(`verify-speed: built ${p + 1} / ${options.periods} periods`);
    }
    clock = START_MS + options.periods * PERIOD_MS + 5_000;
    await worker.runOnce(); // the digest of the last period
    const fakeNow = clock;
    const buildSeconds = (performance.now() - built) / 1000;
    const all = filesUnder(fixture.bucketDir);
    const traceFiles = all.filter((k) => !k.includes('/Digest/')).map((k) => path.join(fixture.bucketDir, k));
    const digests = all.length - traceFiles.length;
    let traceFileBytes = 0;
    let jsonBytes = 0;
    let traces = 0;
    for (const file of traceFiles) {
      const body = readFileSync(file);
      traceFileBytes += body.length;
      const json = gunzipSync(body);
      jsonBytes += json.length;
      traces += (JSON.parse(json.toString('utf8')) as unknown[]).length;
    }
    progress(
      `verify-speed: ${traceFiles.length} trace files (${formatNumber(traceFileBytes / 1e6, 1)} MB), ${digests} digests, built in ${formatNumber(buildSeconds, 1)} s`,
    );
    const expectedFiles = options.sortByService ? undefined : options.periods * options.filesPerPeriod;
    if (expectedFiles !== undefined && traceFiles.length !== expectedFiles) {
      errors.push(`expected ${expectedFiles} trace files, found ${traceFiles.length}`);
    }
    if (digests !== options.periods) errors.push(`expected ${options.periods} digests, found ${digests}`);

    const keys = await fixture.runtime.keys.list();
    const trustedKeys = new Map(keys.map((k) => [k.fingerprint, k.public_key_pem]));

    // ---- rounds: verifyTrail, raw with gunzip, raw hash only
    const verify: VerifyRun[] = [];
    const rawGunzip: Run[] = [];
    const rawHashOnly: Run[] = [];
    for (let round = 0; round < options.repeat; round++) {
      const tag = `[${round + 1}/${options.repeat}]`;
      const { run, report } = await timedVerify(fixture.runtime.objects, trustedKeys, fakeNow);
      verify.push(run);
      if (report.problems.length > 0 || report.files.valid !== traceFiles.length || report.digests.valid !== digests) {
        errors.push(
          `round ${round + 1}: ${report.problems.length} problems (${report.problems
            .slice(0, 3)
            .map((p) => `${p.kind} ${p.key}`)
            .join('; ')}), digests ${run.digestsValid}, files ${run.filesValid}`,
        );
      }
      const g = rawPass(traceFiles, true);
      rawGunzip.push(g);
      const h = rawPass(traceFiles, false);
      rawHashOnly.push(h);
      const mb = traceFileBytes / 1e6;
      progress(
        `${tag} verifyTrail ${formatNumber(run.seconds, 2)} s = ${formatNumber(mb / run.seconds, 1)} MB/s (CPU ${formatNumber(run.cpuSeconds, 2)} s); raw read+gunzip+SHA-256 ${formatNumber(mb / g.seconds, 1)} MB/s; raw read+SHA-256 ${formatNumber(mb / h.seconds, 1)} MB/s; load ${loadAverage()}`,
      );
    }

    // ---- the CLI, once
    let cli: Report['cli'];
    if (options.cli) {
      const keysFile = path.join(root, 'keys.json');
      writeFileSync(keysFile, JSON.stringify(keys));
      const startup = await timeCommand([OPENCTS_BIN, '--version']);
      const run = await timeCommand([
        OPENCTS_BIN,
        'verify',
        '--source',
        fixture.bucketDir,
        '--tracker',
        'system',
        '--to',
        String(fakeNow),
        '--public-key',
        keysFile,
      ]);
      const output = run.stdout.trim().split('\n').slice(-3).join(' | ');
      cli = { seconds: run.seconds, code: run.code, startupSeconds: startup.seconds, output };
      if (run.code !== 0) errors.push(`opencts verify exited ${run.code}: ${run.stdout.slice(0, 500)}`);
      progress(`opencts verify: ${formatNumber(run.seconds, 2)} s, exit ${run.code}: ${output}`);
    }

    const mb = traceFileBytes / 1e6;
    const n = traceFiles.length;
    return {
      benchmark: 'verify-speed',
      options: {
        periods: options.periods,
        filesPerPeriod: options.filesPerPeriod,
        tracesPerFile: options.tracesPerFile,
        repeat: options.repeat,
        sortByService: options.sortByService,
        cli: options.cli,
      },
      environment: { ...environment(), loadAverageStart, loadAverageEnd: loadAverage() },
      bucket: { buildSeconds, traceFiles: n, digests, traceFileBytes, jsonBytes, traces },
      verify,
      rawGunzip,
      rawHashOnly,
      ...(cli ? { cli } : {}),
      summary: {
        verifyMBps: summarize(verify.map((r) => mb / r.seconds)),
        verifyFilesPerSec: summarize(verify.map((r) => n / r.seconds)),
        verifyCpu: summarize(verify.map((r) => r.cpuSeconds)),
        rawGunzipMBps: summarize(rawGunzip.map((r) => mb / r.seconds)),
        rawGunzipFilesPerSec: summarize(rawGunzip.map((r) => n / r.seconds)),
        rawGunzipCpu: summarize(rawGunzip.map((r) => r.cpuSeconds)),
        rawHashMBps: summarize(rawHashOnly.map((r) => mb / r.seconds)),
        rawHashFilesPerSec: summarize(rawHashOnly.map((r) => n / r.seconds)),
        rawHashCpu: summarize(rawHashOnly.map((r) => r.cpuSeconds)),
        vsRawGunzip: summarize(verify.map((r, i) => rawGunzip[i]!.seconds / r.seconds)),
        vsRawGunzipCpu: summarize(verify.map((r, i) => rawGunzip[i]!.cpuSeconds / r.cpuSeconds)),
        vsRawHash: summarize(verify.map((r, i) => rawHashOnly[i]!.seconds / r.seconds)),
        vsRawHashCpu: summarize(verify.map((r, i) => rawHashOnly[i]!.cpuSeconds / r.cpuSeconds)),
      },
      errors,
    };
  } finally {
    await fixture.close();
    await rm(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const report = await runBenchmark(options);
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else console.log(`${render(report)}\nTook ${formatNumber((performance.now() - started) / 1000, 0)} s.`);
  if (report.errors.length > 0) process.exitCode = 1;
}

if (isEntryPoint(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`verify-speed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
