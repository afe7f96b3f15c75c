/**
 * Servers under test run as child processes, so that the load generator never shares their event
 * loop. This module picks a free port, starts the child, waits until `GET /` answers, and stops it
 * (SIGTERM, then SIGKILL) when done.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ChildServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The last lines the child wrote (stdout and stderr), for diagnostics. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If the benchmark dies, its servers must not outlive it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of running) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/** A port that was free a moment ago (the kernel's choice for port 0). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** Arguments to `node` (script first); `{port}` is replaced by the chosen port. */
  readonly args: readonly string[];
  readonly host?: string;
  readonly cwd?: string;
  readonly readyTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export async function startChildServer(options: StartOptions): Promise<ChildServer> {
  installExitHook();
  const host = options.host ?? '127.0.0.1';
  const port = await freePort(host);
  const args = options.args.map((a) => a.replaceAll('{port}', String(port)));
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    }),
  );
  const output = () => lines.join('\n');
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };

  const url = `http://${host}:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (exited) {
      throw new Error(
        `server ${args.join(' ')} exited (code ${exited.code}, signal ${exited.signal}) before answering:\n${output()}`,
      );
    }
    try {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server ${args.join(' ')} did not answer GET / at ${url} in time:\n${output()}`);
    }
    await sleep(50);
  }
  return { url, port, pid: child.pid ?? -1, output, stop };
}

let clockTicks: number | undefined;

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux). NaN where /proc is
 * missing. Comparing it around a run tells whether a server was saturated and what a request costs.
 */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return Number.NaN;
  }
}
