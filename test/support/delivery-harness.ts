/**
 * Drives trace delivery and the digest chain with a FAKE clock: a real service (its own worker
 * idle: flush interval 1 h), a system tracker created through the API, traces reported with a
 * `service` key (or written in bulk through the store), and a second DeliveryWorker whose `now`
 * the test moves. Plus the helpers tamper tests need: copies of a bucket folder, digests and their
 * signature metadata, an attacker's RSA key, and `opencts verify --json`.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { Config } from '../../src/config.js';
import {
  decodeDigest,
  encodeDigest,
  SIGNATURE_ALGORITHM_METADATA,
  SIGNATURE_METADATA,
  signingString,
  type Digest,
} from '../../src/core/delivery/digest.js';
import type { Trace } from '../../src/core/trace/trace.js';
import { DeliveryWorker } from '../../src/delivery/delivery-worker.js';
import { FsObjectStore } from '../../src/delivery/fs/fs-object-store.js';
import type { ObjectStore } from '../../src/delivery/object-store.js';
import { fingerprintOf, signHex } from '../../src/delivery/signing-keys.js';
import type { VerifyReport } from '../../src/delivery/verify.js';
import type { IssuedCredential } from '../../src/service/identity-service.js';
import { runCli, type CliResult } from './cli.js';
import { startTestService, type TestService } from './service.js';
import { signedFetch, type CallResult } from './signed-fetch.js';

export const PERIOD_MS = 60_000;
export const FAKE_START_MS = Date.parse('2026-11-20T00:00:00Z');

/** A trace as another service reports it (ingest body item). */
export function reportedTrace(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    time: Date.now() - 60_000,
    user: { name: 'alice', id: 'u-alice', domain: { id: 'd-acme', name: 'acme' }, access_key_id: 'AKALICE' },
    service_type: 'ECS',
    resource_type: 'ecs',
    resource_id: 'vm-1',
    resource_name: 'web-1',
    trace_name: 'createServer',
    trace_rating: 'normal',
    trace_type: 'ApiCall',
    source_ip: '10.0.0.1',
    code: 200,
    ...overrides,
  };
}

/**
 * A temp dir on tmpfs when the machine has one: the fs object store fsyncs every object (a few
 * ms each on a disk), and a chain of a thousand digests writes thousands of objects.
 */
export async function fastTempDir(prefix: string): Promise<string> {
  try {
    if (statSync('/dev/shm').isDirectory()) return await mkdtemp(path.join('/dev/shm', prefix));
  } catch {
    // no tmpfs (or not writable): the ordinary temp dir
  }
  return mkdtemp(path.join(tmpdir(), prefix));
}

export interface DeliveryHarness {
  readonly svc: TestService;
  readonly admin: IssuedCredential;
  readonly reporter: IssuedCredential;
  readonly bucket: string;
  /** `<data-dir>/buckets/<bucket>`. */
  readonly bucketDir: string;
  /** The fake clock of `worker`: set it directly. */
  clock: number;
  readonly worker: DeliveryWorker;
  /** A worker on the same store and keys with another object store (fault injection). */
  workerWith(objects: ObjectStore): DeliveryWorker;
  api(method: string, apiPath: string, body?: unknown, query?: Record<string, string | number>): Promise<CallResult>;
  /** Reports traces with the `service` key; asserts 201 and returns the trace ids. */
  ingest(traces: Array<Record<string, unknown>>): Promise<string[]>;
  /** Writes system traces straight through the store (bulk, no HTTP). */
  insertTraces(count: number, time: number): Promise<void>;
  close(): Promise<void>;
}

export async function startDeliveryHarness(options: {
  bucket: string;
  tracker?: Record<string, unknown>;
  obsInfo?: Record<string, unknown>;
  config?: Partial<Config>;
}): Promise<DeliveryHarness> {
  const svc = await startTestService({
    dataDir: await fastTempDir('opencts-delivery-'),
    config: { flushIntervalMs: 3_600_000, digestIntervalMs: PERIOD_MS, ...options.config },
  });
  const { runtime } = svc.service;
  const admin = svc.credential;
  const reporter = await runtime.identity.createCredential({
    projectId: admin.project_id,
    domainId: admin.domain_id,
    user: 'ecs-service',
    role: 'service',
  });
  const api: DeliveryHarness['api'] = (method, apiPath, body, query) =>
    signedFetch(svc.url, admin, {
      method,
      path: `/v3/${admin.project_id}${apiPath}`,
      ...(body !== undefined ? { body } : {}),
      ...(query ? { query } : {}),
    });
  const created = await api('POST', '/tracker', {
    tracker_type: 'system',
    tracker_name: 'system',
    obs_info: { bucket_name: options.bucket, is_obs_created: true, file_prefix_name: 'pre', ...options.obsInfo },
    is_support_validate: true,
    ...options.tracker,
  });
  if (created.status !== 201) throw new Error(`create tracker: ${created.status} ${created.text}`);

  const logger = pino({ level: 'silent' });
  const harness: DeliveryHarness = {
    svc,
    admin,
    reporter,
    bucket: options.bucket,
    bucketDir: path.join(svc.dataDir, 'buckets', options.bucket),
    clock: FAKE_START_MS,
    worker: undefined as unknown as DeliveryWorker,
    workerWith: (objects) =>
      new DeliveryWorker({
        store: runtime.store,
        objects,
        keys: runtime.keys,
        region: svc.service.runtime.config.region,
        flushIntervalMs: 3_600_000,
        digestIntervalMs: PERIOD_MS,
        logger,
        now: () => harness.clock,
      }),
    api,
    async ingest(traces) {
      const res = await signedFetch(svc.url, reporter, {
        path: `/v3/${reporter.project_id}/traces`,
        body: { traces },
      });
      if (res.status !== 201) throw new Error(`ingest: ${res.status} ${res.text}`);
      return (res.json as { trace_ids: string[] }).trace_ids;
    },
    async insertTraces(count, time) {
      const traces: Trace[] = Array.from({ length: count }, (_, i) => ({
        trace_id: randomUUID(),
        trace_name: i % 2 ? 'createServer' : 'deleteVpc',
        trace_rating: 'normal',
        trace_type: 'ApiCall',
        event_type: 'system',
        tracker_name: 'system',
        project_id: admin.project_id,
        domain_id: admin.domain_id,
        service_type: i % 2 ? 'ECS' : 'VPC',
        resource_type: i % 2 ? 'ecs' : 'vpc',
        resource_id: `r-${i}`,
        time: time + i,
        record_time: time + i,
        source_ip: '10.0.0.1',
        code: '200',
        enterprise_project_id: '0',
        user: { name: 'alice', id: 'u-alice', domain: { id: admin.domain_id, name: 'acme' } },
      }));
      await runtime.store.changeTrackers(admin.project_id, () => ({ traces, result: undefined }));
    },
    close: () => svc.close(),
  };
  (harness as { worker: DeliveryWorker }).worker = harness.workerWith(runtime.objects);
  return harness;
}

// ---- tampering a copy of a bucket folder ----

export interface BucketCopy {
  /** `<tmp>/<bucket>`: same folder name, so digests' digest_bucket still matches. */
  readonly folder: string;
  readonly objects: FsObjectStore;
  readonly bucket: string;
  remove(): Promise<void>;
}

export async function copyBucket(bucketDir: string): Promise<BucketCopy> {
  const root = await fastTempDir('opencts-tamper-');
  const bucket = path.basename(bucketDir);
  const folder = path.join(root, bucket);
  await cp(bucketDir, folder, { recursive: true });
  return {
    folder,
    objects: new FsObjectStore(root),
    bucket,
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

export interface StoredDigest {
  readonly key: string;
  readonly digest: Digest;
  readonly bytes: Buffer;
  readonly signature: string;
}

/** The bucket's digests, oldest first. */
export async function listDigests(objects: ObjectStore, bucket: string): Promise<StoredDigest[]> {
  const keys = (await objects.listObjects(bucket, 'CloudTraces/'))
    .map((s) => s.key)
    .filter((k) => k.includes('/Digest/'))
    .sort();
  const out: StoredDigest[] = [];
  for (const key of keys) {
    const object = await objects.getObject(bucket, key);
    out.push({
      key,
      digest: decodeDigest(object.body),
      bytes: Buffer.from(object.body),
      signature: object.metadata[SIGNATURE_METADATA] ?? '',
    });
  }
  return out;
}

/** The bucket's trace files (not digests), sorted by key. */
export async function listTraceFiles(objects: ObjectStore, bucket: string): Promise<string[]> {
  return (await objects.listObjects(bucket, 'CloudTraces/'))
    .map((s) => s.key)
    .filter((k) => !k.includes('/Digest/'))
    .sort();
}

/** Stores a digest object with its signature metadata, as the worker does. */
export async function putDigest(
  objects: ObjectStore,
  bucket: string,
  key: string,
  bytes: Uint8Array,
  signature: string,
): Promise<void> {
  await objects.putObject({
    bucket,
    key,
    body: Buffer.from(bytes),
    contentType: 'application/json',
    contentEncoding: 'gzip',
    metadata: { [SIGNATURE_METADATA]: signature, [SIGNATURE_ALGORITHM_METADATA]: 'SHA256withRSA' },
  });
}

export interface AttackerKey {
  readonly fingerprint: string;
  readonly privateKeyPem: string;
  /** Encodes the digest and signs it the way the worker would; returns bytes and signature. */
  sign(digest: Digest): { bytes: Buffer; signature: string };
}

/** An RSA-2048 key pair the service does not know. */
export function attackerKey(): AttackerKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const fingerprint = fingerprintOf(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  return {
    fingerprint,
    privateKeyPem,
    sign(digest) {
      const bytes = encodeDigest(digest);
      return { bytes, signature: signHex(privateKeyPem, signingString(digest, bytes)) };
    },
  };
}

// ---- opencts verify ----

export interface VerifyRun {
  readonly cli: CliResult;
  /** The `--json` report (undefined when not asked for, or unparsable). */
  readonly report: VerifyReport | undefined;
}

export async function runVerify(folder: string, args: readonly string[] = []): Promise<VerifyRun> {
  const cli = await runCli(['verify', '--source', folder, '--tracker', 'system', ...args]);
  let report: VerifyReport | undefined;
  if (args.includes('--json')) {
    try {
      report = JSON.parse(cli.stdout) as VerifyReport;
    } catch {
      report = undefined;
    }
  }
  return { cli, report };
}

/** `opencts keys list --json` of a data dir, saved to a file for `--public-key`. */
export async function exportPublicKeys(dataDir: string, file: string): Promise<string> {
  const listed = await runCli(['keys', 'list', '--json', '--data-dir', dataDir]);
  if (listed.code !== 0) throw new Error(`keys list: ${listed.stderr}`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, listed.stdout);
  return file;
}

export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}
