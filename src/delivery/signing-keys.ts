/**
 * The RSA-2048 key pairs that sign digests (SHA256withRSA, PKCS#1 v1.5, as CTS and CloudTrail).
 * Private keys are kept in the store sealed with the master key, so every instance sharing the
 * store can sign and the database alone reveals nothing; public keys stay listed after rotation
 * so old digests remain verifiable. A digest names its key by fingerprint.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { SecretBox } from '../store/secret-box.js';
import type { Store } from '../store/store.js';

export interface PublicKeyInfo {
  /** Hex SHA-256 of the DER SubjectPublicKeyInfo. */
  readonly fingerprint: string;
  readonly public_key_pem: string;
  readonly created_at: number;
  readonly retired_at: number | null;
}

export interface ActiveSigningKey {
  readonly fingerprint: string;
  readonly privateKeyPem: string;
}

export function fingerprintOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

export function signHex(privateKeyPem: string | KeyObject, text: string): string {
  return sign('sha256', Buffer.from(text, 'utf8'), privateKeyPem).toString('hex');
}

export function verifyHex(publicKeyPem: string, text: string, signature: string): boolean {
  if (!/^[0-9a-f]+$/i.test(signature)) return false;
  try {
    return verify('sha256', Buffer.from(text, 'utf8'), publicKeyPem, Buffer.from(signature, 'hex'));
  } catch {
    return false;
  }
}

export class SigningKeys {
  private active: ActiveSigningKey | undefined;

  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
  ) {}

  async list(): Promise<PublicKeyInfo[]> {
    return (await this.store.listSigningKeys()).map(({ fingerprint, public_key_pem, created_at, retired_at }) => ({
      fingerprint,
      public_key_pem,
      created_at,
      retired_at,
    }));
  }

  /** The key digests are signed with now; created on first use. */
  async current(): Promise<ActiveSigningKey> {
    if (this.active) return this.active;
    const record = (await this.store.listSigningKeys()).find((k) => k.retired_at === null);
    if (!record) return this.rotate().then(() => this.current());
    this.active = { fingerprint: record.fingerprint, privateKeyPem: this.secrets.open(record.private_key_sealed) };
    return this.active;
  }

  /** A new key pair becomes the signing key; the previous ones stay listed, retired. */
  async rotate(): Promise<PublicKeyInfo> {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const public_key_pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const record = {
      fingerprint: fingerprintOf(public_key_pem),
      public_key_pem,
      private_key_sealed: this.secrets.seal(privateKeyPem),
      created_at: Date.now(),
      retired_at: null,
    };
    await this.store.addSigningKey(record);
    this.active = { fingerprint: record.fingerprint, privateKeyPem };
    return { fingerprint: record.fingerprint, public_key_pem, created_at: record.created_at, retired_at: null };
  }
}
