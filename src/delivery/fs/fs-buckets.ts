/**
 * Buckets as folders: bucket `B` is `<data-dir>/buckets/B/`, laid out like an OBS bucket. Bucket
 * settings live under `<root>/.opencts/`, a name no bucket can have (bucket names start with a
 * letter or digit).
 */
import { statSync } from 'node:fs';
import { mkdir, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { BucketExistsError, type BucketAdmin } from '../buckets.js';

const SETTINGS_DIR = '.opencts';

export class FsBuckets implements BucketAdmin {
  constructor(private readonly root: string) {}

  bucketPath(name: string): string {
    return path.join(this.root, name);
  }

  async bucketExists(name: string): Promise<boolean> {
    // A local stat is a few microseconds; the thread-pool round trip of fs.promises costs ten
    // times that on every tracker write.
    const found = statSync(this.bucketPath(name), { throwIfNoEntry: false });
    return found?.isDirectory() ?? false;
  }

  async createBucket(name: string): Promise<void> {
    await mkdir(this.root, { recursive: true });
    try {
      await mkdir(this.bucketPath(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new BucketExistsError(name);
      throw err;
    }
  }

  async setLifecycle(name: string, days: number): Promise<void> {
    const dir = path.join(this.root, SETTINGS_DIR, name);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'lifecycle.json');
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify({ expiration_days: days }) + '\n');
    await rename(temp, file);
  }
}
