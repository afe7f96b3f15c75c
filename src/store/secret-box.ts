/**
 * Secrets at rest. HMAC verification needs the secret key itself, so it cannot be hashed; it is
 * sealed with AES-256-GCM under a master key kept outside the database (a key file readable only
 * by the owner, or an environment variable), so the database alone reveals no secret.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const PREFIX = 'v1.';

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== KEY_BYTES) throw new SecretBoxError(`the master key must be ${KEY_BYTES} bytes`);
    return new SecretBox(key);
  }

  /** A key for another purpose (e.g. signing tokens), derived from the master key with HKDF. */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `opencts ${purpose}`, KEY_BYTES));
  }

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  /** `v1.<iv>.<tag>.<ciphertext>`, base64url parts; a fresh IV every time. */
  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${data.toString('base64url')}`;
  }

  open(sealed: string): string {
    const parts = sealed.slice(PREFIX.length).split('.');
    if (!SecretBox.isSealed(sealed) || parts.length !== 3) throw new SecretBoxError('not a sealed secret');
    const [iv, tag, data] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('cannot open a sealed secret: wrong master key, or the value was altered');
    }
  }
}

export const MASTER_KEY_ENV = 'OPENCTS_MASTER_KEY';

/**
 * The master key from `OPENCTS_MASTER_KEY` (base64 of 32 bytes), else from `file`, which is
 * created (mode 0600) when `createIfMissing` is true and it does not exist yet.
 */
export function loadMasterKey(file: string, env: NodeJS.ProcessEnv, createIfMissing: boolean): SecretBox {
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv) return SecretBox.fromKey(Buffer.from(fromEnv, 'base64'));
  if (!existsSync(file)) {
    if (!createIfMissing) throw new SecretBoxError(`master key file ${file} is missing`);
    writeFileSync(file, randomBytes(KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  return SecretBox.fromKey(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
}
