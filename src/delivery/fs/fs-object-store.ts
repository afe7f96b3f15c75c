/**
 * The object store as folders (the embedded default). Layout, which scripts and operators rely on:
 *
 * - bucket `B` is the folder `<root>/B/` (`<data-dir>/buckets/B/`);
 * - object `K` is the file `<root>/B/K`: the object key, segments as folders, is the relative path;
 * - its metadata (content type/encoding, user metadata such as the digest `signature` and
 *   `signature-algorithm` of spec §5.2) is `<root>/B/.opencts-metadata/K.json`, inside the bucket
 *   so that a copied bucket folder keeps its signatures:
 *   `{"content_type":…,"content_encoding":…,"metadata":{…}}`;
 * - bucket settings live under `<root>/.opencts/B/` (`lifecycle.json`: `{"expiration_days":N}`),
 *   a name no bucket can have.
 *
 * Writes are atomic and durable: a temp file `.opencts-tmp-…` in the target folder is written,
 * fsynced, renamed over the real name, and the folder is fsynced, so a crash never leaves a half
 * object under the real name (a leftover temp file is never listed, and applyLifecycle removes it
 * once a day old). The metadata file is made durable before the object, so a visible object's
 * metadata is never older than the object. Keys that cannot be a path inside the bucket (`..`, `.`,
 * empty segments, absolute, NUL) or that would collide with the store's own names (`.opencts…`
 * segments) are refused with InvalidObjectKeyError.
 *
 * Errors: a missing bucket folder is NoSuchBucketError; EACCES/EPERM/EROFS are AccessDeniedError
 * (tracker detail bucketPolicyError). Unlike S3, a folder tree cannot hold both `a/b` and `a/b/c`:
 * such a key fails with ObjectKeyConflictError (ENOTDIR/EEXIST/EISDIR). Trace and digest keys
 * (spec §5.1/§5.2) never collide this way.
 */
import { randomBytes } from 'node:crypto';
import { constants, statSync, type Dirent, type Stats } from 'node:fs';
import { access, mkdir, open, readFile, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
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

/** Under the root: bucket settings. Inside a bucket: object metadata. Object keys cannot use it. */
const RESERVED_PREFIX = '.opencts';
const SETTINGS_DIR = '.opencts';
const METADATA_DIR = '.opencts-metadata';
const TEMP_PREFIX = '.opencts-tmp-';
const METADATA_SUFFIX = '.json';
/** S3's limit on key length, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
const DAY_MS = 86_400_000;
/** Temp files older than this are leftovers of a crash, not writes in progress. */
const STALE_TEMP_MS = DAY_MS;

/** The key cannot be stored as a path inside the bucket (`..`, absolute, NUL, `.opencts…`). */
export class InvalidObjectKeyError extends Error {
  override name = 'InvalidObjectKeyError';
}

/**
 * fs only: the key, or one of its folders, is already used the other way round (object `a/b` and
 * key `a/b/c`, or folder `a/` and key `a`). S3 allows both; a folder tree cannot.
 */
export class ObjectKeyConflictError extends Error {
  override name = 'ObjectKeyConflictError';
}

interface MetadataRecord {
  readonly content_type?: string;
  readonly content_encoding?: string;
  readonly metadata?: Record<string, string>;
}

interface LifecycleRecord {
  readonly expiration_days?: number;
}

let tempCounter = 0;

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** EACCES/EPERM/EROFS become AccessDeniedError; everything else passes through. */
function mapFsError(err: unknown, what: string): unknown {
  const code = errnoCode(err);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new AccessDeniedError(`${what}: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

/** The key's path segments; throws InvalidObjectKeyError for keys that are not a safe relative path. */
export function objectKeySegments(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidObjectKeyError('empty object key');
  if (key.includes('\0')) throw new InvalidObjectKeyError('object key contains NUL');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new InvalidObjectKeyError(`object key longer than ${MAX_KEY_BYTES} bytes`);
  }
  if (key.startsWith('/')) throw new InvalidObjectKeyError(`absolute object key: ${key}`);
  const segments = key.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new InvalidObjectKeyError(`object key has an empty, "." or ".." segment: ${key}`);
    }
    if (segment.startsWith(RESERVED_PREFIX)) {
      throw new InvalidObjectKeyError(`object key segment starts with ${RESERVED_PREFIX}: ${key}`);
    }
  }
  return segments;
}

/** Bucket names that are a single safe folder name (the API enforces the OBS rules on top). */
function isSafeBucketName(name: string): boolean {
  return (
    typeof name === 'string' && name.length > 0 && name.length <= 255 && !name.startsWith('.') && !/[/\\\0]/.test(name)
  );
}

function lowerCaseKeys(metadata: ObjectMetadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/** S3 orders keys by their UTF-8 bytes, which is not JavaScript's UTF-16 string order. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write to a temp file in the same folder, fsync, rename over `file`, fsync the folder. */
async function writeFileDurably(file: string, data: Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(
    dir,
    `${TEMP_PREFIX}${process.pid}-${(++tempCounter).toString(36)}-${randomBytes(4).toString('hex')}`,
  );
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temp, 'wx');
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, file);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dir);
}

/** mkdir -p that also makes the new folders' entries durable; folder/file clashes are conflicts. */
async function ensureDir(dir: string, key: string): Promise<void> {
  let created: string | undefined;
  try {
    created = await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      throw new ObjectKeyConflictError(`a folder of key ${key} is an object: ${(err as Error).message}`, {
        cause: err,
      });
    }
    throw err;
  }
  if (created === undefined) return;
  // Each new folder's entry lives in its parent: fsync the first new folder's parent and every
  // new folder below it.
  const chain = [path.dirname(created), created];
  const below = path.relative(created, dir);
  for (const segment of below === '' ? [] : below.split(path.sep)) chain.push(path.join(chain.at(-1)!, segment));
  for (const folder of chain) await fsyncDir(folder);
}

interface WalkedFile {
  readonly key: string;
  readonly file: string;
  readonly stats: Stats;
}

export class FsObjectStore implements ObjectStore {
  readonly kind = 'fs' as const;

  constructor(private readonly root: string) {}

  /** The bucket's folder; throws for names that are not one safe folder name. */
  bucketPath(name: string): string {
    if (!isSafeBucketName(name)) throw new Error(`invalid bucket name for the fs object store: ${name}`);
    return path.join(this.root, name);
  }

  // ---- buckets (spec §1.2 is_obs_created / bucket_lifecycle) ----

  /**
   * The buckets folder is a writable folder, or (before the first bucket) its parent is: the
   * next createBucket could make it. A file in the way, a read-only or vanished data dir is down.
   */
  async probe(): Promise<void> {
    let target = this.root;
    const stats = await stat(target).catch((err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw new ObjectStoreUnreachableError(`buckets folder ${this.root}: ${(err as Error).message}`, { cause: err });
    });
    if (stats && !stats.isDirectory()) {
      throw new ObjectStoreUnreachableError(`buckets folder ${this.root} is not a folder`);
    }
    if (!stats) target = path.dirname(this.root);
    try {
      await access(target, constants.W_OK);
    } catch (err) {
      throw new ObjectStoreUnreachableError(`${target} is not writable: ${(err as Error).message}`, { cause: err });
    }
  }

  async bucketExists(name: string): Promise<boolean> {
    if (!isSafeBucketName(name)) return false;
    // A local stat is a few microseconds; the thread-pool round trip of fs.promises costs ten
    // times that on every tracker write.
    return this.statBucket(name)?.isDirectory() ?? false;
  }

  async createBucket(name: string): Promise<void> {
    const dir = this.bucketPath(name);
    try {
      await mkdir(this.root, { recursive: true });
    } catch (err) {
      // The buckets folder itself cannot be made (e.g. a file is in the way): creation failed.
      throw mapFsError(err, `create bucket ${name}`);
    }
    try {
      await mkdir(dir);
      await fsyncDir(this.root);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw new BucketExistsError(name);
      throw mapFsError(err, `create bucket ${name}`);
    }
  }

  async setLifecycle(name: string, days: number): Promise<void> {
    if (!Number.isInteger(days) || days < 0) throw new RangeError(`lifecycle days must be an integer >= 0: ${days}`);
    this.requireBucket(name);
    const dir = path.join(this.root, SETTINGS_DIR, name);
    try {
      await mkdir(dir, { recursive: true });
      const record: LifecycleRecord = { expiration_days: days };
      await writeFileDurably(path.join(dir, 'lifecycle.json'), Buffer.from(JSON.stringify(record) + '\n'));
    } catch (err) {
      throw mapFsError(err, `set lifecycle of bucket ${name}`);
    }
  }

  // ---- objects ----

  async putObject(input: PutObjectInput): Promise<void> {
    const { bucket, key } = input;
    const segments = objectKeySegments(key);
    const bucketDir = this.requireBucket(bucket);
    const file = path.join(bucketDir, ...segments);
    const metadataFile = this.metadataPath(bucketDir, segments);
    const record: MetadataRecord = {
      content_type: input.contentType,
      ...(input.contentEncoding !== undefined ? { content_encoding: input.contentEncoding } : {}),
      metadata: lowerCaseKeys(input.metadata),
    };
    // A concurrent delete may prune a folder between mkdir and the write: try again then.
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureDir(path.dirname(file), key);
        const existing = statSync(file, { throwIfNoEntry: false });
        if (existing?.isDirectory()) throw new ObjectKeyConflictError(`key ${key} is a folder of other objects`);
        await ensureDir(path.dirname(metadataFile), key);
        await writeFileDurably(metadataFile, Buffer.from(JSON.stringify(record) + '\n'));
        await writeFileDurably(file, input.body);
        return;
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' && attempt < 3) continue;
        if (code === 'EISDIR' || code === 'ENOTDIR') {
          throw new ObjectKeyConflictError(`cannot store key ${key}: ${(err as Error).message}`, { cause: err });
        }
        throw mapFsError(err, `put ${bucket}/${key}`);
      }
    }
  }

  async getObject(bucket: string, key: string): Promise<StoredObject> {
    const segments = objectKeySegments(key);
    const bucketDir = this.requireBucket(bucket);
    let body: Buffer;
    try {
      body = await readFile(path.join(bucketDir, ...segments));
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw new NoSuchKeyError(`no object ${key} in bucket ${bucket}`, { cause: err });
      }
      throw mapFsError(err, `get ${bucket}/${key}`);
    }
    let metadata: Record<string, string> = {};
    try {
      const record = JSON.parse(
        await readFile(this.metadataPath(bucketDir, segments), 'utf8'),
      ) as MetadataRecord | null;
      metadata = { ...record?.metadata };
    } catch (err) {
      const code = errnoCode(err);
      // An object copied in by hand has no metadata file, one whose metadata file was damaged by
      // hand has no readable one: either way it simply has no metadata (verify reports a digest
      // without its signature instead of failing).
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && !(err instanceof SyntaxError)) {
        throw mapFsError(err, `get metadata of ${bucket}/${key}`);
      }
    }
    return { key, body, metadata };
  }

  async listObjects(bucket: string, prefix: string): Promise<ObjectSummary[]> {
    const bucketDir = this.requireBucket(bucket);
    // Walk only the folder named by the prefix's complete segments; the last, partial segment
    // filters the names in it. A complete segment no key can have matches nothing.
    const slash = prefix.lastIndexOf('/');
    const folders = slash < 0 ? [] : prefix.slice(0, slash).split('/');
    const partial = prefix.slice(slash + 1);
    if (
      prefix.includes('\0') ||
      folders.some((s) => s === '' || s === '.' || s === '..' || s.startsWith(RESERVED_PREFIX))
    ) {
      return [];
    }
    const start = path.join(bucketDir, ...folders);
    const keyBase = folders.length > 0 ? folders.join('/') + '/' : '';
    const found: WalkedFile[] = [];
    try {
      await this.walk(start, keyBase, (name) => name.startsWith(partial), found, undefined);
    } catch (err) {
      throw mapFsError(err, `list ${bucket}/${prefix}`);
    }
    return found
      .map((f) => ({ key: f.key, size: f.stats.size, lastModified: f.stats.mtimeMs }))
      .sort((a, b) => compareKeys(a.key, b.key));
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const segments = objectKeySegments(key);
    const bucketDir = this.requireBucket(bucket);
    try {
      await this.removeObject(bucketDir, segments);
    } catch (err) {
      throw mapFsError(err, `delete ${bucket}/${key}`);
    }
    await this.pruneEmptyFolders(bucketDir, [path.dirname(path.join(bucketDir, ...segments))]);
  }

  /**
   * Deletes the objects (and their metadata) last modified more than the lifecycle's days before
   * `now`, when the bucket has a rule of at least one day; removes temp files a crash left behind
   * and folders emptied on the way. Returns how many objects it deleted.
   */
  async applyLifecycle(bucket: string, now: number): Promise<number> {
    const bucketDir = this.requireBucket(bucket);
    const days = await this.lifecycleDays(bucket);
    if (!(days > 0)) return 0;
    const cutoff = now - days * DAY_MS;
    const objects: WalkedFile[] = [];
    const temps: WalkedFile[] = [];
    try {
      await this.walk(bucketDir, '', () => true, objects, temps);
    } catch (err) {
      throw mapFsError(err, `apply lifecycle to ${bucket}`);
    }
    let deleted = 0;
    const touched = new Set<string>();
    for (const object of objects) {
      if (!(object.stats.mtimeMs < cutoff)) continue;
      try {
        await this.removeObject(bucketDir, object.key.split('/'));
      } catch (err) {
        throw mapFsError(err, `lifecycle delete ${bucket}/${object.key}`);
      }
      deleted++;
      touched.add(path.dirname(object.file));
    }
    for (const temp of temps) {
      if (temp.stats.mtimeMs < now - STALE_TEMP_MS) {
        await rm(temp.file, { force: true });
        touched.add(path.dirname(temp.file));
      }
    }
    await this.pruneEmptyFolders(bucketDir, [...touched]);
    return deleted;
  }

  // ---- internals ----

  /** Lifecycle days of the bucket's rule; 0 when it has none. */
  private async lifecycleDays(bucket: string): Promise<number> {
    try {
      const text = await readFile(path.join(this.root, SETTINGS_DIR, bucket, 'lifecycle.json'), 'utf8');
      const days = (JSON.parse(text) as LifecycleRecord).expiration_days;
      return typeof days === 'number' && Number.isFinite(days) ? days : 0;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 0;
      throw mapFsError(err, `read lifecycle of bucket ${bucket}`);
    }
  }

  private statBucket(name: string): Stats | undefined {
    try {
      return statSync(path.join(this.root, name), { throwIfNoEntry: false });
    } catch (err) {
      if (errnoCode(err) === 'ENOTDIR') return undefined;
      throw mapFsError(err, `stat bucket ${name}`);
    }
  }

  /** The bucket's folder, or NoSuchBucketError. */
  private requireBucket(name: string): string {
    const dir = this.bucketPath(name);
    if (!this.statBucket(name)?.isDirectory()) throw new NoSuchBucketError(`no bucket ${name}`);
    return dir;
  }

  private metadataPath(bucketDir: string, segments: readonly string[]): string {
    return path.join(bucketDir, METADATA_DIR, ...segments) + METADATA_SUFFIX;
  }

  /** Object first, then its metadata: a crash in between leaves only an unlisted metadata file. */
  private async removeObject(bucketDir: string, segments: readonly string[]): Promise<void> {
    for (const file of [path.join(bucketDir, ...segments), this.metadataPath(bucketDir, segments)]) {
      try {
        await unlink(file);
      } catch (err) {
        const code = errnoCode(err);
        // Missing, or a folder of other objects: there is no object of that key (S3 answers 204).
        if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw err;
      }
    }
  }

  /**
   * Regular files under `dir` (keys prefixed with `keyBase`), skipping `.opencts…` names: the
   * metadata folder and temp files (collected into `temps` when given). Symlinks are not objects.
   */
  private async walk(
    dir: string,
    keyBase: string,
    acceptTop: (name: string) => boolean,
    out: WalkedFile[],
    temps: WalkedFile[] | undefined,
  ): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    await Promise.all(
      entries.map(async (entry) => {
        const name = entry.name;
        const full = path.join(dir, name);
        if (name.startsWith(RESERVED_PREFIX)) {
          if (temps && name.startsWith(TEMP_PREFIX) && entry.isFile()) {
            const stats = await stat(full).catch(() => undefined);
            if (stats) temps.push({ key: keyBase + name, file: full, stats });
          }
          return;
        }
        if (!acceptTop(name)) return;
        if (entry.isDirectory()) {
          await this.walk(full, `${keyBase}${name}/`, () => true, out, temps);
        } else if (entry.isFile()) {
          try {
            out.push({ key: keyBase + name, file: full, stats: await stat(full) });
          } catch (err) {
            if (errnoCode(err) !== 'ENOENT') throw err; // deleted while listing
          }
        }
      }),
    );
  }

  /** Removes folders left empty (object and metadata trees), up to but not including the bucket. */
  private async pruneEmptyFolders(bucketDir: string, folders: readonly string[]): Promise<void> {
    const metadataRoot = path.join(bucketDir, METADATA_DIR);
    const starts = new Set<string>();
    for (const folder of folders) {
      starts.add(folder);
      const relative = path.relative(bucketDir, folder);
      if (relative !== '' && !relative.startsWith('..')) starts.add(path.join(metadataRoot, relative));
    }
    // Deepest first, so a parent is tried after its children.
    const ordered = [...starts].sort((a, b) => b.length - a.length);
    for (const start of ordered) {
      for (let dir = start; dir !== bucketDir && dir !== metadataRoot && dir.startsWith(bucketDir + path.sep);) {
        try {
          await rmdir(dir);
        } catch {
          break; // not empty (or already gone, or busy): stop climbing
        }
        dir = path.dirname(dir);
      }
    }
  }
}
