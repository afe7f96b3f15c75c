/**
 * CheckObsBuckets (spec §1.8): can CTS deliver into these buckets? Answered from real probes of
 * the object store: the bucket must exist and take a write.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { isValidBucketName } from '../../core/tracker/tracker-rules.js';
import { AccessDeniedError, NoSuchBucketError, type ObjectStore } from '../../delivery/object-store.js';
import { principalOf } from '../auth/authenticate.js';
import { ErrorSchema } from '../schemas/tracker.js';

const PROBE_KEY = 'CloudTraces/opencts-write-probe.json';

const BucketToCheck = Type.Object({
  bucket_name: Type.String({ maxLength: 256 }),
  bucket_location: Type.String({ maxLength: 64 }),
  kms_id: Type.Optional(Type.String({ maxLength: 256 })),
  is_support_trace_files_encryption: Type.Optional(Type.Boolean()),
});

const CheckResult = Type.Object({
  error_code: Type.Optional(Type.String()),
  error_message: Type.Optional(Type.String()),
  response_code: Type.Integer({ description: 'HTTP status of the probe' }),
  success: Type.Boolean(),
});

interface Probe {
  error_code?: string;
  error_message?: string;
  response_code: number;
  success: boolean;
}

async function probe(objects: ObjectStore, region: string, bucket: Static<typeof BucketToCheck>): Promise<Probe> {
  if (!isValidBucketName(bucket.bucket_name)) {
    return { error_code: 'CTS.0231', error_message: 'Invalid bucket name.', response_code: 400, success: false };
  }
  if (bucket.is_support_trace_files_encryption) {
    return { error_code: 'CTS.0220', error_message: 'KMS is not supported.', response_code: 400, success: false };
  }
  if (bucket.bucket_location !== region) {
    return {
      error_code: 'CTS.0001',
      error_message: `The bucket location must be ${region}.`,
      response_code: 400,
      success: false,
    };
  }
  try {
    if (!(await objects.bucketExists(bucket.bucket_name))) {
      return { error_code: 'CTS.0211', error_message: 'The bucket is not exist.', response_code: 404, success: false };
    }
    await objects.putObject({
      bucket: bucket.bucket_name,
      key: PROBE_KEY,
      body: Buffer.from('{}'),
      contentType: 'application/json',
    });
    await objects.deleteObject(bucket.bucket_name, PROBE_KEY);
    return { response_code: 200, success: true };
  } catch (err) {
    if (err instanceof NoSuchBucketError) {
      return { error_code: 'CTS.0211', error_message: 'The bucket is not exist.', response_code: 404, success: false };
    }
    if (err instanceof AccessDeniedError) {
      return {
        error_code: 'CTS.0001',
        error_message: 'Access to the bucket is denied.',
        response_code: 403,
        success: false,
      };
    }
    return {
      error_code: 'CTS.0001',
      error_message: 'The bucket cannot be written.',
      response_code: 500,
      success: false,
    };
  }
}

export function registerCheckBucketRoutes(app: FastifyInstance, deps: { objects: ObjectStore; region: string }): void {
  app.post(
    '/v3/:domain_id/checkbucket',
    {
      config: {
        auth: 'domain',
        operation: { traceName: 'checkObsBuckets', resourceType: 'bucket', access: 'read' },
      },
      schema: {
        summary: 'CheckObsBuckets',
        tags: ['buckets'],
        params: Type.Object({ domain_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }),
        body: Type.Object({ buckets: Type.Array(BucketToCheck, { minItems: 1, maxItems: 50 }) }),
        response: {
          200: Type.Object({
            buckets: Type.Array(Type.Object({ ...BucketToCheck.properties, check_bucket_response: CheckResult })),
          }),
          400: ErrorSchema,
          401: ErrorSchema,
          403: ErrorSchema,
        },
      },
    },
    async (request) => {
      principalOf(request);
      const { buckets } = request.body as { buckets: Array<Static<typeof BucketToCheck>> };
      const results = [];
      for (const bucket of buckets) {
        results.push({ ...bucket, check_bucket_response: await probe(deps.objects, deps.region, bucket) });
      }
      return { buckets: results };
    },
  );
}
