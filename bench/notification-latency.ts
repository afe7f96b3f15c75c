/**
 * Notification latency: how long after a trace is committed its key-event notification reaches
 * the webhook. Goal: p99 ≤ 1 s (the notifier wakes on every commit instead of polling).
 *
 * Real path: OpenCTS (`node bin/opencts.js serve`, a child process on a temp data dir) with a
 * system tracker and a customized notification on the reported operation, whose topic (made with
 * `opencts topics create`) points at a webhook in this process (node:http). Traces are reported
 * one per signed `POST /v3/{project}/traces` at a steady rate (default 100/s, sent on a fixed
 * schedule whatever the answers); each carries a unique request_id. Latency = when the webhook
 * got the message − when the ingest request was sent (so it bounds commit → received from above:
 * it includes the request's own trip and commit).
 *
 * Raw limit, measured in the same run against the same webhook: a bare local HTTP POST round trip
 * of a message of the same size (node:http keep-alive client → the receiver), sequentially. The
 * ratio says how many raw POSTs one notification costs end to end; the path also holds an ingest
 * request, its commit, a wake-up, a read of the new trace and the cursor's write.
 *
 * The load runs `--warmup` s (not measured), then `--duration` s; then it stops and waits until
 * every acknowledged trace was received (at most `--drain` s; any trace never received is an error).
 *
 * Usage: node dist/bench/notification-latency.js [--rate 100] [--duration 10] [--warmup 1] [--drain 10]
 *        [--raw-posts 1000] [--json]
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import type { ChildServer } from './support/child-server.js';
import {
  createCredentials,
  describeEnvironment,
  environment,
  HOST,
  isEntryPoint,
  mustRequest,
  OPENCTS_BIN,
  positive,
  positiveInteger,
  progress,
  signedHeaders,
  SignedClient,
  startOpenCts,
  type Credentials,
} from './support/opencts.js';
import { formatNumber, markdownTable, percentileOfSorted } from './support/stats.js';
import { startWebhookSink, type WebhookSink } from './support/webhook-sink.js';

const GOAL_P99_MS = 1000;
const TRACE_NAME = 'rebootServer';
const execFileAsync = promisify(execFile);

export interface NotificationLatencyOptions {
  readonly rate: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly drainS: number;
  readonly rawPosts: number;
}

interface LatencyFigures {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface NotificationLatencyResult {
  readonly options: NotificationLatencyOptions;
  readonly notification: LatencyFigures;
  readonly rawPost: LatencyFigures;
  readonly sent: number;
  readonly acked: number;
  readonly received: number;
  readonly missing: number;
  readonly failedRequests: number;
}

const now = () => performance.timeOrigin + performance.now();

function figures(values: number[]): LatencyFigures {
  values.sort((a, b) => a - b);
  return {
    n: values.length,
    p50: percentileOfSorted(values, 50),
    p99: percentileOfSorted(values, 99),
    max: values.length === 0 ? Number.NaN : values[values.length - 1]!,
  };
}

function ingestBody(requestId: string): string {
  return JSON.stringify({
    traces: [
      {
        time: Date.now(),
        user: { name: 'bench', id: 'u-bench' },
        service_type: 'ECS',
        resource_type: 'ecs',
        resource_id: requestId,
        trace_name: TRACE_NAME,
        trace_rating: 'normal',
        trace_type: 'ApiCall',
        request_id: requestId,
        code: 200,
      },
    ],
  });
}

/** One signed ingest on the shared keep-alive agent; resolves with the status (0: no answer). */
function ingest(agent: http.Agent, server: ChildServer, key: Credentials, body: string): Promise<number> {
  const pathname = `/v3/${key.projectId}/traces`;
  const headers = signedHeaders(key, server.port, 'POST', pathname, [], body);
  return new Promise((resolve) => {
    const req = http.request(
      { host: HOST, port: server.port, method: 'POST', path: pathname, headers, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Sequential POSTs of `body` to the sink over one keep-alive connection: the raw limit. */
async function rawPostRoundTrips(sink: WebhookSink, body: string, count: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(sink.url);
  const out: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = now();
      await new Promise<void>((resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: `${url.pathname}?raw=1`,
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      out.push(now() - started);
    }
  } finally {
    agent.destroy();
  }
  return out;
}

export async function runNotificationLatency(options: NotificationLatencyOptions): Promise<NotificationLatencyResult> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'opencts-bench-notify-'));
  const sink = await startWebhookSink();
  let server: ChildServer | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  try {
    const admin = await createCredentials(dataDir, { role: 'admin' });
    const reporter = await createCredentials(dataDir, {
      role: 'service',
      projectId: admin.projectId,
      domainId: admin.domainId,
      user: 'reporter',
    });
    const urn = `urn:smn:local-1:${admin.projectId}:bench_topic`;
    await execFileAsync(process.execPath, [
      OPENCTS_BIN,
      'topics',
      'create',
      '--data-dir',
      dataDir,
      '--project-id',
      admin.projectId,
      '--urn',
      urn,
      '--url',
      sink.url,
      '--json',
    ]);
    server = await startOpenCts({ dataDir });
    const client = new SignedClient(server.port, admin);
    try {
      await mustRequest(client, 'POST', `/v3/${admin.projectId}/tracker`, [], {
        tracker_type: 'system',
        tracker_name: 'system',
      });
      await mustRequest(client, 'POST', `/v3/${admin.projectId}/notifications`, [], {
        notification_name: 'bench',
        operation_type: 'customized',
        operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: [TRACE_NAME] }],
        topic_id: urn,
      });
    } finally {
      client.close();
    }

    const sentAt = new Map<string, number>();
    const measured = new Set<string>();
    const acked = new Set<string>();
    let failedRequests = 0;
    const interval = 1000 / options.rate;
    const total = Math.round((options.warmupS + options.durationS) * options.rate);
    const warmupCount = Math.round(options.warmupS * options.rate);
    const start = now();
    const inflight: Array<Promise<void>> = [];
    progress(
      `sending ${total} traces at ${options.rate}/s (${options.warmupS} s warm-up, ${options.durationS} s measured)`,
    );
    for (let i = 0; i < total; i++) {
      const due = start + i * interval;
      const wait = due - now();
      if (wait > 1) await sleep(wait);
      const id = `n${i}`;
      if (i >= warmupCount) measured.add(id);
      const body = ingestBody(id);
      sentAt.set(id, now());
      inflight.push(
        ingest(agent, server, reporter, body).then((status) => {
          if (status === 201) acked.add(id);
          else failedRequests++;
        }),
      );
    }
    await Promise.all(inflight);
    const deadline = now() + options.drainS * 1000;
    while (now() < deadline && [...acked].some((id) => !sink.receivedAt.has(id))) await sleep(20);

    const latencies: number[] = [];
    for (const id of measured) {
      const received = sink.receivedAt.get(id);
      if (received !== undefined) latencies.push(received - sentAt.get(id)!);
    }
    const missing = [...acked].filter((id) => !sink.receivedAt.has(id)).length;
    const sample = sink.sampleBody ?? ingestBody('sample');
    progress(`raw limit: ${options.rawPosts} sequential POSTs of ${Buffer.byteLength(sample)} bytes`);
    const raw = await rawPostRoundTrips(sink, sample, options.rawPosts);
    return {
      options,
      notification: figures(latencies),
      rawPost: figures(raw),
      sent: total,
      acked: acked.size,
      received: sink.receivedAt.size,
      missing,
      failedRequests,
    };
  } finally {
    agent.destroy();
    await server?.stop();
    await sink.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function formatNotificationLatency(r: NotificationLatencyResult): string {
  const ms = (v: number) => formatNumber(v, v >= 100 ? 0 : 2);
  const ratio = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '-');
  const lines = [
    `Notification latency: trace commit → webhook received, ${r.options.rate} traces/s for ${r.options.durationS} s ` +
      `(goal p99 ≤ ${GOAL_P99_MS} ms).`,
    '',
    markdownTable(
      ['path', 'n', 'p50 ms', 'p99 ms', 'max ms', 'p99 ÷ raw p99'],
      [
        [
          'trace → webhook',
          String(r.notification.n),
          ms(r.notification.p50),
          ms(r.notification.p99),
          ms(r.notification.max),
          ratio(r.notification.p99 / r.rawPost.p99),
        ],
        ['raw POST round trip', String(r.rawPost.n), ms(r.rawPost.p50), ms(r.rawPost.p99), ms(r.rawPost.max), '1.00×'],
      ],
    ),
    '',
    markdownTable(
      ['sent', 'acknowledged', 'received', 'missing'],
      [[String(r.sent), String(r.acked), String(r.received), String(r.missing)]],
    ),
    '',
    `p99 ${ms(r.notification.p99)} ms: ${r.notification.p99 <= GOAL_P99_MS ? 'meets' : 'MISSES'} the goal.`,
    describeEnvironment(environment()),
  ];
  const errors: string[] = [];
  if (r.failedRequests > 0) errors.push(`  ${r.failedRequests} × ingest not answered 201`);
  if (r.missing > 0) errors.push(`  ${r.missing} × acknowledged trace never reached the webhook`);
  if (errors.length > 0) lines.push('', `ERRORS (${r.failedRequests + r.missing}):`, ...errors);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '100' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      drain: { type: 'string', default: '10' },
      'raw-posts': { type: 'string', default: '1000' },
      json: { type: 'boolean', default: false },
    },
  });
  const result = await runNotificationLatency({
    rate: positive('rate', values.rate),
    durationS: positive('duration', values.duration),
    warmupS: positive('warmup', values.warmup, true),
    drainS: positive('drain', values.drain),
    rawPosts: positiveInteger('raw-posts', values['raw-posts']),
  });
  console.log(values.json ? JSON.stringify(result) : formatNotificationLatency(result));
  if (result.missing > 0 || result.failedRequests > 0) process.exitCode = 1;
}

if (isEntryPoint(import.meta.url)) await main();
