/**
 * Shared pieces of the SIGKILL reliability tests (test/reliability/kill-*.test.ts): `opencts serve`
 * as a child process that every test can kill, a seeded PRNG to replay kill delays, keys made
 * with the real CLI, and paging through every system trace.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { OPENCTS_BIN, REPO_ROOT, runCli } from './cli.js';
import { signedFetch, type SigningKey } from './signed-fetch.js';

const EXIT_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 20_000;

export interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | string>;
  output(): string;
}

export interface KillWireTrace {
  readonly trace_id: string;
  readonly service_type: string;
  readonly trace_name: string;
  readonly request_id?: string;
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every child started through serve(), so none outlives the test, whatever fails. */
const children = new Set<ChildProcess>();

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export function killAll(): void {
  for (const child of children) if (alive(child)) child.kill('SIGKILL');
}
process.once('exit', killAll);

/** Kills every child still running and waits until each has exited. */
export async function killAllAndWait(): Promise<void> {
  killAll();
  await Promise.all(
    [...children].map((child) => (alive(child) ? new Promise((resolve) => child.once('exit', resolve)) : undefined)),
  );
}

/**
 * `opencts serve` on a free port; the child is registered before it is waited for. `env` is added
 * to this process's environment (a shared OPENCTS_MASTER_KEY, S3 credentials).
 */
export function serve(
  dataDir: string,
  extraArgs: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<Served> {
  const child = spawn(
    process.execPath,
    [OPENCTS_BIN, 'serve', '--port', '0', '--log-level', 'warn', ...extraArgs, '--data-dir', dataDir],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  children.add(child);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start: ${output}`));
    }, START_TIMEOUT_MS);
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, exited, output: () => output });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${output}`));
    });
  });
}

export async function stopWith(
  served: Served,
  signal: 'SIGKILL' | 'SIGTERM',
  expected: number | string,
): Promise<void> {
  served.child.kill(signal);
  const result = await Promise.race([served.exited, sleep(EXIT_TIMEOUT_MS, 'timeout', { ref: false })]);
  assert.equal(result, expected, `the child ended with ${expected} after ${signal}: ${served.output()}`);
}

/** Lines the server logged at error level (pino JSON: level 50 and up). */
export function errorLines(output: string): string[] {
  return output.split('\n').filter((line) => /"level":(5\d|60)/.test(line));
}

export async function createKey(
  dataDir: string,
  ids: { projectId: string; domainId: string },
  user: string,
  role: 'admin' | 'service',
  /** More arguments (`--store URL`) and environment (a shared OPENCTS_MASTER_KEY) of the command. */
  more: { args?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<SigningKey> {
  const created = await runCli(
    [
      'credentials',
      'create',
      '--data-dir',
      dataDir,
      '--project-id',
      ids.projectId,
      '--domain-id',
      ids.domainId,
      '--user',
      user,
      '--role',
      role,
      '--json',
      ...(more.args ?? []),
    ],
    more.env,
  );
  assert.equal(created.code, 0, created.stderr);
  return JSON.parse(created.stdout) as SigningKey;
}

/** Every system trace from `from` on, paging with the marker (T: the fields a test reads). */
export async function listAllSystemTraces<T extends KillWireTrace = KillWireTrace>(
  url: string,
  key: SigningKey,
  from: number,
): Promise<T[]> {
  const traces: T[] = [];
  let next: string | undefined;
  for (let page = 0; page < 100_000; page++) {
    const res = await signedFetch(url, key, {
      path: `/v3/${key.project_id}/traces`,
      query: { trace_type: 'system', limit: 200, from, next },
    });
    assert.equal(res.status, 200, res.text);
    const body = res.json as { traces: T[]; meta_data: { marker?: string | null } };
    traces.push(...body.traces);
    next = body.meta_data.marker ?? undefined;
    if (!next || body.traces.length === 0) return traces;
  }
  assert.fail('ListTraces paging did not end');
}
