/**
 * The master key (outside the database) and what it seals inside: access keys' secrets and the
 * digest signing keys. Without the right master key an instance cannot start on a used store.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { MASTER_KEY_FILE } from '../store/open-store.js';
import { MASTER_KEY_ENV, SecretBox, SecretBoxError } from '../store/secret-box.js';
import type { Store } from '../store/store.js';
import { errorMessage, fail, octal, ok, warn, type CheckResult } from './check.js';

export interface MasterKeyFindings {
  readonly result: CheckResult;
  /** A key was found that can be tried on the stored secrets (even if its file is too open). */
  readonly usable: boolean;
}

const RESTORE = `restore ${MASTER_KEY_FILE} from a backup, or set ${MASTER_KEY_ENV}; without the key the stored secrets cannot be opened`;

export function checkMasterKey(dataDir: string, env: NodeJS.ProcessEnv): MasterKeyFindings {
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv) {
    return parsesAsKey(fromEnv)
      ? { result: ok('master-key', `from ${MASTER_KEY_ENV}`), usable: true }
      : {
          result: fail(
            'master-key',
            `${MASTER_KEY_ENV} is not base64 of 32 bytes`,
            `set it to the store's key: ${RESTORE}`,
          ),
          usable: false,
        };
  }
  const file = path.join(dataDir, MASTER_KEY_FILE);
  const stats = statSync(file, { throwIfNoEntry: false });
  if (!stats) {
    return {
      result: fail('master-key', `${file} is missing and ${MASTER_KEY_ENV} is not set`, RESTORE),
      usable: false,
    };
  }
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    return { result: fail('master-key', `cannot read ${file}: ${errorMessage(err)}`, RESTORE), usable: false };
  }
  if (!parsesAsKey(content.trim())) {
    return { result: fail('master-key', `${file} does not hold base64 of 32 bytes`, RESTORE), usable: false };
  }
  if ((stats.mode & 0o077) !== 0) {
    return {
      result: fail(
        'master-key',
        `${file} has mode ${octal(stats.mode)}: group or others can read the key to every stored secret`,
        `chmod 600 ${file}`,
      ),
      usable: true,
    };
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    return {
      result: warn(
        'master-key',
        `${file} belongs to uid ${stats.uid}, not to this user (uid ${uid})`,
        `chown ${uid} ${file}`,
      ),
      usable: true,
    };
  }
  return { result: ok('master-key', `${file}, mode ${octal(stats.mode)}`), usable: true };
}

function parsesAsKey(base64: string): boolean {
  try {
    SecretBox.fromKey(Buffer.from(base64, 'base64'));
    return true;
  } catch {
    return false;
  }
}

/** Opening the store already tried the master key on one sealed secret; this names the outcome. */
export function describeOpenFailure(err: unknown): CheckResult {
  if (err instanceof SecretBoxError) {
    return fail(
      'secrets',
      `the master key does not open the stored secrets: ${errorMessage(err)}`,
      `use the master key this store was created with: ${RESTORE}`,
    );
  }
  return fail(
    'secrets',
    `cannot open the store: ${errorMessage(err)}`,
    'see the message; opencts serve would fail the same way',
  );
}

export async function checkSecrets(store: Store): Promise<CheckResult> {
  const keys = (await store.listCredentials()).length;
  return keys === 0
    ? ok('secrets', 'no access key stored yet')
    : ok('secrets', `the master key opens the stored secrets (${keys} access key${keys === 1 ? '' : 's'})`);
}

export async function checkSigningKey(store: Store, secrets: SecretBox): Promise<CheckResult> {
  const keys = await store.listSigningKeys();
  const current = keys.find((k) => k.retired_at === null);
  if (!current) {
    return warn(
      'signing-key',
      'no digest signing key yet',
      'start opencts serve once (the first start creates it) or run opencts keys rotate',
    );
  }
  try {
    secrets.open(current.private_key_sealed);
  } catch (err) {
    return fail(
      'signing-key',
      `the signing key ${current.fingerprint.slice(0, 16)}… cannot be opened: ${errorMessage(err)}`,
      `use the master key this store was created with: ${RESTORE}`,
    );
  }
  const retired = keys.length - 1;
  return ok(
    'signing-key',
    `signing with ${current.fingerprint.slice(0, 16)}… since ${new Date(current.created_at).toISOString()}` +
      (retired > 0 ? ` (${retired} retired key${retired === 1 ? '' : 's'} kept for verification)` : ''),
  );
}
