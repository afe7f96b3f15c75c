/**
 * Delivery throughput: traces per second the delivery path turns into stored trace files, against
 * the raw limit of the same work measured in the same run (DESIGN.md, "Performance method").
 *
 * Real path, in-process: a data dir opened by the composition root (openRuntime → SqliteStore and
 * the fs object store), a system tracker shipping gzip files to a bucket, N synthetic traces
 * (default 200,000; bench/support/trace-generator.ts, about 1.3 KB each) written through
 * `store.changeTrackers` in batches, then `new DeliveryWorker({...}).runOnce()` timed until the
 * delivery cursor has passed them all: read from SQLite, build the files (JSON, gzip level 6,
 * SHA-256), store them durably (metadata file, temp file, fsync, rename, folder fsync), log them.
 * Each round starts the tracker's delivery over (its delivery state removed, the bucket emptied)
 * under a fake clock one hour further on, so every round writes the same traces under new names.
 *
 * Raw limit, in the same run and interleaved with it: the same bytes (the JSON arrays the files
 * hold, read back from the delivered files before timing) gzipped at level 6 (zlib's default, as
 * the worker's gzipSync) and written with write + fsync + rename, one file each, synchronously.
 *
 * The worker's store and object store are wrapped (timed) to show where the time goes; what is
 * left is building the files. buildTraceFiles is then timed apart on one batch, split into
 * encoding (fileRecord + JSON.stringify), gzip and SHA-256.
 *
 * Usage: node dist/bench/delivery-throughput.js [--traces 200000] [--load-batch 1000] [--repeat 3] [--json]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { buildTraceFiles, fileRecord, MAX_TRACES_PER_FILE } from '../src/core/delivery/trace-file.js';
import { BATCH_LIMIT } from '../src/delivery/delivery-worker.js';
import {
  cpuMs,
  filesUnder,
  openDeliveryFixture,
  PhaseTimer,
  rawDurableWrite,
  REGION,
  type DeliveryFixture,
  type Phase,
} from './support/delivery-fixture.js';
import {
  describeEnvironment,
  environment,
  isEntryPoint,
  loadAverage,
  positiveInteger,
  progress,
} from './support/opencts.js';
import {
  formatNumber,
  formatRatio,
  formatSummary,
  markdownTable,
  median,
  summarize,
  type Summary,
} from './support/stats.js';

const BUCKET = 'bench-delivery-throughput';
const HOUR = 3_600_000;
const REST = 'rest: build files (JSON, gzip, SHA-256) + worker';

export interface Options {
  readonly traces: number;
  readonly loadBatch: number;
  readonly repeat: number;
  readonly json: boolean;
}

const USAGE = `usage: node dist/bench/delivery-throughput.js [options]
  --traces <n>       traces to preload and deliver (default 200000)
  --load-batch <n>   traces per store transaction while preloading (default 1000)
  --repeat <n>       rounds; each delivers all traces once and runs the raw limit once (default 3)
  --json             print the results as JSON instead of tables`;

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      traces: { type: 'string', default: '200000' },
      'load-batch': { type: 'string', default: '1000' },
      repeat: { type: 'string', default: '3' },
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
    traces: positiveInteger('traces', values.traces),
    loadBatch: positiveInteger('load-batch', values['load-batch']),
    repeat: positiveInteger('repeat', values.repeat),
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------------------------

export interface RealRun {
  readonly seconds: number;
  readonly runOnceCalls: number;
  readonly files: number;
  readonly storedBytes: number;
  /** CPU of this process (main thread and libuv pool) during the run, % of one core. */
  readonly cpuPercent: number;
  readonly cpuSeconds: number;
  /** Wall and CPU ms per timed store/object-store method, and what is left (building files, worker logic). */
  readonly phases: Record<string, Phase>;
}

export interface RawRun {
  readonly seconds: number;
  readonly gzipSeconds: number;
  readonly writeSeconds: number;
  readonly storedBytes: number;
  readonly cpuPercent: number;
  readonly cpuSeconds: number;
}

interface Delivered {
  /** The JSON arrays the delivered files hold (gunzipped), in key order. */
  readonly json: Buffer[];
  readonly traces: number;
  readonly jsonBytes: number;
}

async function emptyFolder(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(path.join(dir, name), { recursive: true, force: true });
}

async function deliverAll(f: DeliveryFixture, round: number, maxSeq: number): Promise<RealRun> {
  const { store } = f.runtime;
  await store.deleteDeliveryState(f.tracker.id);
  await emptyFolder(f.bucketDir);
  const timer = new PhaseTimer();
  const clock = Date.now() + (round + 1) * HOUR;
  const worker = f.worker({
    now: () => clock,
    store: timer.wrap(store, 'store', [
      'listAllTrackers',
      'listDeliveryStates',
      'getDeliveryState',
      'putDeliveryState',
      'readTracesForDelivery',
      'completeDelivery',
    ]),
    objects: timer.wrap(f.runtime.objects, 'objects', ['putObject', 'applyLifecycle']),
  });
  const cpu = process.cpuUsage();
  const started = performance.now();
  let calls = 0;
  for (;;) {
    await worker.runOnce();
    calls++;
    const state = await store.getDeliveryState(f.tracker.id);
    if (state && state.cursor_seq >= maxSeq && state.pending_to === null) break;
    if (calls > 1000) throw new Error(`delivery did not reach seq ${maxSeq}: cursor ${state?.cursor_seq}`);
  }
  const ms = performance.now() - started;
  const used = cpuMs(process.cpuUsage(cpu));
  const files = filesUnder(f.bucketDir);
  let storedBytes = 0;
  for (const file of files) storedBytes += readFileSync(path.join(f.bucketDir, file)).length;
  const phases = Object.fromEntries(timer.phases);
  const timed = timer.total();
  phases[REST] = { ms: ms - timed.ms, cpuMs: used - timed.cpuMs, calls: 0 };
  return {
    seconds: ms / 1000,
    runOnceCalls: calls,
    files: files.length,
    storedBytes,
    cpuPercent: (100 * used) / ms,
    cpuSeconds: used / 1000,
    phases,
  };
}

function readDelivered(bucketDir: string): Delivered {
  const json: Buffer[] = [];
  let traces = 0;
  let jsonBytes = 0;
  for (const file of filesUnder(bucketDir).sort()) {
    const body = gunzipSync(readFileSync(path.join(bucketDir, file)));
    traces += (JSON.parse(body.toString('utf8')) as unknown[]).length;
    jsonBytes += body.length;
    json.push(body);
  }
  return { json, traces, jsonBytes };
}

function rawLimit(dir: string, delivered: Delivered): RawRun {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let gzipMs = 0;
  let storedBytes = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  delivered.json.forEach((json, i) => {
    const t0 = performance.now();
    const gz = gzipSync(json); // level 6, zlib's default, as the worker
    gzipMs += performance.now() - t0;
    storedBytes += gz.length;
    rawDurableWrite(path.join(dir, `file-${i}.json.gz`), gz);
  });
  const ms = performance.now() - started;
  const used = cpuMs(process.cpuUsage(cpu));
  return {
    seconds: ms / 1000,
    gzipSeconds: gzipMs / 1000,
    writeSeconds: (ms - gzipMs) / 1000,
    storedBytes,
    cpuPercent: (100 * used) / ms,
    cpuSeconds: used / 1000,
  };
}

export interface Step {
  readonly name: string;
  /** Median over 3 runs: wall ms and CPU ms (this process). */
  readonly ms: number;
  readonly cpuMs: number;
}

export interface BuildBreakdown {
  readonly traces: number;
  readonly files: number;
  readonly jsonBytes: number;
  readonly steps: Step[];
}

async function timeSteps(name: string, fn: () => unknown): Promise<Step> {
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
    cpu.push(cpuMs(process.cpuUsage(c)));
  }
  return { name, ms: median(ms), cpuMs: median(cpu) };
}

/** buildTraceFiles on one worker batch, and its parts done apart on the same traces. */
async function buildBreakdown(f: DeliveryFixture): Promise<BuildBreakdown> {
  const { store } = f.runtime;
  const read = () => store.readTracesForDelivery(f.projectId, 'system', 0, Number.MAX_SAFE_INTEGER, BATCH_LIMIT);
  const rows = await read();
  const traces = rows.map((r) => r.trace);
  const batch = {
    tracker: f.tracker,
    region: REGION,
    fromSeq: 0,
    toSeq: rows.at(-1)?.seq ?? 0,
    time: Date.now(),
    traces,
  };
  const files = buildTraceFiles(batch);
  // The same split as buildTraceFiles: one part per service (is_sort_by_service), 5000 traces at most.
  const groups = new Map<string, typeof traces>();
  for (const t of traces) groups.set(t.service_type, [...(groups.get(t.service_type) ?? []), t]);
  const parts: (typeof traces)[] = [];
  for (const g of groups.values()) {
    for (let i = 0; i < g.length; i += MAX_TRACES_PER_FILE) parts.push(g.slice(i, i + MAX_TRACES_PER_FILE));
  }
  const jsons = parts.map((p) => Buffer.from(JSON.stringify(p.map(fileRecord))));
  const gzs = jsons.map((j) => gzipSync(j));
  const steps = [
    await timeSteps(
      'store.readTracesForDelivery (SQLite + JSON.parse of wire); the worker reads each batch twice',
      read,
    ),
    await timeSteps('buildTraceFiles, whole', () => buildTraceFiles(batch)),
    await timeSteps('  part: size every trace (JSON.stringify in chunk())', () => {
      for (const t of traces) JSON.stringify(t);
    }),
    await timeSteps('  part: fileRecord + JSON.stringify of the files', () =>
      parts.map((p) => Buffer.from(JSON.stringify(p.map(fileRecord)))),
    ),
    await timeSteps('  part: gzipSync level 6', () => jsons.map((j) => gzipSync(j))),
    await timeSteps('  part: SHA-256 of the gzip bytes', () =>
      gzs.map((g) => createHash('sha256').update(g).digest('hex')),
    ),
  ];
  return {
    traces: traces.length,
    files: files.length,
    jsonBytes: jsons.reduce((n, j) => n + j.length, 0),
    steps,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------------

export interface Report {
  readonly benchmark: 'delivery-throughput';
  readonly options: Omit<Options, 'json'>;
  readonly environment: Record<string, string | number>;
  readonly load: { seconds: number; rowsPerSec: number };
  readonly delivered: { traces: number; files: number; jsonBytes: number; storedBytes: number };
  readonly real: RealRun[];
  readonly raw: RawRun[];
  readonly breakdown: BuildBreakdown;
  readonly summary: Record<string, Summary>;
  readonly errors: number;
}

function summarizeRuns(real: readonly RealRun[], raw: readonly RawRun[], traces: number, jsonBytes: number) {
  return {
    realTracesPerSec: summarize(real.map((r) => traces / r.seconds)),
    realMBps: summarize(real.map((r) => jsonBytes / 1e6 / r.seconds)),
    realCpu: summarize(real.map((r) => r.cpuPercent)),
    rawTracesPerSec: summarize(raw.map((r) => traces / r.seconds)),
    rawMBps: summarize(raw.map((r) => jsonBytes / 1e6 / r.seconds)),
    rawCpu: summarize(raw.map((r) => r.cpuPercent)),
    realTracesPerCpuSec: summarize(real.map((r) => traces / r.cpuSeconds)),
    rawTracesPerCpuSec: summarize(raw.map((r) => traces / r.cpuSeconds)),
    cpuRatio: summarize(real.map((r, i) => raw[i]!.cpuSeconds / r.cpuSeconds)),
    rawGzipMBps: summarize(raw.map((r) => jsonBytes / 1e6 / r.gzipSeconds)),
    rawWriteShare: summarize(raw.map((r) => r.writeSeconds / r.seconds)),
    ratio: summarize(real.map((r, i) => raw[i]!.seconds / r.seconds)),
  };
}

export function render(report: Report): string {
  const o = report.options;
  const d = report.delivered;
  const s = report.summary;
  const env = report.environment;
  const lines: string[] = [];
  lines.push(
    `OpenCTS delivery throughput: ${formatNumber(d.traces, 0)} traces (${formatNumber(d.jsonBytes / d.traces, 0)} B of file JSON each) delivered by DeliveryWorker.runOnce() to the fs object store, gzip, ${formatNumber(d.files, 0)} files (${formatNumber(d.jsonBytes / 1e6, 1)} MB JSON → ${formatNumber(d.storedBytes / 1e6, 1)} MB stored, ${formatNumber(d.jsonBytes / d.storedBytes, 2)}:1)`,
  );
  lines.push(`${o.repeat} round(s), real and raw interleaved; figures are median (min–max) over rounds.`);
  lines.push(describeEnvironment(env));
  lines.push(
    `Load average (1/5/15 min): ${env['loadAverageStart']} at the start, ${env['loadAverageEnd']} at the end.`,
  );
  lines.push(
    `Preload through SqliteStore.changeTrackers, ${o.loadBatch} traces per transaction: ${formatNumber(report.load.seconds, 1)} s = ${formatNumber(report.load.rowsPerSec, 0)} traces/s (generation included).`,
  );
  lines.push('');
  lines.push(
    markdownTable(
      [
        'path',
        'traces/s',
        'MB/s (JSON in)',
        'real ÷ raw',
        'CPU % of one core',
        'traces per CPU-second',
        'real ÷ raw, CPU',
      ],
      [
        [
          'DeliveryWorker.runOnce → fs store',
          formatSummary(s['realTracesPerSec']!, 0),
          formatSummary(s['realMBps']!, 1),
          formatRatio(s['ratio']!),
          formatSummary(s['realCpu']!, 0),
          formatSummary(s['realTracesPerCpuSec']!, 0),
          formatRatio(s['cpuRatio']!),
        ],
        [
          'raw: gzip-6 + write + fsync + rename',
          formatSummary(s['rawTracesPerSec']!, 0),
          formatSummary(s['rawMBps']!, 1),
          '',
          formatSummary(s['rawCpu']!, 0),
          formatSummary(s['rawTracesPerCpuSec']!, 0),
          '',
        ],
      ],
    ),
  );
  lines.push('');
  lines.push(
    `Raw limit split: gzip alone ${formatSummary(s['rawGzipMBps']!, 1)} MB/s of JSON; write+fsync+rename ${formatSummary(
      summarize(s['rawWriteShare']!.values.map((v) => v * 100)),
      0,
    )} % of the raw time.`,
  );
  // Where the time goes: the round with the median time.
  const order = report.real.map((r, i) => [r.seconds, i] as const).sort((a, b) => a[0] - b[0]);
  const mid = report.real[order[order.length >> 1]![1]]!;
  lines.push('');
  lines.push(
    `Where the time goes (median round, ${formatNumber(mid.seconds, 2)} s wall, ${formatNumber(mid.cpuSeconds, 2)} s CPU, ${mid.runOnceCalls} runOnce call(s), ${mid.files} files): time inside the worker's store and object-store calls; the rest is building the files.`,
  );
  lines.push(
    markdownTable(
      ['phase', 'calls', 'wall ms', '% of wall', 'CPU ms', '% of CPU'],
      Object.entries(mid.phases)
        .sort((a, b) => b[1].ms - a[1].ms)
        .filter(([, p]) => p.ms >= 0.5)
        .map(([name, p]) => [
          name,
          p.calls ? String(p.calls) : '',
          formatNumber(p.ms, 0),
          `${formatNumber((100 * p.ms) / (mid.seconds * 1000), 1)} %`,
          formatNumber(p.cpuMs, 0),
          `${formatNumber((100 * p.cpuMs) / (mid.cpuSeconds * 1000), 1)} %`,
        ]),
    ),
  );
  const b = report.breakdown;
  lines.push('');
  lines.push(
    `One worker batch apart (${formatNumber(b.traces, 0)} traces → ${b.files} files, ${formatNumber(b.jsonBytes / 1e6, 1)} MB JSON; median of 3):`,
  );
  lines.push(
    markdownTable(
      ['step', 'wall ms', 'CPU ms', 'MB/s of JSON (CPU)'],
      b.steps.map((step) => [
        step.name,
        formatNumber(step.ms, 0),
        formatNumber(step.cpuMs, 0),
        formatNumber(b.jsonBytes / 1e3 / step.cpuMs, 0),
      ]),
    ),
  );
  if (report.errors > 0) {
    lines.push('');
    lines.push(`ERRORS (${report.errors}): delivered trace count differs from the preloaded count`);
  }
  return lines.join('\n');
}

export async function runBenchmark(options: Options): Promise<Report> {
  const root = await mkdtemp(path.join(tmpdir(), 'opencts-bench-delivery-throughput-'));
  const loadAverageStart = loadAverage();
  const fixture = await openDeliveryFixture(path.join(root, 'data'), { bucket: BUCKET, validate: false });
  try {
    progress(`delivery-throughput: temp dir ${root}, load average ${loadAverageStart}`);
    const dataStart = Date.now() - HOUR;
    const loaded = await fixture.loadTraces(options.traces, {
      batch: options.loadBatch,
      timeOf: (k) => dataStart + Math.floor((k * HOUR) / options.traces),
    });
    progress(
      `delivery-throughput: preloaded ${formatNumber(options.traces, 0)} traces in ${formatNumber(loaded.seconds, 1)} s`,
    );
    const maxSeq = await fixture.runtime.store.maxTraceSeq(fixture.projectId, 'system');
    const real: RealRun[] = [];
    const raw: RawRun[] = [];
    let delivered: Delivered | undefined;
    let errors = 0;
    for (let round = 0; round < options.repeat; round++) {
      const tag = `[${round + 1}/${options.repeat}]`;
      const r = await deliverAll(fixture, round, maxSeq);
      real.push(r);
      if (!delivered) {
        delivered = readDelivered(fixture.bucketDir);
        if (delivered.traces !== options.traces) errors++;
      }
      progress(
        `${tag} real: ${formatNumber(r.seconds, 2)} s = ${formatNumber(options.traces / r.seconds, 0)} traces/s, ${formatNumber(delivered.jsonBytes / 1e6 / r.seconds, 1)} MB/s, ${r.files} files, CPU ${formatNumber(r.cpuPercent, 0)} %, load ${loadAverage()}`,
      );
      const w = rawLimit(path.join(root, 'raw'), delivered);
      raw.push(w);
      progress(
        `${tag} raw:  ${formatNumber(w.seconds, 2)} s = ${formatNumber(options.traces / w.seconds, 0)} traces/s, ${formatNumber(delivered.jsonBytes / 1e6 / w.seconds, 1)} MB/s (gzip ${formatNumber(w.gzipSeconds, 2)} s), load ${loadAverage()}`,
      );
    }
    const breakdown = await buildBreakdown(fixture);
    const d = delivered!;
    return {
      benchmark: 'delivery-throughput',
      options: { traces: options.traces, loadBatch: options.loadBatch, repeat: options.repeat },
      environment: { ...environment(), loadAverageStart, loadAverageEnd: loadAverage() },
      load: { seconds: loaded.seconds, rowsPerSec: options.traces / loaded.seconds },
      delivered: { traces: d.traces, files: d.json.length, jsonBytes: d.jsonBytes, storedBytes: real[0]!.storedBytes },
      real,
      raw,
      breakdown,
      summary: summarizeRuns(real, raw, d.traces, d.jsonBytes),
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
  if (report.errors > 0) process.exitCode = 1;
}

if (isEntryPoint(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`delivery-throughput: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
