/**
 * Offline verification of a tracker's trace files and digest chain, modelled on
 * `aws cloudtrail validate-logs`: walk the chain back from the newest digest, checking each
 * digest's location, signature (against trusted public keys, chosen by fingerprint), the hash of
 * every file it lists and the link to the previous digest, then name every file in the range that
 * no digest lists. Works on any ObjectStore: a bucket folder on disk, or S3.
 */
import {
  decodeDigest,
  parseDigestTime,
  sha256Hex,
  signingString,
  SIGNATURE_METADATA,
  type Digest,
} from '../core/delivery/digest.js';
import type { ObjectStore, ObjectSummary } from './object-store.js';
import { NoSuchKeyError } from './object-store.js';
import { verifyHex } from './signing-keys.js';

export type ProblemKind =
  | 'digest-unreadable'
  | 'digest-moved'
  | 'digest-signature'
  | 'digest-untrusted-key'
  | 'digest-missing'
  | 'digest-link'
  | 'digest-gap'
  | 'digest-not-in-chain'
  | 'file-missing'
  | 'file-modified'
  | 'file-not-listed'
  | 'chain-stale';

export interface Problem {
  readonly kind: ProblemKind;
  readonly key: string;
  readonly message: string;
}

export interface VerifyReport {
  readonly problems: Problem[];
  readonly digests: { valid: number; total: number };
  readonly files: { valid: number; total: number };
  readonly gaps: Array<{ from: string; to: string }>;
  readonly newestDigest: string | undefined;
}

export interface VerifyOptions {
  readonly objects: ObjectStore;
  readonly bucket: string;
  readonly tracker: string;
  /** fingerprint → PEM public key. */
  readonly trustedKeys: ReadonlyMap<string, string>;
  /** Only digests ending after `from` and no later than `to` (ms). */
  readonly from?: number;
  readonly to?: number;
  /** The end of the range for staleness checks (default: now). */
  readonly now?: number;
}

interface ParsedKey {
  readonly key: string;
  readonly isDigest: boolean;
  /** End time (digests) or planned delivery time (trace files), from the name. */
  readonly time: number;
}

const KEY = /^CloudTraces\/[^/]+\/\d{4}\/\d{2}\/\d{2}\/([^/]+)\/(.+)$/;
const NAME_TIME = /_(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)(?:_[0-9a-f]{16})?\.json(?:\.gz)?$/;

function parseKey(summary: ObjectSummary, tracker: string): ParsedKey | undefined {
  const m = KEY.exec(summary.key);
  if (!m || m[1] !== tracker) return undefined;
  const time = parseDigestTime(NAME_TIME.exec(summary.key)?.[1] ?? '');
  if (time === undefined) return undefined;
  return { key: summary.key, isDigest: m[2]!.startsWith('Digest/'), time };
}

/**
 * A digest as the worker writes it. Anything else (JSON `null`, `log_files` that is not a list of
 * {object, log_hash_value}, non-string links) is unreadable: reported, never trusted or followed.
 */
function isDigest(value: unknown): value is Digest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const d = value as Record<string, unknown>;
  const strings = [
    'digest_start_time',
    'digest_end_time',
    'digest_bucket',
    'digest_object',
    'digest_public_key_fingerprint',
    'previous_digest_object',
    'previous_digest_hash_value',
    'previous_digest_signature',
  ];
  return (
    strings.every((f) => typeof d[f] === 'string') &&
    Array.isArray(d['log_files']) &&
    (d['log_files'] as unknown[]).every(
      (f) =>
        typeof f === 'object' &&
        f !== null &&
        typeof (f as Record<string, unknown>)['object'] === 'string' &&
        typeof (f as Record<string, unknown>)['log_hash_value'] === 'string',
    )
  );
}

interface LoadedDigest {
  readonly key: string;
  readonly digest: Digest;
  readonly bytes: Uint8Array;
  readonly signature: string | undefined;
}

export async function verifyTrail(options: VerifyOptions): Promise<VerifyReport> {
  const { objects, bucket, tracker, trustedKeys } = options;
  const problems: Problem[] = [];
  const problem = (kind: ProblemKind, key: string, message: string) => problems.push({ kind, key, message });
  const summaries = await objects.listObjects(bucket, 'CloudTraces/');
  // Keys a digest names are fetched only when the bucket has them: a forged digest may name any
  // string, which the object store could refuse (`../x`, empty) instead of answering "no such key".
  const present = new Set(summaries.map((s) => s.key));
  const listed = summaries.map((s) => parseKey(s, tracker)).filter((k): k is ParsedKey => k !== undefined);
  const inRange = (t: number) =>
    (options.from === undefined || t > options.from) && (options.to === undefined || t <= options.to);
  const digestKeys = listed.filter((k) => k.isDigest && inRange(k.time)).sort((a, b) => b.time - a.time);
  const fileKeys = listed.filter((k) => !k.isDigest);

  const load = async (key: string): Promise<LoadedDigest | undefined> => {
    if (!present.has(key)) return undefined;
    let object;
    try {
      object = await objects.getObject(bucket, key);
    } catch (err) {
      if (err instanceof NoSuchKeyError) return undefined;
      throw err;
    }
    try {
      const digest = decodeDigest(object.body);
      if (!isDigest(digest)) throw new TypeError('not a digest');
      return { key, digest, bytes: object.body, signature: object.metadata[SIGNATURE_METADATA] };
    } catch {
      problem('digest-unreadable', key, 'digest file cannot be read (not a gzip-compressed digest JSON)');
      return { key, digest: undefined as unknown as Digest, bytes: object.body, signature: undefined };
    }
  };

  let validDigests = 0;
  let period = 0;
  const walked = new Set<string>();
  const listedFiles = new Map<string, string>(); // file key → expected hash
  const gaps: Array<{ from: string; to: string }> = [];
  let current = digestKeys[0] ? await load(digestKeys[0].key) : undefined;
  while (current) {
    walked.add(current.key);
    const { digest, key } = current;
    if (!digest) break;
    let valid = true;
    if (digest.digest_object !== key || digest.digest_bucket !== bucket) {
      problem('digest-moved', key, `digest says it is ${digest.digest_bucket}/${digest.digest_object}`);
      valid = false;
    }
    const publicKey = trustedKeys.get(digest.digest_public_key_fingerprint);
    if (!publicKey) {
      problem('digest-untrusted-key', key, `signed with an untrusted key ${digest.digest_public_key_fingerprint}`);
      valid = false;
    } else if (!current.signature || !verifyHex(publicKey, signingString(digest, current.bytes), current.signature)) {
      problem('digest-signature', key, 'signature does not match the digest');
      valid = false;
    }
    const start = parseDigestTime(digest.digest_start_time);
    const end = parseDigestTime(digest.digest_end_time);
    if (start !== undefined && end !== undefined) period = Math.max(period, end - start);
    for (const file of digest.log_files ?? []) listedFiles.set(file.object, file.log_hash_value);
    if (valid) validDigests++;
    if (!digest.previous_digest_object) break;
    if (options.from !== undefined && start !== undefined && start <= options.from) break;
    const previous = await load(digest.previous_digest_object);
    if (!previous) {
      problem('digest-missing', digest.previous_digest_object, `previous digest of ${key} is missing`);
      gaps.push({ from: digest.previous_digest_object, to: key });
      break;
    }
    if (sha256Hex(previous.bytes) !== digest.previous_digest_hash_value) {
      problem('digest-link', previous.key, `hash differs from what ${key} recorded`);
    }
    if (previous.signature !== digest.previous_digest_signature) {
      problem('digest-link', previous.key, `signature differs from what ${key} recorded`);
    }
    if (previous.digest && previous.digest.digest_end_time !== digest.digest_start_time) {
      problem(
        'digest-gap',
        key,
        `starts at ${digest.digest_start_time}, previous ended at ${previous.digest.digest_end_time}`,
      );
      gaps.push({ from: previous.digest.digest_end_time, to: digest.digest_start_time });
    }
    if (walked.has(previous.key)) break; // a loop: reported by the link checks above
    current = previous;
  }
  for (const d of digestKeys) {
    if (!walked.has(d.key)) problem('digest-not-in-chain', d.key, 'digest is not on the chain from the newest digest');
  }

  const newest = digestKeys[0];
  if (!newest && fileKeys.some((f) => inRange(f.time))) {
    // Without any digest nothing can be proven: deleting every digest must not pass as "valid".
    problem('digest-missing', `CloudTraces/*/${tracker}/Digest/`, 'trace files exist but no digest file does');
  }
  const now = options.to ?? options.now ?? Date.now();
  if (newest && period > 0 && now - newest.time > 2 * period) {
    problem(
      'chain-stale',
      newest.key,
      `newest digest ends ${Math.round((now - newest.time) / 1000)} s before the end of the range; later digests are missing`,
    );
  }

  let validFiles = 0;
  let totalFiles = 0;
  for (const [fileKey, expected] of listedFiles) {
    totalFiles++;
    let body;
    try {
      if (!present.has(fileKey)) throw new NoSuchKeyError(`no object ${fileKey}`);
      body = (await objects.getObject(bucket, fileKey)).body;
    } catch (err) {
      if (err instanceof NoSuchKeyError) {
        problem('file-missing', fileKey, 'listed by a digest but missing');
        continue;
      }
      throw err;
    }
    if (sha256Hex(body) !== expected) problem('file-modified', fileKey, 'hash differs from the digest');
    else validFiles++;
  }
  // A file named before the last covered period should be in a digest; one that is not was slipped in.
  const coveredUntil = newest ? newest.time - period : -Infinity;
  for (const file of fileKeys) {
    if (listedFiles.has(file.key) || !inRange(file.time)) continue;
    if (file.time < coveredUntil) {
      totalFiles++;
      problem('file-not-listed', file.key, 'trace file is not listed by any digest');
    }
  }
  return {
    problems,
    digests: { valid: validDigests, total: digestKeys.length },
    files: { valid: validFiles, total: totalFiles },
    gaps,
    newestDigest: newest?.key,
  };
}
