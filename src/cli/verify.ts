/**
 * `opencts verify --source DIR|s3://bucket --tracker NAME [--from T --to T] [--public-key FILE]
 * [--json]`: checks a tracker's trace files and digest chain, offline on a folder or against S3.
 * Exit code 0 when everything is valid, 1 when anything is not (stable: scripts rely on it).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ENV_NAMES, resolveConfig } from '../config.js';
import { FsObjectStore } from '../delivery/fs/fs-object-store.js';
import { fingerprintOf } from '../delivery/signing-keys.js';
import { verifyTrail, type VerifyReport } from '../delivery/verify.js';
import { DATABASE_FILE, MASTER_KEY_FILE, openRuntime } from '../runtime.js';
import { parseInstant } from './format.js';
import { storeOption } from './options.js';
import { openS3Source } from './s3-source.js';

interface VerifyFlags {
  source: string;
  tracker: string;
  from?: number;
  to?: number;
  publicKey?: string[];
  dataDir?: string;
  store?: string;
  s3Endpoint?: string;
  json?: boolean;
}

/** Public keys from PEM files, or from the JSON that `opencts keys list --json` prints. */
function keysFromFiles(files: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (text.trimStart().startsWith('[')) {
      for (const k of JSON.parse(text) as Array<{ public_key_pem: string }>) {
        keys.set(fingerprintOf(k.public_key_pem), k.public_key_pem);
      }
    } else {
      for (const pem of text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? []) {
        keys.set(fingerprintOf(pem), pem);
      }
    }
  }
  return keys;
}

async function keysFromStore(dataDir: string | undefined, store: string | undefined): Promise<Map<string, string>> {
  const runtime = await openRuntime(resolveConfig({ flags: { dataDir, store }, env: {} }));
  try {
    return new Map((await runtime.keys.list()).map((k) => [k.fingerprint, k.public_key_pem]));
  } finally {
    await runtime.close();
  }
}

/**
 * The data dir a bucket folder lives in (`<data-dir>/buckets/<bucket>`), if it is one: it holds
 * the SQLite store, or the master key of a PostgreSQL store.
 */
function dataDirOf(bucketFolder: string): string | undefined {
  const candidate = path.resolve(bucketFolder, '..', '..');
  return existsSync(path.join(candidate, DATABASE_FILE)) || existsSync(path.join(candidate, MASTER_KEY_FILE))
    ? candidate
    : undefined;
}

function print(report: VerifyReport): void {
  for (const p of report.problems) console.log(`${p.kind}: ${p.key}: ${p.message}`);
  for (const g of report.gaps) console.log(`gap: no valid digest between ${g.from} and ${g.to}`);
  console.log(`${report.digests.valid}/${report.digests.total} digest files valid`);
  console.log(`${report.files.valid}/${report.files.total} trace files valid`);
  if (report.digests.total === 0) console.log('no digest files found for this tracker');
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description("check a tracker's trace files and digest chain; exit 1 on any problem")
    .requiredOption('--source <dir|s3://bucket>', 'a bucket folder (e.g. ./data/buckets/B) or s3://bucket')
    .requiredOption('--tracker <name>', 'tracker name, e.g. system')
    .option('--from <time>', 'only digests ending after this time (epoch ms or ISO-8601)', parseInstant)
    .option('--to <time>', 'only digests ending up to this time (epoch ms or ISO-8601)', parseInstant)
    .option(
      '--public-key <file>',
      'trusted public key(s): PEM file or `keys list --json` output (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--data-dir <dir>', 'trust the keys of this data dir (default: the one the bucket folder is in)')
    .addOption(storeOption())
    .option(
      '--s3-endpoint <url>',
      'for s3:// sources: the endpoint (or OPENCTS_S3_ENDPOINT; credentials from OPENCTS_S3_* or AWS_*)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (flags: VerifyFlags) => {
      let objects;
      let bucket: string;
      if (flags.source.startsWith('s3://')) {
        ({ objects, bucket } = openS3Source(flags.source, flags.s3Endpoint));
      } else {
        const folder = path.resolve(flags.source);
        if (!existsSync(folder)) throw new Error(`no such folder ${folder}`);
        objects = new FsObjectStore(path.dirname(folder));
        bucket = path.basename(folder);
      }
      const keyDataDir = flags.dataDir ?? (flags.source.startsWith('s3://') ? undefined : dataDirOf(flags.source));
      const keyStore = flags.store ?? process.env[ENV_NAMES.store];
      const trustedKeys = flags.publicKey?.length
        ? keysFromFiles(flags.publicKey)
        : keyDataDir || keyStore
          ? await keysFromStore(keyDataDir, keyStore)
          : undefined;
      if (!trustedKeys || trustedKeys.size === 0) {
        throw new Error('no trusted public keys: give --public-key FILE, --data-dir DIR or --store URL');
      }
      const report = await verifyTrail({
        objects,
        bucket,
        tracker: flags.tracker,
        trustedKeys,
        ...(flags.from !== undefined ? { from: flags.from } : {}),
        ...(flags.to !== undefined ? { to: flags.to } : {}),
      });
      if (flags.json) console.log(JSON.stringify(report));
      else print(report);
      if (report.problems.length > 0) process.exitCode = 1;
    });
}
