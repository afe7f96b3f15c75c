/**
 * Identifiers. Resource ids are UUIDs as in CTS; they are version 7 (time-ordered) so that rows
 * keyed by them are inserted at the end of B-tree indexes instead of scattering pages
 * (DESIGN.md, store notes). Access keys follow Huawei's shape: 20 upper-case alphanumerics.
 */
import { randomBytes, randomFillSync } from 'node:crypto';

const HEX = '0123456789abcdef';

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

/** Random bytes are drawn in blocks: one system call per 512 ids instead of one per id. */
const RANDOM_POOL = new Uint8Array(10 * 512);
let poolOffset = RANDOM_POOL.length;

function randomTail(target: Uint8Array): void {
  if (poolOffset + 10 > RANDOM_POOL.length) {
    randomFillSync(RANDOM_POOL);
    poolOffset = 0;
  }
  target.set(RANDOM_POOL.subarray(poolOffset, poolOffset + 10), 6);
  poolOffset += 10;
}

/** RFC 9562 UUIDv7: 48-bit ms timestamp, version 7, variant 10, 74 random bits. */
export function uuidv7(nowMs: number = Date.now()): string {
  const b = new Uint8Array(16);
  randomTail(b);
  let t = nowMs;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** 32 lower-case hex characters: the shape of IAM project and domain ids. */
export function newHexId(): string {
  return randomBytes(16).toString('hex');
}

const AK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(alphabet: string, length: number): string {
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

export function newAccessKeyId(): string {
  return randomString(AK_ALPHABET, 20);
}

export function newSecretAccessKey(): string {
  return randomString(SK_ALPHABET, 40);
}
