/**
 * The object store on any S3-compatible service (OBS, MinIO, Ceph RGW, AWS S3) through
 * @aws-sdk/client-s3. S3 errors become the port's typed errors: NoSuchBucket → NoSuchBucketError,
 * NoSuchKey → NoSuchKeyError, AccessDenied or any 403 → AccessDeniedError. Lifecycle is the
 * store's own business (an Expiration rule), so applyLifecycle does nothing.
 *
 * Compatibility choices:
 * - Request checksums only where an operation requires one (`WHEN_REQUIRED`), and Content-MD5 on
 *   PutObject instead: every S3-compatible store checks Content-MD5, while the CRC32
 *   `x-amz-checksum-*` headers the SDK sends by default since 3.729 are not understood everywhere.
 * - Listing is sorted by UTF-8 bytes here too, because not every S3 clone lists in key order
 *   (s3rver 3.7.1 lists in folder-walk order).
 * - Stores without lifecycle support (s3rver answers 501 NotImplemented) have no rule to remove:
 *   setLifecycle(…, 0) succeeds there, and a rule of N days fails with LifecycleUnsupportedError.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { BucketExistsError } from '../buckets.js';
import {
  AccessDeniedError,
  NoSuchBucketError,
  NoSuchKeyError,
  ObjectStoreUnreachableError,
  type ObjectMetadata,
  type ObjectStore,
  type ObjectSummary,
  type PutObjectInput,
  type StoredObject,
} from '../object-store.js';

export interface S3ObjectStoreOptions {
  /** e.g. `https://obs.eu-de.otc.t-systems.com`; omitted = AWS S3 of `region`. */
  readonly endpoint?: string;
  readonly region: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key` (MinIO, s3rver, most self-hosted). */
  readonly forcePathStyle: boolean;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** ListObjectsV2 page size; S3's maximum and default is 1000. */
  readonly listPageSize?: number;
}

/** The store does not implement bucket lifecycle rules (S3 error NotImplemented). */
export class LifecycleUnsupportedError extends Error {
  override name = 'LifecycleUnsupportedError';
}

/** The ID of the one lifecycle rule this store manages; other rules of the bucket are kept. */
export const LIFECYCLE_RULE_ID = 'opencts-retention';

const MAX_SOCKETS = 64;
/** The bucket name readiness probes ask about (its existence does not matter). */
const PROBE_BUCKET = 'opencts-readiness-probe';
const CONNECTION_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 120_000;

function s3ErrorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** The port's typed error for an SDK error, or the error itself. */
function mapS3Error(err: unknown, what: string): unknown {
  const name = s3ErrorName(err);
  const message = `${what}: ${name ?? 'error'}: ${(err as Error | undefined)?.message ?? String(err)}`;
  if (name === 'NoSuchBucket') return new NoSuchBucketError(message, { cause: err });
  if (name === 'NoSuchKey') return new NoSuchKeyError(message, { cause: err });
  if (name === 'AccessDenied' || httpStatus(err) === 403) return new AccessDeniedError(message, { cause: err });
  return err;
}

function isNotImplemented(err: unknown): boolean {
  return s3ErrorName(err) === 'NotImplemented' || httpStatus(err) === 501;
}

function lowerCaseKeys(metadata: ObjectMetadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) out[k.toLowerCase()] = v;
  return out;
}

function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly region: string;
  private readonly listPageSize: number;

  constructor(options: S3ObjectStoreOptions) {
    // The SDK warns on every Node 20 start that its releases from January 2027 need Node 22.
    // OpenCTS pins the SDK for that reason, so the warning tells operators nothing they can act
    // on. This is the switch AWS documents for it (aws/aws-sdk-js-v3#7983); it is read when a
    // client is constructed. An operator's own setting (e.g. `false`) wins.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.region = options.region;
    this.listPageSize = options.listPageSize ?? 1000;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle,
      credentials: {
        accessKeyId: options.credentials.accessKeyId,
        secretAccessKey: options.credentials.secretAccessKey,
      },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Keep-alive connections; the SDK's default (standard, 3 attempts) retry strategy.
      requestHandler: {
        httpAgent: new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
        httpsAgent: new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
        connectionTimeout: CONNECTION_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
      },
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.destroy();
  }

  destroy(): void {
    this.client.destroy();
  }

  /**
   * A HeadBucket of a bucket nobody needs to own: any HTTP answer (404, 403, a redirect) shows the
   * endpoint is up; only no answer, or a 5xx, is down. No request is retried past the deadline.
   */
  async probe(timeoutMs: number): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: PROBE_BUCKET }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const status = httpStatus(err);
      if (status !== undefined && status < 500) return;
      const why = status === undefined ? `${s3ErrorName(err) ?? 'error'}: ${(err as Error).message}` : `HTTP ${status}`;
      throw new ObjectStoreUnreachableError(`S3 endpoint did not answer: ${why}`, { cause: err });
    }
  }

  // ---- buckets ----

  async bucketExists(name: string): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: name }));
      return true;
    } catch (err) {
      const status = httpStatus(err);
      if (status === 404 || s3ErrorName(err) === 'NoSuchBucket' || s3ErrorName(err) === 'NotFound') return false;
      if (status === 403) {
        throw new AccessDeniedError(`head bucket ${name}: 403 Forbidden`, { cause: err });
      }
      throw mapS3Error(err, `head bucket ${name}`);
    }
  }

  async createBucket(name: string): Promise<void> {
    // Outside us-east-1, S3 (and OBS) want the bucket's region in the request.
    // (AWS us-east-1 answers 200 to re-creating one's own bucket, so there no BucketExistsError.)
    const configuration =
      this.region === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: this.region as BucketLocationConstraint } };
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: name, ...configuration }));
    } catch (err) {
      const errName = s3ErrorName(err);
      if (errName === 'BucketAlreadyOwnedByYou' || errName === 'BucketAlreadyExists') {
        throw new BucketExistsError(name, { cause: err });
      }
      throw mapS3Error(err, `create bucket ${name}`);
    }
  }

  /**
   * An Expiration rule of `days` days for the whole bucket (0 = remove the rule: keep forever).
   * S3 replaces a bucket's whole lifecycle configuration at once, so the other rules of the bucket
   * are read first and kept.
   */
  async setLifecycle(name: string, days: number): Promise<void> {
    if (!Number.isInteger(days) || days < 0) throw new RangeError(`lifecycle days must be an integer >= 0: ${days}`);
    let rules: LifecycleRule[];
    try {
      const current = await this.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: name }));
      rules = current.Rules ?? [];
    } catch (err) {
      if (s3ErrorName(err) === 'NoSuchLifecycleConfiguration') {
        rules = [];
      } else if (isNotImplemented(err)) {
        if (days === 0) return; // no lifecycle support: there is no rule to remove
        throw new LifecycleUnsupportedError(`bucket ${name}: the store does not implement lifecycle rules`, {
          cause: err,
        });
      } else {
        throw mapS3Error(err, `get lifecycle of bucket ${name}`);
      }
    }
    const others = rules.filter((rule) => rule.ID !== LIFECYCLE_RULE_ID);
    try {
      if (days === 0) {
        if (others.length === rules.length) return;
        if (others.length === 0) {
          await this.client.send(new DeleteBucketLifecycleCommand({ Bucket: name }));
        } else {
          await this.client.send(
            new PutBucketLifecycleConfigurationCommand({ Bucket: name, LifecycleConfiguration: { Rules: others } }),
          );
        }
        return;
      }
      const rule: LifecycleRule = {
        ID: LIFECYCLE_RULE_ID,
        Status: 'Enabled',
        Filter: { Prefix: '' },
        Expiration: { Days: days },
      };
      await this.client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: name,
          LifecycleConfiguration: { Rules: [...others, rule] },
        }),
      );
    } catch (err) {
      if (isNotImplemented(err)) {
        throw new LifecycleUnsupportedError(`bucket ${name}: the store does not implement lifecycle rules`, {
          cause: err,
        });
      }
      throw mapS3Error(err, `set lifecycle of bucket ${name}`);
    }
  }

  // ---- objects ----

  async putObject(input: PutObjectInput): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: input.bucket,
          Key: input.key,
          Body: input.body,
          ContentLength: input.body.byteLength,
          ContentMD5: createHash('md5').update(input.body).digest('base64'),
          ContentType: input.contentType,
          ...(input.contentEncoding !== undefined ? { ContentEncoding: input.contentEncoding } : {}),
          Metadata: lowerCaseKeys(input.metadata),
        }),
      );
    } catch (err) {
      throw mapS3Error(err, `put ${input.bucket}/${input.key}`);
    }
  }

  async getObject(bucket: string, key: string): Promise<StoredObject> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      return { key, body, metadata: lowerCaseKeys(out.Metadata) };
    } catch (err) {
      throw mapS3Error(err, `get ${bucket}/${key}`);
    }
  }

  async listObjects(bucket: string, prefix: string): Promise<ObjectSummary[]> {
    const found: ObjectSummary[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            MaxKeys: this.listPageSize,
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          found.push({ key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified?.getTime() ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (err) {
      throw mapS3Error(err, `list ${bucket}/${prefix}`);
    }
    return found.sort((a, b) => compareKeys(a.key, b.key));
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      throw mapS3Error(err, `delete ${bucket}/${key}`);
    }
  }

  /** The store expires objects itself (the rule of setLifecycle). */
  async applyLifecycle(_bucket: string, _now: number): Promise<number> {
    return 0;
  }
}
