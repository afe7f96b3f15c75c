/**
 * The public keys that verify digest signatures (OpenCTS extension, not part of CTS): anyone may
 * fetch them, so anyone can check a trail; digests name their key by fingerprint.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { SigningKeys } from '../../delivery/signing-keys.js';

export const DIGEST_KEYS_PATH = '/opencts/v1/digest-public-keys';

export function registerDigestKeyRoutes(app: FastifyInstance, keys: SigningKeys): void {
  app.get(
    DIGEST_KEYS_PATH,
    {
      schema: {
        summary: 'ListDigestPublicKeys (OpenCTS extension)',
        description: 'RSA-2048 public keys (PEM) that verify digest signatures, newest last; retired keys stay listed.',
        tags: ['extensions'],
        response: {
          200: Type.Object({
            keys: Type.Array(
              Type.Object({
                fingerprint: Type.String({ description: 'hex SHA-256 of the DER SubjectPublicKeyInfo' }),
                public_key_pem: Type.String(),
                created_at: Type.Integer(),
                retired_at: Type.Union([Type.Integer(), Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async () => ({ keys: await keys.list() }),
  );
}
