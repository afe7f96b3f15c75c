/**
 * Digest files: the tamper evidence of delivered trace files (spec §5.2, with CloudTrail's
 * design §5.3 where CTS's is ambiguous). Every digest period a tracker with
 * `is_support_validate` writes a digest listing the files delivered in the period (also when
 * there were none), chained to the previous digest by its hash and signature, and signed with
 * RSA-2048 SHA256withRSA. Hashes are SHA-256, named in the `*_hash_algorithm` fields.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Tracker } from '../tracker/tracker.js';
import { datePath, fileTimestamp } from './trace-file.js';

export const DIGEST_SIGNATURE_ALGORITHM = 'SHA256withRSA';
export const HASH_ALGORITHM = 'SHA-256';
/** The service folder digests are kept under: CTS itself writes them. */
export const DIGEST_SERVICE_FOLDER = 'CTS';
/** Object metadata keys (S3 `x-amz-meta-…`, OBS `x-obs-meta-…`). */
export const SIGNATURE_METADATA = 'signature';
export const SIGNATURE_ALGORITHM_METADATA = 'signature-algorithm';

export interface DigestLogFile {
  bucket: string;
  object: string;
  log_hash_value: string;
  log_hash_algorithm: string;
  oldest_event_time: number;
  newest_event_time: number;
}

export interface Digest {
  project_id: string;
  tracker_name: string;
  digest_start_time: string;
  digest_end_time: string;
  digest_bucket: string;
  digest_object: string;
  digest_signature_algorithm: string;
  digest_public_key_fingerprint: string;
  digest_end: boolean;
  previous_digest_bucket: string;
  previous_digest_object: string;
  previous_digest_hash_value: string;
  previous_digest_hash_algorithm: string;
  previous_digest_signature: string;
  previous_digest_end: boolean;
  log_files: DigestLogFile[];
}

/** `2017-03-28T01-09-17Z`, the digest time format of spec §5.2. */
export function digestTime(ms: number): string {
  return `${fileTimestamp(ms)}Z`;
}

export function parseDigestTime(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

export function digestFolder(region: string, trackerName: string, endMs: number): string {
  return `CloudTraces/${region}/${datePath(endMs)}/${trackerName}/Digest/${DIGEST_SERVICE_FOLDER}`;
}

export function digestKey(tracker: Tracker, region: string, endMs: number): string {
  const prefix = tracker.obs_info.file_prefix_name ? `${tracker.obs_info.file_prefix_name}_` : '';
  return `${digestFolder(region, tracker.tracker_name, endMs)}/${prefix}CloudTrace-Digest_${region}_${digestTime(endMs)}.json.gz`;
}

/** The previous link of a chain; undefined for the first ("starting") digest. */
export interface PreviousDigest {
  readonly bucket: string;
  readonly object: string;
  readonly sha256: string;
  readonly signature: string;
  readonly end: boolean;
}

export function buildDigest(input: {
  tracker: Tracker;
  region: string;
  bucket: string;
  startMs: number;
  endMs: number;
  fingerprint: string;
  previous: PreviousDigest | undefined;
  files: readonly DigestLogFile[];
}): Digest {
  const p = input.previous;
  return {
    project_id: input.tracker.project_id,
    tracker_name: input.tracker.tracker_name,
    digest_start_time: digestTime(input.startMs),
    digest_end_time: digestTime(input.endMs),
    digest_bucket: input.bucket,
    digest_object: digestKey(input.tracker, input.region, input.endMs),
    digest_signature_algorithm: DIGEST_SIGNATURE_ALGORITHM,
    digest_public_key_fingerprint: input.fingerprint,
    digest_end: false,
    previous_digest_bucket: p?.bucket ?? '',
    previous_digest_object: p?.object ?? '',
    previous_digest_hash_value: p?.sha256 ?? '',
    previous_digest_hash_algorithm: p ? HASH_ALGORITHM : '',
    previous_digest_signature: p?.signature ?? '',
    previous_digest_end: p?.end ?? false,
    log_files: [...input.files].sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0)),
  };
}

export function encodeDigest(digest: Digest): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(digest)));
}

export function decodeDigest(bytes: Uint8Array): Digest {
  return JSON.parse(gunzipSync(bytes).toString('utf8')) as Digest;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * What is signed (spec §5.2, CTS): the plain concatenation, no separators, of the end time, the
 * digest's object key, the hex hash of the stored (compressed) digest bytes and the previous
 * digest's signature (empty for the first).
 */
export function signingString(
  digest: Pick<Digest, 'digest_end_time' | 'digest_object' | 'previous_digest_signature'>,
  storedBytes: Uint8Array,
): string {
  return `${digest.digest_end_time}${digest.digest_object}${sha256Hex(storedBytes)}${digest.previous_digest_signature}`;
}
