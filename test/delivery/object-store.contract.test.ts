/**
 * One contract for every ObjectStore, run unchanged against FsObjectStore (a temp folder) and
 * S3ObjectStore (a real s3rver 3.7.1 in a child process), then the parts only one of them has:
 * fs atomicity, key validation, lifecycle and permissions; S3 paging, 403 mapping, the lifecycle
 * rule shape, and the SDK's NodeVersionSupportWarning staying silent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, chmod, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BucketExistsError } from '../../src/delivery/buckets.js';
import { FsObjectStore, InvalidObjectKeyError, ObjectKeyConflictError } from '../../src/delivery/fs/fs-object-store.js';
import {
  AccessDeniedError,
  NoSuchBucketError,
  NoSuchKeyError,
  type ObjectStore,
} from '../../src/delivery/object-store.js';
import { LIFECYCLE_RULE_ID, LifecycleUnsupportedError } from '../../src/delivery/s3/s3-object-store.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';

// Every process warning of this test process, to prove the AWS SDK's Node 20 warning stays silent.
const warnings: Error[] = [];
process.on('warning', (w) => warnings.push(w));

const DAY_MS = 86_400_000;
const FS_MODULE_URL = new URL('../../src/delivery/fs/fs-object-store.js', import.meta.url).href;
const S3_MODULE_URL = new URL('../../src/delivery/s3/s3-object-store.js', import.meta.url).href;

const TRACE_KEY =
  'CloudTraces/local-1/2026/11/25/system/CTS/x_CloudTrace_local-1_2026-11-25T13-00-00Z_0123456789abcdef.json.gz';
const DIGEST_KEY =
  'CloudTraces/local-1/2026/11/25/system/Digest/CTS/x_CloudTrace-Digest_local-1_2026-11-25T14-00-00Z.json.gz';
const SIGNATURE = 'ab'.repeat(256); // 512 hex digits, like an RSA-2048 signature

function gzipTraces(count: number, marker = 'a'): Buffer {
  const traces = Array.from({ length: count }, (_, i) => ({
    trace_id: `${marker}-${i}`,
    trace_name: 'createTracker',
    service_type: 'CTS',
    time: 1_795_000_000_000 + i,
  }));
  return gzipSync(Buffer.from(JSON.stringify(traces)));
}

async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

function runNode(
  args: readonly string[],
  options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
      killSignal: 'SIGKILL',
      ...options,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

interface Harness {
  readonly store: ObjectStore;
  /** When the store cannot keep a lifecycle rule: why, and the error setLifecycle(N > 0) gives. */
  readonly lifecycleUnsupported?: { readonly reason: string; readonly error: new (...args: never[]) => Error };
  close(): Promise<void>;
}

function objectStoreContract(name: string, open: () => Promise<Harness>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let harness: Harness;
    let store: ObjectStore;
    let counter = 0;
    const bucketName = () => `contract-${++counter}-${process.pid}`;
    const freshBucket = async () => {
      const bucket = bucketName();
      await store.createBucket(bucket);
      return bucket;
    };

    before(async () => {
      harness = await open();
      store = harness.store;
    });
    after(async () => harness.close());

    it('probe resolves while the store answers (readiness)', async () => {
      await store.probe(5000);
    });

    it('creates a bucket once: bucketExists turns true, a second create is BucketExistsError', async () => {
      const bucket = bucketName();
      assert.equal(await store.bucketExists(bucket), false);
      await store.createBucket(bucket);
      assert.equal(await store.bucketExists(bucket), true);
      await assert.rejects(store.createBucket(bucket), BucketExistsError);
      assert.equal(await store.bucketExists(bucket), true);
    });

    it('round-trips gzip bytes with content type, encoding and signature metadata', async () => {
      const bucket = await freshBucket();
      const body = gzipTraces(50);
      assert.ok(body.includes(0x00) || body.includes(0xff), 'binary bytes in the body');
      await store.putObject({
        bucket,
        key: DIGEST_KEY,
        body,
        contentType: 'application/json',
        contentEncoding: 'gzip',
        metadata: { signature: SIGNATURE, 'signature-algorithm': 'SHA256withRSA' },
      });
      const got = await store.getObject(bucket, DIGEST_KEY);
      assert.equal(got.key, DIGEST_KEY);
      assert.ok(Buffer.from(got.body).equals(body), 'same bytes back (not decompressed on the way)');
      assert.deepEqual({ ...got.metadata }, { signature: SIGNATURE, 'signature-algorithm': 'SHA256withRSA' });
      assert.equal((JSON.parse(gunzipSync(got.body).toString()) as unknown[]).length, 50);
    });

    it('returns metadata keys in lower case', async () => {
      const bucket = await freshBucket();
      await store.putObject({
        bucket,
        key: 'k.json',
        body: Buffer.from('{}'),
        contentType: 'application/json',
        metadata: { Signature: 'AB01', 'Signature-Algorithm': 'SHA256withRSA' },
      });
      assert.deepEqual(
        { ...(await store.getObject(bucket, 'k.json')).metadata },
        {
          signature: 'AB01',
          'signature-algorithm': 'SHA256withRSA',
        },
      );
    });

    it('overwriting a key replaces the object: new bytes, new metadata, still one object', async () => {
      const bucket = await freshBucket();
      const first = gzipTraces(200, 'first');
      const second = gzipTraces(3, 'second');
      await store.putObject({
        bucket,
        key: TRACE_KEY,
        body: first,
        contentType: 'application/json',
        contentEncoding: 'gzip',
        metadata: { signature: 'old' },
      });
      await store.putObject({ bucket, key: TRACE_KEY, body: second, contentType: 'application/json' });
      const got = await store.getObject(bucket, TRACE_KEY);
      assert.ok(Buffer.from(got.body).equals(second));
      assert.deepEqual({ ...got.metadata }, {});
      const listed = await store.listObjects(bucket, '');
      assert.deepEqual(
        listed.map((o) => [o.key, o.size]),
        [[TRACE_KEY, second.length]],
      );
    });

    it('lists by prefix in UTF-8 key order with sizes, and nothing but the objects put', async () => {
      const bucket = await freshBucket();
      const base = 'CloudTraces/local-1/2026/11';
      const keys = [
        `${base}/26/system/CTS/y.json.gz`,
        `${base}/25/system/CTS/b.json.gz`,
        `other/z.json`,
        `${base}/25/system/Digest/CTS/d.json.gz`,
        `${base}/25/system-2/CTS/x.json.gz`,
        `${base}/25/system/CTS/a.json.gz`,
      ];
      const before = Date.now();
      for (const [i, key] of keys.entries()) {
        await store.putObject({
          bucket,
          key,
          body: Buffer.alloc(10 + i, i),
          contentType: 'application/json',
          contentEncoding: 'gzip',
          metadata: { signature: `s${i}` },
        });
      }
      const afterPut = Date.now();
      const sizeOf = (key: string) => 10 + keys.indexOf(key);
      // '-' (0x2d) sorts before '/' (0x2f): system-2/… comes before system/….
      const all = [
        `${base}/25/system-2/CTS/x.json.gz`,
        `${base}/25/system/CTS/a.json.gz`,
        `${base}/25/system/CTS/b.json.gz`,
        `${base}/25/system/Digest/CTS/d.json.gz`,
        `${base}/26/system/CTS/y.json.gz`,
        `other/z.json`,
      ];
      const listed = await store.listObjects(bucket, '');
      assert.deepEqual(
        listed.map((o) => [o.key, o.size]),
        all.map((k) => [k, sizeOf(k)]),
      );
      for (const o of listed) {
        // s3rver and S3 report whole seconds.
        assert.ok(o.lastModified >= before - 2000 && o.lastModified <= afterPut + 2000, `lastModified of ${o.key}`);
      }
      const keysOf = async (prefix: string) => (await store.listObjects(bucket, prefix)).map((o) => o.key);
      assert.deepEqual(await keysOf(`${base}/25/system/`), all.slice(1, 4));
      assert.deepEqual(await keysOf(`${base}/25/system/CTS/`), all.slice(1, 3));
      assert.deepEqual(await keysOf(`${base}/25/sys`), all.slice(0, 4), 'a prefix may end inside a segment');
      assert.deepEqual(await keysOf(`${base}/2`), all.slice(0, 5));
      assert.deepEqual(await keysOf('CloudTraces/'), all.slice(0, 5));
      assert.deepEqual(await keysOf('other/z.json'), ['other/z.json']);
      assert.deepEqual(await keysOf('nothing/'), []);
      assert.deepEqual(await keysOf(`${base}/25/system/CTS/a.json.gz/`), []);
    });

    it('a missing bucket is NoSuchBucketError for put, get, list, delete and setLifecycle', async () => {
      const missing = bucketName();
      const put = store.putObject({ bucket: missing, key: TRACE_KEY, body: gzipTraces(1), contentType: 'x' });
      await assert.rejects(put, NoSuchBucketError);
      await assert.rejects(store.getObject(missing, TRACE_KEY), NoSuchBucketError);
      await assert.rejects(store.listObjects(missing, ''), NoSuchBucketError);
      await assert.rejects(store.deleteObject(missing, TRACE_KEY), NoSuchBucketError);
      await assert.rejects(store.setLifecycle(missing, 30), NoSuchBucketError);
      assert.equal(await store.bucketExists(missing), false, 'put did not create the bucket');
    });

    it('a missing key is NoSuchKeyError, also for a key that is only a folder of other keys', async () => {
      const bucket = await freshBucket();
      await assert.rejects(store.getObject(bucket, TRACE_KEY), NoSuchKeyError);
      await store.putObject({ bucket, key: TRACE_KEY, body: gzipTraces(1), contentType: 'application/json' });
      await assert.rejects(store.getObject(bucket, 'CloudTraces/local-1/2026'), NoSuchKeyError);
      await assert.rejects(store.getObject(bucket, `${TRACE_KEY}.missing`), NoSuchKeyError);
    });

    it('delete removes the object; deleting a missing key is not an error', async () => {
      const bucket = await freshBucket();
      const other = TRACE_KEY.replace('0123456789abcdef', 'fedcba9876543210');
      for (const key of [TRACE_KEY, other]) {
        await store.putObject({
          bucket,
          key,
          body: gzipTraces(2),
          contentType: 'application/json',
          metadata: { a: 'b' },
        });
      }
      await store.deleteObject(bucket, TRACE_KEY);
      await assert.rejects(store.getObject(bucket, TRACE_KEY), NoSuchKeyError);
      assert.deepEqual(
        (await store.listObjects(bucket, '')).map((o) => o.key),
        [other],
      );
      await store.deleteObject(bucket, TRACE_KEY);
      await store.deleteObject(bucket, 'never/was/there.json');
      await store.deleteObject(bucket, other);
      assert.deepEqual(await store.listObjects(bucket, ''), []);
      // The key can be written again after a delete.
      await store.putObject({ bucket, key: TRACE_KEY, body: Buffer.from('again'), contentType: 'text/plain' });
      assert.equal(Buffer.from((await store.getObject(bucket, TRACE_KEY)).body).toString(), 'again');
    });

    it('applyLifecycle without a rule deletes nothing', async () => {
      const bucket = await freshBucket();
      await store.putObject({ bucket, key: TRACE_KEY, body: gzipTraces(1), contentType: 'application/json' });
      assert.equal(await store.applyLifecycle(bucket, Date.now() + 10_000 * DAY_MS), 0);
      assert.equal((await store.listObjects(bucket, '')).length, 1);
    });

    it('setLifecycle(bucket, 0) (keep forever) succeeds', async () => {
      const bucket = await freshBucket();
      await store.setLifecycle(bucket, 0);
      await store.setLifecycle(bucket, 0);
    });

    it('setLifecycle(bucket, 30) keeps objects for 30 days', async (t) => {
      const bucket = await freshBucket();
      const unsupported = harness.lifecycleUnsupported;
      if (unsupported) {
        // The mapping is still checked; only the "rule is stored" assertion is skipped.
        await assert.rejects(store.setLifecycle(bucket, 30), unsupported.error);
        t.skip(unsupported.reason);
        return;
      }
      await store.setLifecycle(bucket, 30);
      await store.setLifecycle(bucket, 90);
      await store.setLifecycle(bucket, 0);
    });
  });
}

objectStoreContract('fs (FsObjectStore, temp folder)', async () => {
  const root = await tempDir('opencts-fs-store-');
  return {
    store: new FsObjectStore(root),
    close: () => rm(root, { recursive: true, force: true }),
  };
});

objectStoreContract('s3 (S3ObjectStore, s3rver 3.7.1)', async () => {
  const server = await startS3rver();
  return {
    store: server.makeStore(),
    lifecycleUnsupported: {
      reason: 's3rver 3.7.1 answers 501 NotImplemented to PutBucketLifecycleConfiguration',
      error: LifecycleUnsupportedError,
    },
    close: () => server.stop(),
  };
});

// ---------------------------------------------------------------------------------------------
// fs only
// ---------------------------------------------------------------------------------------------

describe('FsObjectStore (fs only)', () => {
  let root: string;
  let store: FsObjectStore;
  let counter = 0;
  const freshBucket = async () => {
    const bucket = `fs-${++counter}`;
    await store.createBucket(bucket);
    return bucket;
  };

  before(async () => {
    root = await tempDir('opencts-fs-only-');
    store = new FsObjectStore(root);
  });
  after(async () => {
    await chmod(root, 0o755).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  it('lays objects out as <root>/<bucket>/<key>, metadata in <bucket>/.opencts-metadata/<key>.json', async () => {
    const bucket = await freshBucket();
    const body = gzipTraces(5);
    await store.putObject({
      bucket,
      key: DIGEST_KEY,
      body,
      contentType: 'application/json',
      contentEncoding: 'gzip',
      metadata: { signature: SIGNATURE, 'signature-algorithm': 'SHA256withRSA' },
    });
    const file = path.join(root, bucket, ...DIGEST_KEY.split('/'));
    assert.ok((await readFile(file)).equals(body));
    const sidecar = path.join(root, bucket, '.opencts-metadata', ...DIGEST_KEY.split('/')) + '.json';
    assert.deepEqual(JSON.parse(await readFile(sidecar, 'utf8')), {
      content_type: 'application/json',
      content_encoding: 'gzip',
      metadata: { signature: SIGNATURE, 'signature-algorithm': 'SHA256withRSA' },
    });
    // No temp file is left beside the object or its metadata.
    assert.deepEqual(readdirSync(path.dirname(file)), [path.basename(file)]);
    assert.deepEqual(readdirSync(path.dirname(sidecar)), [path.basename(sidecar)]);
    // A copied bucket folder keeps its signatures.
    const otherRoot = await tempDir('opencts-fs-copy-');
    try {
      await cp(path.join(root, bucket), path.join(otherRoot, 'copied'), { recursive: true });
      const copy = new FsObjectStore(otherRoot);
      const got = await copy.getObject('copied', DIGEST_KEY);
      assert.equal(got.metadata.signature, SIGNATURE);
      assert.deepEqual(
        (await copy.listObjects('copied', '')).map((o) => o.key),
        [DIGEST_KEY],
      );
    } finally {
      await rm(otherRoot, { recursive: true, force: true });
    }
  });

  it('an object dropped into the folder by hand is listed and read, with no metadata', async () => {
    const bucket = await freshBucket();
    await mkdir(path.join(root, bucket, 'manual'), { recursive: true });
    await writeFile(path.join(root, bucket, 'manual', 'file.json'), '[]');
    assert.deepEqual(
      (await store.listObjects(bucket, '')).map((o) => [o.key, o.size]),
      [['manual/file.json', 2]],
    );
    assert.deepEqual({ ...(await store.getObject(bucket, 'manual/file.json')).metadata }, {});
  });

  it('writes atomically: a writer SIGKILLed mid-write leaves a whole object under the real name', async (t) => {
    const bucket = await freshBucket();
    const key = 'CloudTraces/local-1/2026/11/25/system/CTS/big.json.gz';
    const folder = path.join(root, bucket, ...key.split('/').slice(0, -1));
    const size = 32 * 1024 * 1024;
    // Writes version 1, 2, 3… of one key, each a body of `size` bytes all equal to the version.
    const script = `
      import { FsObjectStore } from ${JSON.stringify(FS_MODULE_URL)};
      const [root, bucket, key, size] = process.argv.slice(1);
      const store = new FsObjectStore(root);
      for (let v = 1; ; v++) {
        const body = Buffer.alloc(Number(size), v);
        await store.putObject({ bucket, key, body, contentType: 'application/octet-stream', metadata: { version: String(v) } });
        process.stdout.write('done ' + v + '\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, root, bucket, key, String(size)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Once version 1 is complete, kill the writer while a temp file of a later version is being written.
    const deadline = Date.now() + 30_000;
    let killedAt: { temp: string; bytes: number } | undefined;
    try {
      while (!killedAt) {
        assert.ok(Date.now() < deadline, `no temp file seen; child stdout ${out} stderr ${err}`);
        assert.equal(child.exitCode, null, `writer exited early: ${err}`);
        if (out.includes('done 1\n')) {
          for (const name of existsSync(folder) ? readdirSync(folder) : []) {
            if (!name.startsWith('.opencts-tmp-')) continue;
            const bytes = statSync(path.join(folder, name), { throwIfNoEntry: false })?.size ?? 0;
            if (bytes > 0) {
              child.kill('SIGKILL');
              killedAt = { temp: name, bytes };
              break;
            }
          }
        }
        if (!killedAt) await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      // Never leave the writer running (it would keep this test process alive).
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    t.diagnostic(`killed while temp ${killedAt.temp} had ${killedAt.bytes} of ${size} bytes`);
    const real = await readFile(path.join(folder, 'big.json.gz'));
    assert.equal(real.length, size, 'the object under the real name is whole');
    const version = real[0]!;
    assert.ok(real.equals(Buffer.alloc(size, version)), 'and of one version only');
    const got = await store.getObject(bucket, key);
    assert.ok(Buffer.from(got.body).equals(real));
    // Metadata is written first, so it is the object's version or the next one, never older.
    assert.ok(
      [String(version), String(version + 1)].includes(got.metadata.version ?? ''),
      `metadata version ${got.metadata.version} for object version ${version}`,
    );
    // A leftover temp file is not an object.
    assert.deepEqual(
      (await store.listObjects(bucket, '')).map((o) => [o.key, o.size]),
      [[key, size]],
    );
    // The store keeps working after the crash.
    await store.putObject({ bucket, key, body: Buffer.from('after'), contentType: 'text/plain' });
    assert.equal(Buffer.from((await store.getObject(bucket, key)).body).toString(), 'after');
    assert.deepEqual(
      (await store.listObjects(bucket, '')).map((o) => o.key),
      [key],
    );
  });

  it('refuses keys that are not a safe relative path (InvalidObjectKeyError)', async () => {
    const bucket = await freshBucket();
    const bad = [
      '',
      '/etc/passwd',
      '../escape.json',
      'a/../../escape.json',
      'a/./b',
      'a/..',
      'a//b',
      'folder/',
      'nul\0byte',
      '.opencts-metadata/x.json',
      'a/.opencts-tmp-123',
      '.opencts',
      'a/.openctsanything/b',
      'x'.repeat(1025),
    ];
    for (const key of bad) {
      const label = JSON.stringify(key.slice(0, 40));
      await assert.rejects(
        store.putObject({ bucket, key, body: Buffer.from('x'), contentType: 'text/plain' }),
        InvalidObjectKeyError,
        `put ${label}`,
      );
      await assert.rejects(store.getObject(bucket, key), InvalidObjectKeyError, `get ${label}`);
      await assert.rejects(store.deleteObject(bucket, key), InvalidObjectKeyError, `delete ${label}`);
    }
    assert.ok(new InvalidObjectKeyError('x') instanceof Error);
    assert.deepEqual(readdirSync(path.join(root, bucket)), [], 'nothing was written');
    assert.ok(!existsSync(path.join(root, 'escape.json')));
    // Unusual but safe keys are fine.
    const fine = ['.hidden', 'a/..b', 'a/b..', 'dir.with.dots/x', 'spaces and ünïcode/ä €.json', 'opencts/x'];
    for (const key of fine) {
      await store.putObject({ bucket, key, body: Buffer.from(key), contentType: 'text/plain' });
      assert.equal(Buffer.from((await store.getObject(bucket, key)).body).toString(), key);
    }
    const sorted = [...fine].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(
      (await store.listObjects(bucket, '')).map((o) => o.key),
      sorted,
    );
  });

  it('refuses bucket names that are not one folder name, and list prefixes cannot leave the bucket', async () => {
    for (const name of ['', '.', '..', '../x', 'a/b', '.opencts', 'nul\0', 'back\\slash']) {
      await assert.rejects(store.createBucket(name), /invalid bucket name/, JSON.stringify(name));
      assert.equal(await store.bucketExists(name), false);
      await assert.rejects(store.putObject({ bucket: name, key: 'k', body: Buffer.from('x'), contentType: 't' }));
    }
    const inside = await freshBucket();
    const outside = await freshBucket();
    await store.putObject({ bucket: outside, key: 'secret.json', body: Buffer.from('s'), contentType: 't' });
    for (const prefix of [`../${outside}/`, `../${outside}/secret`, '/etc/', `a/../../${outside}/`]) {
      assert.deepEqual(await store.listObjects(inside, prefix), [], prefix);
    }
  });

  it('a key clashing with a folder of other keys is ObjectKeyConflictError, and changes nothing', async () => {
    const bucket = await freshBucket();
    await store.putObject({ bucket, key: 'x/y', body: Buffer.from('object'), contentType: 'text/plain' });
    // 'x/y' is a file, so 'x/y/z' would need it as a folder (mkdir: ENOTDIR).
    await assert.rejects(
      store.putObject({ bucket, key: 'x/y/z', body: Buffer.from('z'), contentType: 't', metadata: { a: 'b' } }),
      ObjectKeyConflictError,
    );
    // 'x' is a folder, so it cannot be a file.
    await assert.rejects(
      store.putObject({ bucket, key: 'x', body: Buffer.from('x'), contentType: 't', metadata: { a: 'b' } }),
      ObjectKeyConflictError,
    );
    assert.equal(Buffer.from((await store.getObject(bucket, 'x/y')).body).toString(), 'object');
    assert.deepEqual(
      (await store.listObjects(bucket, '')).map((o) => o.key),
      ['x/y'],
    );
    const metadataDir = path.join(root, bucket, '.opencts-metadata');
    assert.ok(!existsSync(path.join(metadataDir, 'x', 'y', 'z.json')), 'no metadata for the refused key');
    assert.ok(!existsSync(path.join(metadataDir, 'x.json')), 'no metadata for the refused key');
  });

  it('applyLifecycle deletes objects older than the rule with their metadata, stale temp files and empty folders', async () => {
    const bucket = await freshBucket();
    const now = Date.now();
    const oldKeys = [
      'CloudTraces/r/2026/10/01/system/CTS/old1.json.gz',
      'CloudTraces/r/2026/10/01/system/CTS/old2.json.gz',
    ];
    const borderKey = 'CloudTraces/r/2026/10/26/system/CTS/border.json.gz';
    const newKey = 'CloudTraces/r/2026/11/25/system/CTS/new.json.gz';
    for (const key of [...oldKeys, borderKey, newKey]) {
      await store.putObject({
        bucket,
        key,
        body: gzipTraces(1),
        contentType: 'application/json',
        metadata: { s: key },
      });
    }
    const fileOf = (key: string) => path.join(root, bucket, ...key.split('/'));
    const sidecarOf = (key: string) => path.join(root, bucket, '.opencts-metadata', ...key.split('/')) + '.json';
    const at = (ms: number) => new Date(ms);
    for (const key of oldKeys) await utimes(fileOf(key), at(now - 40 * DAY_MS), at(now - 40 * DAY_MS));
    await utimes(fileOf(borderKey), at(now - 29 * DAY_MS), at(now - 29 * DAY_MS));
    // A temp file left by a crash a week ago, and one being written now.
    const newFolder = path.dirname(fileOf(newKey));
    await writeFile(path.join(newFolder, '.opencts-tmp-stale'), 'half');
    await utimes(path.join(newFolder, '.opencts-tmp-stale'), at(now - 7 * DAY_MS), at(now - 7 * DAY_MS));
    await writeFile(path.join(newFolder, '.opencts-tmp-fresh'), 'half');

    assert.equal(await store.applyLifecycle(bucket, now), 0, 'no rule yet');
    await store.setLifecycle(bucket, 0);
    assert.equal(await store.applyLifecycle(bucket, now), 0, 'a rule of 0 days keeps everything');
    await store.setLifecycle(bucket, 30);
    assert.deepEqual(JSON.parse(await readFile(path.join(root, '.opencts', bucket, 'lifecycle.json'), 'utf8')), {
      expiration_days: 30,
    });

    assert.equal(await store.applyLifecycle(bucket, now), 2);
    assert.deepEqual(
      (await store.listObjects(bucket, '')).map((o) => o.key),
      [borderKey, newKey],
    );
    for (const key of oldKeys) {
      assert.ok(!existsSync(fileOf(key)) && !existsSync(sidecarOf(key)), `${key} and its metadata are gone`);
    }
    assert.ok(existsSync(sidecarOf(newKey)));
    assert.ok(!existsSync(path.join(root, bucket, 'CloudTraces/r/2026/10/01')), 'emptied folders are removed');
    assert.ok(!existsSync(path.join(root, bucket, '.opencts-metadata/CloudTraces/r/2026/10/01')));
    assert.ok(existsSync(path.join(root, bucket, 'CloudTraces/r/2026/10/26')), 'a folder still holding objects stays');
    assert.deepEqual(readdirSync(newFolder).sort(), ['.opencts-tmp-fresh', 'new.json.gz']);

    assert.equal(await store.applyLifecycle(bucket, now), 0, 'nothing more to delete');
    assert.equal(await store.applyLifecycle(bucket, now + 2 * DAY_MS), 1, 'the border object expires two days later');
    await assert.rejects(store.applyLifecycle('no-such-bucket', now), NoSuchBucketError);
    await assert.rejects(store.setLifecycle(bucket, -1), RangeError);
  });

  it('AccessDeniedError when the bucket folder is not writable or an object not readable', async (t) => {
    const bucket = await freshBucket();
    await store.putObject({ bucket, key: 'secret/a.json', body: Buffer.from('{}'), contentType: 'application/json' });
    const bucketDir = path.join(root, bucket);
    const secretFile = path.join(bucketDir, 'secret', 'a.json');
    if (process.getuid?.() !== 0) {
      await chmod(bucketDir, 0o555);
      await chmod(path.join(bucketDir, 'secret'), 0o555);
      await chmod(secretFile, 0o000);
      try {
        const put = (key: string) => store.putObject({ bucket, key, body: Buffer.from('x'), contentType: 't' });
        await assert.rejects(put('new/b.json'), AccessDeniedError);
        await assert.rejects(put('secret/b.json'), AccessDeniedError);
        await assert.rejects(store.getObject(bucket, 'secret/a.json'), AccessDeniedError);
      } finally {
        await chmod(secretFile, 0o644);
        await chmod(path.join(bucketDir, 'secret'), 0o755);
        await chmod(bucketDir, 0o755);
      }
      return;
    }
    // root ignores permission bits: run the same calls in a child that drops to uid/gid 65534
    // (nobody), against the root-owned bucket (0755) and a root-only object (0600).
    t.diagnostic('running as root: checking permissions from a child process running as uid 65534');
    await chmod(root, 0o755);
    await chmod(secretFile, 0o600);
    const script = `
      import { FsObjectStore } from ${JSON.stringify(FS_MODULE_URL)};
      const [root, bucket] = process.argv.slice(1);
      const store = new FsObjectStore(root);
      const outcome = async (p) => p.then(() => 'ok', (e) => e.name);
      const put = (key) => store.putObject({ bucket, key, body: Buffer.from('x'), contentType: 't' });
      process.stdout.write(JSON.stringify({
        uid: process.getuid(),
        exists: await store.bucketExists(bucket),
        putNewFolder: await outcome(put('new/b.json')),
        putExistingFolder: await outcome(put('secret/b.json')),
        get: await outcome(store.getObject(bucket, 'secret/a.json')),
        list: await outcome(store.listObjects(bucket, '')),
      }));`;
    const result = await runNode(['--input-type=module', '-e', script, root, bucket], { uid: 65534, gid: 65534 });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      uid: 65534,
      exists: true,
      putNewFolder: 'AccessDeniedError',
      putExistingFolder: 'AccessDeniedError',
      get: 'AccessDeniedError',
      list: 'ok',
    });
    assert.ok(!existsSync(path.join(bucketDir, 'new')));
    assert.deepEqual(readdirSync(path.join(bucketDir, 'secret')), ['a.json'], 'no temp file left behind');
  });

  it('FsBuckets (the name runtime.ts uses) is the same store', async () => {
    const { FsBuckets } = await import('../../src/delivery/fs/fs-buckets.js');
    assert.equal(FsBuckets, FsObjectStore);
    const bucket = `fs-${++counter}`;
    const buckets = new FsBuckets(root);
    await buckets.createBucket(bucket);
    assert.equal(await store.bucketExists(bucket), true);
    assert.equal(buckets.bucketPath(bucket), path.join(root, bucket));
    assert.ok((await stat(path.join(root, bucket))).isDirectory());
  });
});

// ---------------------------------------------------------------------------------------------
// s3 only
// ---------------------------------------------------------------------------------------------

describe('S3ObjectStore (s3 only, s3rver)', () => {
  let server: RunningS3rver;
  before(async () => {
    server = await startS3rver();
  });
  after(async () => server.stop());

  it('follows ListObjectsV2 continuation tokens', async () => {
    const store = server.makeStore({ listPageSize: 2 });
    let listCalls = 0;
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListObjectsV2Command') listCalls++;
        return next(args);
      },
      { step: 'initialize', name: 'countListCalls' },
    );
    await store.createBucket('paging');
    // One flat folder: s3rver's walk order equals key order there (see test/support/s3rver.ts).
    const keys = ['page/k1', 'page/k2', 'page/k3', 'page/k4', 'page/k5'];
    for (const key of [...keys].reverse()) {
      await store.putObject({ bucket: 'paging', key, body: Buffer.from(key), contentType: 'text/plain' });
    }
    assert.deepEqual(
      (await store.listObjects('paging', 'page/')).map((o) => o.key),
      keys,
    );
    assert.equal(listCalls, 3, 'pages of 2, 2 and 1 keys');
  });

  it('a 403 (unknown access key) is AccessDeniedError for bucketExists, put, get and list', async () => {
    const good = server.makeStore();
    await good.createBucket('denied');
    await good.putObject({ bucket: 'denied', key: 'a.json', body: Buffer.from('{}'), contentType: 'application/json' });
    const stranger = server.makeStore({ credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'nothing' } });
    await assert.rejects(stranger.bucketExists('denied'), AccessDeniedError);
    await assert.rejects(
      stranger.putObject({ bucket: 'denied', key: 'b.json', body: Buffer.from('{}'), contentType: 'application/json' }),
      AccessDeniedError,
    );
    await assert.rejects(stranger.getObject('denied', 'a.json'), AccessDeniedError);
    await assert.rejects(stranger.listObjects('denied', ''), AccessDeniedError);
  });

  it("setLifecycle puts one Expiration rule and keeps the bucket's other rules (checked at the SDK boundary)", async () => {
    // s3rver has no lifecycle support, so the requests are answered by a stub in the SDK's
    // middleware stack instead: this checks what would be sent to a store that has it.
    const store = server.makeStore();
    const sent: { command: string; input: unknown }[] = [];
    const otherRule = { ID: 'users-own', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } };
    let existing: unknown[] | undefined;
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? '';
        if (!command.includes('BucketLifecycle')) return next(args);
        sent.push({ command, input: args.input });
        if (command === 'GetBucketLifecycleConfigurationCommand') {
          if (existing === undefined) {
            throw Object.assign(new Error('no lifecycle'), { name: 'NoSuchLifecycleConfiguration' });
          }
          return { output: { Rules: existing, $metadata: {} } as never, response: {} };
        }
        return { output: { $metadata: {} } as never, response: {} };
      },
      { step: 'initialize', name: 'lifecycleStub' },
    );
    const ours = (days: number) => ({
      ID: LIFECYCLE_RULE_ID,
      Status: 'Enabled',
      Filter: { Prefix: '' },
      Expiration: { Days: days },
    });

    existing = undefined;
    await store.setLifecycle('b', 30);
    assert.deepEqual(sent.splice(0), [
      { command: 'GetBucketLifecycleConfigurationCommand', input: { Bucket: 'b' } },
      {
        command: 'PutBucketLifecycleConfigurationCommand',
        input: { Bucket: 'b', LifecycleConfiguration: { Rules: [ours(30)] } },
      },
    ]);

    existing = [otherRule, ours(30)];
    await store.setLifecycle('b', 90);
    assert.deepEqual(sent.splice(0)[1], {
      command: 'PutBucketLifecycleConfigurationCommand',
      input: { Bucket: 'b', LifecycleConfiguration: { Rules: [otherRule, ours(90)] } },
    });

    await store.setLifecycle('b', 0);
    assert.deepEqual(sent.splice(0)[1], {
      command: 'PutBucketLifecycleConfigurationCommand',
      input: { Bucket: 'b', LifecycleConfiguration: { Rules: [otherRule] } },
    });

    existing = [ours(30)];
    await store.setLifecycle('b', 0);
    assert.deepEqual(sent.splice(0)[1], { command: 'DeleteBucketLifecycleCommand', input: { Bucket: 'b' } });

    existing = [otherRule];
    await store.setLifecycle('b', 0);
    assert.deepEqual(
      sent.splice(0).map((s) => s.command),
      ['GetBucketLifecycleConfigurationCommand'],
      'no rule of ours: nothing to change',
    );
    await assert.rejects(store.setLifecycle('b', 1.5), RangeError);
  });

  it('applyLifecycle is 0: the store expires objects itself', async () => {
    assert.equal(await server.makeStore().applyLifecycle('any', Date.now()), 0);
  });

  it('prints no NodeVersionSupportWarning (and an operator can still turn it back on)', async () => {
    const script = `
      import { S3ObjectStore } from ${JSON.stringify(S3_MODULE_URL)};
      const store = new S3ObjectStore({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      await store.bucketExists('x').catch(() => undefined);
      store.destroy();`;
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const quiet = await runNode(['--input-type=module', '-e', script], { env });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /NodeVersionSupportWarning/);
    if (Number(process.versions.node.split('.')[0]) < 22) {
      const loud = await runNode(['--input-type=module', '-e', script], {
        env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' },
      });
      assert.match(loud.stderr, /NodeVersionSupportWarning/, 'control: the SDK does warn when not switched off');
    }
    // And nothing in this test process warned either.
    assert.deepEqual(
      warnings.filter((w) => /NodeVersionSupportWarning/.test(`${w.name} ${w.message}`)).map((w) => w.message),
      [],
    );
  });
});
