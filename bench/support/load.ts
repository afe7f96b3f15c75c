/**
 * Load generators for the benchmarks, both signing every request afresh:
 *  - `autocannonLoad`: autocannon for a fixed time (open-ended: requests in flight when time is up
 *    are dropped uncounted);
 *  - `closedLoopLoad`: N node:http keep-alive connections, each sending its next request when the
 *    previous one answered, until time is up; every request sent is awaited, so the count of 2xx
 *    answers is exact (what the traced-writes benchmark checks the stored traces against).
 */
import http from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { processCpuSeconds } from './child-server.js';
import { HOST, queryString, signedHeaders, type Credentials, type Query } from './opencts.js';
import { percentilesInPlace } from './stats.js';

/** What one load run saw. */
export interface LoadRun {
  readonly connections: number;
  readonly seconds: number;
  /** Answers received (any status). */
  readonly requests: number;
  /** 2xx answers that passed the run's check. */
  readonly ok: number;
  readonly okPerSec: number;
  readonly requestsPerSec: number;
  /** ms, over all answered requests. */
  readonly p50: number;
  readonly p99: number;
  /** Non-2xx or rejected answers, connection errors and timeouts. */
  readonly errors: number;
  readonly errorSamples: Record<string, number>;
  /** CPU the server process used during the run, % of one core (100 = one core saturated). */
  readonly serverCpuPercent: number;
  /** Server CPU per answered request, µs. */
  readonly serverCpuUsPerRequest: number;
  /** CPU of the load generator (this process), % of one core. */
  readonly clientCpuPercent: number;
  /** 1-minute load average when the run ended. */
  readonly loadAverage: number;
}

/** Counts answers; a check may reject a 2xx answer whose body is wrong. */
export class Recorder {
  readonly latencies: number[] = [];
  ok = 0;
  answered = 0;
  readonly failures = new Map<string, number>();

  fail(key: string): void {
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
  }

  get errorCount(): number {
    let n = 0;
    for (const c of this.failures.values()) n += c;
    return n;
  }
}

interface Meter {
  finish(recorder: Recorder, connections: number, extraErrors?: Record<string, number>): LoadRun;
}

function meter(pid: number): Meter {
  const serverCpuBefore = processCpuSeconds(pid);
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  return {
    finish(recorder, connections, extraErrors = {}) {
      const seconds = (performance.now() - started) / 1000;
      const serverCpu = processCpuSeconds(pid) - serverCpuBefore;
      const clientCpu = process.cpuUsage(clientCpuBefore);
      const [p50 = NaN, p99 = NaN] = percentilesInPlace(recorder.latencies, [50, 99]);
      const errorSamples = { ...Object.fromEntries(recorder.failures), ...extraErrors };
      const errors = Object.values(errorSamples).reduce((a, b) => a + b, 0);
      return {
        connections,
        seconds,
        requests: recorder.answered,
        ok: recorder.ok,
        okPerSec: recorder.ok / seconds,
        requestsPerSec: recorder.answered / seconds,
        p50,
        p99,
        errors,
        errorSamples,
        serverCpuPercent: (100 * serverCpu) / seconds,
        serverCpuUsPerRequest: (serverCpu * 1e6) / recorder.answered,
        clientCpuPercent: (clientCpu.user + clientCpu.system) / 1e4 / seconds,
        loadAverage: loadavg()[0] ?? Number.NaN,
      };
    },
  };
}

export interface SignedRequestSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly query?: Query;
  /** JSON text of the body (signed as is). */
  readonly body?: string;
}

export interface LoadTarget {
  readonly port: number;
  /** The server process, for its CPU time. */
  readonly pid: number;
  readonly credentials: Credentials;
}

export interface LoadOptions {
  readonly connections: number;
  readonly seconds: number;
  /** The next request of connection `conn`; called just before it is sent (and signed). */
  readonly next: (conn: number) => SignedRequestSpec;
  /** Returns an error description when a 2xx answer is not what it should be. */
  readonly check?: (status: number, body: string) => string | undefined;
  /** Seconds before autocannon gives up on an answer (default 60: a loaded 2-core machine is slow). */
  readonly timeoutSeconds?: number;
  /** Called with every answered request's latency, ms (closedLoopLoad; to merge runs against several servers). */
  readonly onLatency?: (ms: number) => void;
}

function classify(recorder: Recorder, status: number, body: string, check: LoadOptions['check']): void {
  recorder.answered++;
  if (status < 200 || status >= 300) {
    recorder.fail(`HTTP ${status}: ${body.slice(0, 300)}`);
    return;
  }
  const problem = check?.(status, body);
  if (problem) recorder.fail(problem);
  else recorder.ok++;
}

/** autocannon for `seconds`, one request at a time per connection (no pipelining). */
export async function autocannonLoad(target: LoadTarget, options: LoadOptions): Promise<LoadRun> {
  const recorder = new Recorder();
  let conn = 0;
  const m = meter(target.pid);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://${HOST}:${target.port}`,
        connections: options.connections,
        duration: options.seconds,
        timeout: options.timeoutSeconds ?? 60,
        pipelining: 1,
        setupClient: (client) => {
          const me = conn++;
          client.setRequests([
            {
              setupRequest: (request) => {
                const spec = options.next(me);
                const query = spec.query ?? [];
                const body = spec.body ?? '';
                const headers = signedHeaders(target.credentials, target.port, spec.method, spec.path, query, body);
                const qs = queryString(query);
                return {
                  ...request,
                  method: spec.method,
                  path: qs ? `${spec.path}?${qs}` : spec.path,
                  body: spec.body,
                  headers,
                };
              },
              onResponse: (status, body) => classify(recorder, status, body, options.check),
            },
          ]);
        },
      },
      (err: unknown, res: autocannon.Result) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve(res);
      },
    );
    instance.on('response', (_client, _status, _bytes, ms) => recorder.latencies.push(ms));
  });
  const extra: Record<string, number> = {};
  if (result.errors > 0) extra[`connection errors/timeouts (${result.timeouts} timeouts)`] = result.errors;
  return m.finish(recorder, options.connections, extra);
}

/** `connections` closed loops over node:http keep-alive sockets; every request sent is answered before the end. */
export async function closedLoopLoad(target: LoadTarget, options: LoadOptions): Promise<LoadRun> {
  const recorder = new Recorder();
  const agents: http.Agent[] = [];
  const m = meter(target.pid);
  const deadline = performance.now() + options.seconds * 1000;
  const worker = async (conn: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    while (performance.now() < deadline) {
      const spec = options.next(conn);
      const started = performance.now();
      const query = spec.query ?? [];
      const body = spec.body ?? '';
      const headers = signedHeaders(target.credentials, target.port, spec.method, spec.path, query, body);
      const qs = queryString(query);
      try {
        const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = http.request(
            {
              host: HOST,
              port: target.port,
              method: spec.method,
              path: qs ? `${spec.path}?${qs}` : spec.path,
              headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
              agent,
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
              );
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          req.end(body);
        });
        const ms = performance.now() - started;
        recorder.latencies.push(ms);
        options.onLatency?.(ms);
        classify(recorder, status, text, options.check);
      } catch (err) {
        recorder.fail(`connection error: ${err instanceof Error ? err.message : String(err)}`);
        // A dead connection is not a reason to hammer: let the others run.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, (_, c) => worker(c)));
  for (const a of agents) a.destroy();
  return m.finish(recorder, options.connections);
}
