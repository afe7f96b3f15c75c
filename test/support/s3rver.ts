/**
 * A real s3rver (3.7.1) for tests: its own child process on a free port of 127.0.0.1, data in a
 * temp directory, silent; S3ObjectStores made for it use credentials S3RVER/S3RVER and path-style
 * URLs.
 *
 * Why a child process and not in-process: s3rver encrypts its ListObjectsV2 continuation tokens
 * with DES, which Node 20's OpenSSL 3 only offers with `--openssl-legacy-provider`, a flag that
 * applies to a whole process. In-process, any listing longer than one page fails with 500
 * InternalError; the child gets the flag, the test process does not.
 *
 * What s3rver 3.7.1 does not do like S3 (found while writing the object-store contract test):
 * - bucket lifecycle (GET/PUT/DELETE `?lifecycle`) answers 501 NotImplemented;
 * - SigV4 signatures are not checked (any secret works); an unknown access key id gets 403
 *   InvalidAccessKeyId (HeadBucket: a bare 403);
 * - Content-MD5 is not checked (a wrong digest is stored);
 * - keys are listed in folder-walk order, not UTF-8 key order (`a/b` before `a-b` before `a`),
 *   and continuation tokens resume after a key in that order, so paging can skip keys whose walk
 *   order and key order differ.
 * The child exits when its stdin closes, so it cannot outlive a crashed test process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/delivery/s3/s3-object-store.js';

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const S3RVER_REGION = 'us-east-1';

export interface RunningS3rver {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** s3rver's data directory. */
  readonly directory: string;
  /** A store for this server (credentials S3RVER/S3RVER, path style); stop() closes it. */
  makeStore(overrides?: Partial<S3ObjectStoreOptions>): S3ObjectStore;
  /** Closes the stores, stops the server and deletes its directory. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

/** The child: argv = [s3rver module path, data directory]. Prints `{"port":N}` once listening. */
const CHILD_SCRIPT = `
const S3rver = require(process.argv[1]);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[2] });
server.run().then(
  (info) => process.stdout.write(JSON.stringify({ port: info.port }) + '\\n'),
  (err) => { process.stderr.write(String(err && err.stack || err) + '\\n'); process.exit(1); },
);
process.stdin.on('end', () => {
  server.close().then(() => process.exit(0), () => process.exit(1));
});
process.stdin.resume();
`;

function waitForPort(child: ChildProcessWithoutNullStreams): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(
      () => fail(new Error(`s3rver did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)),
      START_TIMEOUT_MS,
    );
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    };
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      cleanup();
      try {
        resolve((JSON.parse(stdout.slice(0, newline)) as { port: number }).port);
      } catch (err) {
        reject(err as Error);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(new Error(`s3rver exited before listening (code ${code}, signal ${signal}): ${stderr}`));
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', onExit);
  });
}

export async function startS3rver(): Promise<RunningS3rver> {
  const directory = await mkdtemp(path.join(tmpdir(), 'opencts-s3rver-'));
  const s3rverModule = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD_SCRIPT, s3rverModule, directory], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let port: number;
  try {
    port = await waitForPort(child);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const stores: S3ObjectStore[] = [];
  let stopped = false;
  return {
    endpoint,
    directory,
    makeStore(overrides = {}) {
      const store = new S3ObjectStore({
        endpoint,
        region: S3RVER_REGION,
        forcePathStyle: true,
        credentials: S3RVER_CREDENTIALS,
        ...overrides,
      });
      stores.push(store);
      return store;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const store of stores) store.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
