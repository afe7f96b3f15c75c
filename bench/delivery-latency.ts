/**
 * Delivery latency: how long after a trace is committed (its ingest answered 201) the object
 * holding it is present in the tracker's bucket. Goal: p99 ≤ 2 s with `--flush-interval 1s`
 * (CloudTrail delivers in about 5 minutes on average).
 *
 * Real path: OpenCTS (`node bin/opencts.js serve --flush-interval 1s --digest-interval 60s`, a
 * child process on a temp data dir) with a system tracker that ships gzip files to a bucket and
 * writes digests (CTS defaults otherwise: files sorted by service). Traces are reported with a
 * `service` key at a steady rate (default 200/s in signed `POST /v3/{project}/traces` of 10, sent on
 * a fixed schedule whatever the answers, so a slow answer does not slow the load). For each trace
 * of a 201 answer: ack time = when the answer arrived here.
 *
 * The bucket is watched from this process: every `--poll-ms` (20) its files are listed; a new trace
 * file is read, gunzipped and parsed, and each trace id in it gets the time of the listing that
 * first showed the file. Latency = that time − the ack time (so it excludes the answer's trip back
 * and includes up to one poll period). Store:
 *  - `fs` (default): the bucket folder `<data-dir>/buckets/B/` (the store renames complete files in);
 *  - `s3`: OpenCTS writes to an s3rver child (`--object-store s3://127.0.0.1:PORT`); the watcher
 *    reads s3rver's folder, where an object is listable once its `._S3rver_metadata.json` exists
 *    (written after the object). Polling ListObjectsV2 instead would put 50 listings/s on s3rver,
 *    and s3rver's paging (walk order) skips keys once a bucket holds more than 1,000.
 *
 * Floor, measured in the same run: a worker that starts a cycle exactly every flush interval F and
 * writes a cycle's files at the raw speed W (gzip level 6 + write + fsync + rename of the same JSON,
 * per file, the median over delivered cycles) delivers a trace after U(0, F) + W: p50 = F/2 + W,
 * p99 = 0.99·F + W. Printed beside the measured figures with the ratio.
 *
 * The load runs `--warmup` s, then `--repeat` windows of `--duration` s each (a trace belongs to the
 * window it was sent in); then it stops and the watcher waits until every acknowledged trace was
 * seen (at most `--drain` s; any trace never seen is an error).
 *
 * Usage: node dist/bench/delivery-latency.js [--store fs|s3] [--rate 200] [--batch 10] [--duration 20]
 *        [--repeat 3] [--warmup 2] [--poll-ms 20] [--flush-interval 1s] [--drain 20] [--json]
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { processCpuSeconds, startChildServer, type ChildServer } from './support/child-server.js';
import { filesUnder, rawDurableWrite } from './support/delivery-fixture.js';
import {
  createCredentials,
  describeEnvironment,
  environment,
  HOST,
  isEntryPoint,
  loadAverage,
  mustRequest,
  OPENCTS_BIN,
  positive,
  positiveInteger,
  progress,
  signedHeaders,
  SignedClient,
  type Credentials,
} from './support/opencts.js';
import {
  formatNumber,
  formatRatio,
  formatSummary,
  markdownTable,
  median,
  percentileOfSorted,
  summarize,
  type Summary,
} from './support/stats.js';
import { buildUniverse, generateIngested, mulberry32 } from './support/trace-generator.js';

const BUCKET = 'bench-delivery-latency';
const GOAL_P99_MS = 2000;
const S3RVER_CREDENTIALS = { id: 'S3RVER', secret: 'S3RVER' };
const S3RVER_METADATA_SUFFIX = '._S3rver_metadata.json';
const S3RVER_OBJECT_SUFFIX = '._S3rver_object';
/** `…_2026-11-25T14-50-01Z_0123456789abcdef.json.gz`: the second the batch was planned names its files. */
const FILE_TIME = /_(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)_[0-9a-f]{16}\.json(?:\.gz)?$/;

type StoreKind = 'fs' | 's3';

export interface Options {
  readonly store: StoreKind;
  readonly rate: number;
  readonly batch: number;
  readonly duration: number;
  readonly repeat: number;
  readonly warmup: number;
  readonly pollMs: number;
  readonly flushInterval: string;
  readonly drain: number;
  readonly json: boolean;
}

const USAGE = `usage: node dist/bench/delivery-latency.js [options]
  --store fs|s3            the object store OpenCTS delivers to (default fs; s3 = an s3rver child)
  --rate <traces/s>        steady ingest rate (default 200)
  --batch <n>              traces per ingest request (default 10)
  --duration <s>           seconds per measured window (default 20)
  --repeat <n>             measured windows (default 3)
  --warmup <s>             unmeasured load before the first window (default 2)
  --poll-ms <ms>           bucket listing period (default 20)
  --flush-interval <d>     the server's --flush-interval (default 1s)
  --drain <s>              how long to wait for the last traces after the load (default 20)
  --json                   print the results as JSON instead of tables`;

function flushMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`--flush-interval: a duration such as 1s or 500ms: ${text}`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      store: { type: 'string', default: 'fs' },
      rate: { type: 'string', default: '200' },
      batch: { type: 'string', default: '10' },
      duration: { type: 'string', default: '20' },
      repeat: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '2' },
      'poll-ms': { type: 'string', default: '20' },
      'flush-interval': { type: 'string', default: '1s' },
      drain: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.store !== 'fs' && values.store !== 's3') throw new Error('--store: fs or s3');
  flushMs(values['flush-interval']);
  return {
    store: values.store,
    rate: positive('rate', values.rate),
    batch: positiveInteger('batch', values.batch),
    duration: positive('duration', values.duration),
    repeat: positiveInteger('repeat', values.repeat),
    warmup: positive('warmup', values.warmup, true),
    pollMs: positive('poll-ms', values['poll-ms']),
    flushInterval: values['flush-interval'],
    drain: positive('drain', values.drain),
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// s3rver as a child (test/support/s3rver.ts explains why: DES continuation tokens need
// --openssl-legacy-provider, a whole-process flag). It exits when its stdin closes.
// ---------------------------------------------------------------------------------------------------------------

const S3RVER_SCRIPT = `
const S3rver = require(process.argv[1]);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[2] });
server.run().then(
  (info) => process.stdout.write(JSON.stringify({ port: info.port }) + '\\n'),
  (err) => { process.stderr.write(String(err && err.stack || err) + '\\n'); process.exit(1); },
);
process.stdin.on('end', () => server.close().then(() => process.exit(0), () => process.exit(1)));
process.stdin.resume();
`;

interface S3rverChild {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

async function startS3rver(directory: string): Promise<S3rverChild> {
  const module = createRequire(import.meta.url).resolve('s3rver');
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', S3RVER_SCRIPT, module, directory],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start: ${err}`)), 20_000);
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${code}) before listening: ${err}`));
    });
  });
  return {
    port,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The bucket watcher
// ---------------------------------------------------------------------------------------------------------------

interface SeenFile {
  readonly key: string;
  /** performance.now() of the listing that first showed it. */
  readonly seenAt: number;
  readonly traces: number;
  /** The JSON array it holds (for the raw floor). */
  readonly json: Buffer;
}

class BucketWatcher {
  /** trace id → performance.now() of the listing that first showed a file holding it. */
  readonly seen = new Map<string, number>();
  readonly files: SeenFile[] = [];
  /** Wall ms of each listing, and the gaps between listings. */
  readonly listMs: number[] = [];
  readonly gapMs: number[] = [];
  readFailures = 0;
  private readonly known = new Set<string>();
  private readonly pending = new Map<string, number>();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly store: StoreKind,
    private readonly pollMs: number,
  ) {}

  /** Object key and the file holding its bytes, for a file of the watched folder (or undefined). */
  private object(rel: string): { key: string; file: string } | undefined {
    if (this.store === 'fs') return { key: rel, file: path.join(this.dir, rel) };
    if (!rel.endsWith(S3RVER_METADATA_SUFFIX)) return undefined;
    const key = rel.slice(0, -S3RVER_METADATA_SUFFIX.length);
    return { key, file: path.join(this.dir, key + S3RVER_OBJECT_SUFFIX) };
  }

  start(): void {
    this.loop = (async () => {
      let last: number | undefined;
      while (!this.stopped) {
        await this.poll(last);
        last = performance.now();
        await sleep(this.pollMs);
      }
    })();
  }

  private async poll(previous: number | undefined): Promise<void> {
    const started = performance.now();
    const rels = filesUnder(this.dir);
    const listedAt = performance.now();
    this.listMs.push(listedAt - started);
    if (previous !== undefined) this.gapMs.push(listedAt - previous);
    for (const rel of rels) {
      const o = this.object(rel);
      if (!o || this.known.has(o.key) || o.key.includes('/Digest/')) continue;
      this.known.add(o.key);
      this.pending.set(o.key, listedAt);
    }
    for (const [key, at] of this.pending) {
      const file = this.object(this.store === 'fs' ? key : key + S3RVER_METADATA_SUFFIX)!.file;
      let json: Buffer;
      let ids: string[];
      try {
        json = gunzipSync(await readFile(file));
        ids = (JSON.parse(json.toString('utf8')) as Array<{ trace_id: string }>).map((t) => t.trace_id);
      } catch {
        this.readFailures++; // not complete yet (s3rver): try again at the next poll, keeping its first time
        continue;
      }
      this.pending.delete(key);
      for (const id of ids) if (!this.seen.has(id)) this.seen.set(id, at);
      this.files.push({ key, seenAt: at, traces: ids.length, json });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The steady load
// ---------------------------------------------------------------------------------------------------------------

interface Ack {
  readonly ids: string[];
  readonly ackAt: number;
  /** -1 for the warm-up, else the measured window. */
  readonly window: number;
  readonly requestMs: number;
}

interface LoadResult {
  readonly acks: Ack[];
  readonly sent: number;
  readonly errors: Map<string, number>;
  /** How late requests left against their schedule, ms (the load generator's own lag). */
  readonly lateMs: number[];
  readonly serverCpuSeconds: number;
  readonly seconds: number;
  /** Requests sent again after ECONNRESET on a reused keep-alive socket (never reached the server). */
  readonly staleRetries: number;
}

function postSigned(
  agent: http.Agent,
  port: number,
  credentials: Credentials,
  pathname: string,
  body: string,
): Promise<{ status: number; body: string }> {
  const headers = signedHeaders(credentials, port, 'POST', pathname, [], body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: HOST,
        port,
        method: 'POST',
        path: pathname,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      // Reset on a reused keep-alive socket before any answer: Node's http docs advise sending
      // again (req.reusedSocket + ECONNRESET). Counted and printed, since the cause is not known:
      // Fastify keeps idle sockets 72 s, longer than a run.
      if (req.reusedSocket && err.code === 'ECONNRESET') reject(new StaleSocketError(err.message));
      else reject(err);
    });
    req.end(body);
  });
}

class StaleSocketError extends Error {
  override name = 'StaleSocketError';
}

async function steadyLoad(server: ChildServer, credentials: Credentials, options: Options): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const universe = buildUniverse(1);
  const rng = mulberry32(99);
  const pathname = `/v3/${credentials.projectId}/traces`;
  const intervalMs = (1000 * options.batch) / options.rate;
  const warmupMs = options.warmup * 1000;
  const windowMs = options.duration * 1000;
  const totalMs = warmupMs + options.repeat * windowMs;
  const acks: Ack[] = [];
  const errors = new Map<string, number>();
  const lateMs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const fail = (key: string): void => {
    errors.set(key, (errors.get(key) ?? 0) + 1);
  };
  const cpuBefore = processCpuSeconds(server.pid);
  const started = performance.now();
  let sent = 0;
  let staleRetries = 0;
  for (let k = 0; ; k++) {
    const due = started + k * intervalMs;
    if (due - started >= totalMs) break;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const sentAt = performance.now();
    lateMs.push(Math.max(0, sentAt - due));
    const offset = due - started;
    const window = offset < warmupMs ? -1 : Math.floor((offset - warmupMs) / windowMs);
    const now = Date.now();
    const traces = Array.from({ length: options.batch }, () =>
      generateIngested(rng, universe, now - Math.floor(rng() * 5000), credentials.projectId),
    );
    const body = JSON.stringify({ traces });
    sent++;
    const post = () => postSigned(agent, server.port, credentials, pathname, body);
    const p = post()
      .catch((err: unknown) => {
        if (!(err instanceof StaleSocketError)) throw err;
        staleRetries++;
        return post(); // signed afresh
      })
      .then(
        (res) => {
          const ackAt = performance.now();
          if (res.status !== 201) return fail(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
          const ids = (JSON.parse(res.body) as { trace_ids?: Array<string | null> }).trace_ids ?? [];
          if (ids.length !== options.batch || ids.includes(null)) return fail(`201 without ${options.batch} ids`);
          acks.push({ ids: ids as string[], ackAt, window, requestMs: ackAt - sentAt });
        },
        (err: unknown) => fail(`request failed: ${(err as Error).message}`),
      );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    acks,
    sent,
    errors,
    lateMs,
    serverCpuSeconds: processCpuSeconds(server.pid) - cpuBefore,
    seconds,
    staleRetries,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The floor: raw writes of delivered cycles
// ---------------------------------------------------------------------------------------------------------------

interface Cycle {
  readonly stamp: string;
  readonly files: SeenFile[];
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly traces: number;
}

function cyclesOf(files: readonly SeenFile[]): Cycle[] {
  const byStamp = new Map<string, SeenFile[]>();
  for (const f of files) {
    const stamp = FILE_TIME.exec(f.key)?.[1] ?? '?';
    byStamp.set(stamp, [...(byStamp.get(stamp) ?? []), f]);
  }
  return [...byStamp]
    .map(([stamp, fs]) => ({
      stamp,
      files: fs,
      firstSeen: Math.min(...fs.map((f) => f.seenAt)),
      lastSeen: Math.max(...fs.map((f) => f.seenAt)),
      traces: fs.reduce((n, f) => n + f.traces, 0),
    }))
    .sort((a, b) => a.firstSeen - b.firstSeen);
}

/** ms to gzip (level 6) and durably write (write + fsync + rename) each file of a cycle, one after another. */
function rawCycleMs(dir: string, cycle: Cycle, index: number): number {
  const started = performance.now();
  cycle.files.forEach((f, i) => rawDurableWrite(path.join(dir, `c${index}-f${i}.json.gz`), gzipSync(f.json)));
  return performance.now() - started;
}

// ---------------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------------

export interface WindowResult {
  readonly window: number;
  readonly traces: number;
  readonly missing: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly min: number;
}

export interface Report {
  readonly benchmark: 'delivery-latency';
  readonly options: Omit<Options, 'json'>;
  readonly environment: Record<string, string | number>;
  readonly windows: WindowResult[];
  readonly floor: {
    readonly flushMs: number;
    readonly rawCycleMs: number;
    readonly cyclesMeasured: number;
    readonly p50: number;
    readonly p99: number;
  };
  readonly load: {
    readonly sent: number;
    readonly acked: number;
    readonly achievedRate: number;
    readonly requestP50: number;
    readonly requestP99: number;
    readonly lateP99: number;
    readonly serverCpuPercent: number;
    readonly staleRetries: number;
  };
  readonly watcher: { listP50: number; gapP50: number; gapP99: number; files: number; readRetries: number };
  readonly cycles: {
    readonly count: number;
    readonly filesPerCycle: number;
    readonly tracesPerCycle: number;
    /** Gap between consecutive cycles' first file, ms: flush interval + cycle time. */
    readonly periodP50: number;
    readonly periodP99: number;
    /** First to last file of a cycle seen, ms (the writing of a cycle's files, ± one poll). */
    readonly spreadP50: number;
    readonly spreadP99: number;
  };
  readonly summary: Record<string, Summary>;
  readonly errors: Record<string, number>;
}

function quantiles(values: readonly number[]): { p50: number; p99: number; max: number; min: number } {
  const s = [...values].sort((a, b) => a - b);
  return {
    p50: percentileOfSorted(s, 50),
    p99: percentileOfSorted(s, 99),
    max: s.at(-1) ?? Number.NaN,
    min: s[0] ?? Number.NaN,
  };
}

export function render(report: Report): string {
  const o = report.options;
  const s = report.summary;
  const f = report.floor;
  const l = report.load;
  const c = report.cycles;
  const w = report.watcher;
  const env = report.environment;
  const lines: string[] = [];
  lines.push(
    `OpenCTS delivery latency: trace committed (ingest answered 201) → the object holding it present in the bucket; store ${o.store}, serve --flush-interval ${o.flushInterval} --digest-interval 60s, system tracker (gzip, sorted by service, digests on)`,
  );
  lines.push(
    `Load: ${formatNumber(o.rate, 0)} traces/s in signed POSTs of ${o.batch} on a fixed schedule; warm-up ${o.warmup} s, then ${o.repeat} window(s) of ${o.duration} s; figures are median (min–max) over windows. Bucket listed every ${o.pollMs} ms.`,
  );
  lines.push(describeEnvironment(env));
  lines.push(
    `Load average (1/5/15 min): ${env['loadAverageStart']} at the start, ${env['loadAverageEnd']} at the end.`,
  );
  lines.push('');
  lines.push(
    markdownTable(
      [
        'store',
        'traces',
        'p50 ms',
        'p99 ms',
        'max ms',
        `goal p99 ≤ ${formatNumber(GOAL_P99_MS, 0)} ms`,
        'floor p50 / p99 ms',
        'p99 ÷ floor p99',
      ],
      [
        [
          o.store,
          formatNumber(
            report.windows.reduce((n, x) => n + x.traces, 0),
            0,
          ),
          formatSummary(s['p50']!, 0),
          formatSummary(s['p99']!, 0),
          formatSummary(s['max']!, 0),
          s['p99']!.median <= GOAL_P99_MS ? 'met' : 'MISSED',
          `${formatNumber(f.p50, 0)} / ${formatNumber(f.p99, 0)}`,
          formatRatio(s['vsFloor']!),
        ],
      ],
    ),
  );
  lines.push('');
  lines.push(
    markdownTable(
      ['window', 'traces', 'missing', 'min ms', 'p50 ms', 'p99 ms', 'max ms'],
      report.windows.map((x) => [
        String(x.window + 1),
        formatNumber(x.traces, 0),
        String(x.missing),
        formatNumber(x.min, 0),
        formatNumber(x.p50, 0),
        formatNumber(x.p99, 0),
        formatNumber(x.max, 0),
      ]),
    ),
  );
  lines.push('');
  lines.push(
    `Floor: cycles start every F = ${formatNumber(f.flushMs, 0)} ms and write their files at the raw speed, W = ${formatNumber(f.rawCycleMs, 1)} ms (gzip-6 + write + fsync + rename of a cycle's files, local fs, median of ${f.cyclesMeasured} delivered cycles): p50 = F/2 + W, p99 = 0.99·F + W.`,
  );
  lines.push(
    `Delivery cycles seen: ${c.count}, ${formatNumber(c.filesPerCycle, 1)} files and ${formatNumber(c.tracesPerCycle, 0)} traces per cycle (median); period between cycles p50 ${formatNumber(c.periodP50, 0)} ms, p99 ${formatNumber(c.periodP99, 0)} ms (flush interval + cycle time); first → last file of a cycle p50 ${formatNumber(c.spreadP50, 0)} ms, p99 ${formatNumber(c.spreadP99, 0)} ms.`,
  );
  lines.push(
    `Ingest: ${formatNumber(l.acked, 0)} of ${formatNumber(l.sent, 0)} requests answered 201, ${formatNumber(l.achievedRate, 0)} traces/s; request p50 ${formatNumber(l.requestP50, 1)} ms, p99 ${formatNumber(l.requestP99, 1)} ms; sends late against schedule p99 ${formatNumber(l.lateP99, 1)} ms; ${l.staleRetries} resent after a stale keep-alive socket; server CPU ${formatNumber(l.serverCpuPercent, 0)} % of one core.`,
  );
  lines.push(
    `Watcher: listing p50 ${formatNumber(w.listP50, 1)} ms, listings every ${formatNumber(w.gapP50, 0)} ms (p99 ${formatNumber(w.gapP99, 0)} ms) = the resolution of "present"; ${w.files} trace files read, ${w.readRetries} read retries.`,
  );
  const errors = Object.entries(report.errors);
  if (errors.length > 0) {
    lines.push('');
    lines.push(`ERRORS (${errors.reduce((n, [, v]) => n + v, 0)}):`);
    for (const [k, n] of errors) lines.push(`  ${n} × ${k}`);
  }
  return lines.join('\n');
}

export async function runBenchmark(options: Options): Promise<Report> {
  const root = await mkdtemp(path.join(tmpdir(), 'opencts-bench-delivery-latency-'));
  const dataDir = path.join(root, 'data');
  const loadAverageStart = loadAverage();
  const stops: Array<() => Promise<void>> = [];
  try {
    progress(`delivery-latency: temp dir ${root}, store ${options.store}, load average ${loadAverageStart}`);
    const admin = await createCredentials(dataDir);
    const service = await createCredentials(dataDir, {
      role: 'service',
      projectId: admin.projectId,
      domainId: admin.domainId,
      user: 'reporter',
    });
    let storeArgs: string[] = [];
    let env: NodeJS.ProcessEnv = process.env;
    let watchDir = path.join(dataDir, 'buckets', BUCKET);
    if (options.store === 's3') {
      const s3Dir = path.join(root, 's3rver');
      const s3 = await startS3rver(s3Dir);
      stops.push(() => s3.stop());
      storeArgs = ['--object-store', `s3://127.0.0.1:${s3.port}`];
      env = {
        ...process.env,
        OPENCTS_S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.id,
        OPENCTS_S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secret,
      };
      watchDir = path.join(s3Dir, BUCKET);
      progress(`delivery-latency: s3rver pid ${s3.pid} on port ${s3.port}`);
    }
    const server = await startChildServer({
      args: [
        OPENCTS_BIN,
        'serve',
        '--data-dir',
        dataDir,
        '--host',
        HOST,
        '--port',
        '{port}',
        '--log-level',
        'warn',
        '--flush-interval',
        options.flushInterval,
        '--digest-interval',
        '60s',
        ...storeArgs,
      ],
      host: HOST,
      env,
      readyTimeoutMs: 120_000,
    });
    stops.push(() => server.stop());
    progress(`delivery-latency: OpenCTS pid ${server.pid} at ${server.url}`);
    const client = new SignedClient(server.port, admin);
    await mustRequest(client, 'POST', `/v3/${admin.projectId}/tracker`, [], {
      tracker_type: 'system',
      tracker_name: 'system',
      obs_info: { bucket_name: BUCKET, is_obs_created: true },
      is_support_validate: true,
    });
    client.close();

    const watcher = new BucketWatcher(watchDir, options.store, options.pollMs);
    watcher.start();
    stops.push(() => watcher.stop());
    const load = await steadyLoad(server, service, options);
    progress(
      `delivery-latency: load done, ${load.acks.length} of ${load.sent} requests acknowledged; waiting for the last traces`,
    );
    const wanted = load.acks.flatMap((a) => a.ids);
    const drainUntil = performance.now() + options.drain * 1000;
    while (performance.now() < drainUntil && wanted.some((id) => !watcher.seen.has(id))) await sleep(100);
    await watcher.stop();

    // ---- latencies per window
    const windows: WindowResult[] = [];
    for (let w = 0; w < options.repeat; w++) {
      const lat: number[] = [];
      let missing = 0;
      for (const a of load.acks) {
        if (a.window !== w) continue;
        for (const id of a.ids) {
          const at = watcher.seen.get(id);
          if (at === undefined) missing++;
          else lat.push(at - a.ackAt);
        }
      }
      windows.push({ window: w, traces: lat.length + missing, missing, ...quantiles(lat) });
      const q = quantiles(lat);
      progress(
        `[${w + 1}/${options.repeat}] ${lat.length} traces: p50 ${formatNumber(q.p50, 0)} ms, p99 ${formatNumber(q.p99, 0)} ms, max ${formatNumber(q.max, 0)} ms, ${missing} missing`,
      );
    }

    // ---- the floor, in this run
    const flush = flushMs(options.flushInterval);
    const cycles = cyclesOf(watcher.files);
    // Whole cycles only (not the first or the last, which the window cuts), unless a short run saw too few.
    const measured = (cycles.length > 2 ? cycles.slice(1, -1) : cycles).slice(0, 30);
    const rawDir = path.join(root, 'raw');
    await mkdir(rawDir, { recursive: true });
    const raw = measured.map((cycle, i) => rawCycleMs(rawDir, cycle, i));
    const rawCycle = median(raw);
    const floor = {
      flushMs: flush,
      rawCycleMs: rawCycle,
      cyclesMeasured: raw.length,
      p50: flush / 2 + rawCycle,
      p99: 0.99 * flush + rawCycle,
    };

    const periods = cycles.slice(1).map((cy, i) => cy.firstSeen - cycles[i]!.firstSeen);
    const spreads = cycles.map((cy) => cy.lastSeen - cy.firstSeen);
    const requestMs = load.acks.map((a) => a.requestMs);
    const errors: Record<string, number> = Object.fromEntries(load.errors);
    const missing = windows.reduce((n, x) => n + x.missing, 0);
    if (missing > 0) errors[`acknowledged traces never seen in the bucket within ${options.drain} s`] = missing;
    const measuredWindows = windows.filter((x) => x.traces - x.missing > 0);
    const measuredAcks = load.acks.filter((a) => a.window >= 0);
    return {
      benchmark: 'delivery-latency',
      options: {
        store: options.store,
        rate: options.rate,
        batch: options.batch,
        duration: options.duration,
        repeat: options.repeat,
        warmup: options.warmup,
        pollMs: options.pollMs,
        flushInterval: options.flushInterval,
        drain: options.drain,
      },
      environment: { ...environment(), loadAverageStart, loadAverageEnd: loadAverage() },
      windows,
      floor,
      load: {
        sent: load.sent,
        acked: load.acks.length,
        achievedRate: (measuredAcks.length * options.batch) / (options.repeat * options.duration),
        requestP50: quantiles(requestMs).p50,
        requestP99: quantiles(requestMs).p99,
        lateP99: quantiles(load.lateMs).p99,
        serverCpuPercent: (100 * load.serverCpuSeconds) / load.seconds,
        staleRetries: load.staleRetries,
      },
      watcher: {
        listP50: median(watcher.listMs),
        gapP50: median(watcher.gapMs),
        gapP99: quantiles(watcher.gapMs).p99,
        files: watcher.files.length,
        readRetries: watcher.readFailures,
      },
      cycles: {
        count: cycles.length,
        filesPerCycle: median(cycles.map((cy) => cy.files.length)),
        tracesPerCycle: median(cycles.map((cy) => cy.traces)),
        periodP50: quantiles(periods).p50,
        periodP99: quantiles(periods).p99,
        spreadP50: quantiles(spreads).p50,
        spreadP99: quantiles(spreads).p99,
      },
      summary: {
        p50: summarize(measuredWindows.map((x) => x.p50)),
        p99: summarize(measuredWindows.map((x) => x.p99)),
        max: summarize(measuredWindows.map((x) => x.max)),
        vsFloor: summarize(measuredWindows.map((x) => x.p99 / floor.p99)),
      },
      errors,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const report = await runBenchmark(options);
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else console.log(`${render(report)}\nTook ${formatNumber((performance.now() - started) / 1000, 0)} s.`);
  if (Object.keys(report.errors).length > 0) process.exitCode = 1;
}

if (isEntryPoint(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`delivery-latency: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
