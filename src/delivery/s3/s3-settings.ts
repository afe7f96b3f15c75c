/**
 * Where S3 settings come from. `--object-store s3://` selects S3 (any S3-compatible store);
 * `s3://host:port` also names the endpoint (http; `?tls=true` for https). The endpoint, region,
 * path style and credentials can also be set on their own (flags, OPENCTS_S3_* or, for the
 * credentials, the usual AWS_* variables).
 */
import type { S3ObjectStoreOptions } from './s3-object-store.js';

export interface S3Settings {
  readonly objectStore: string;
  readonly s3Endpoint?: string | undefined;
  readonly s3Region?: string | undefined;
  readonly s3ForcePathStyle?: boolean | undefined;
  readonly s3AccessKeyId?: string | undefined;
  readonly s3SecretAccessKey?: string | undefined;
}

export class ObjectStoreSettingsError extends Error {
  override name = 'ObjectStoreSettingsError';
}

export function isS3(objectStore: string): boolean {
  return objectStore.startsWith('s3://');
}

export function s3Options(
  settings: S3Settings,
  region: string,
  env: NodeJS.ProcessEnv = process.env,
): S3ObjectStoreOptions {
  // `s3://` alone names no host: parse it as a placeholder host that is then ignored.
  const bare = settings.objectStore === 's3://' || settings.objectStore.startsWith('s3://?');
  const url = new URL(settings.objectStore.replace(/^s3:\/\//, bare ? 'http://no-host' : 'http://'));
  const fromUrl = bare ? undefined : `${url.searchParams.get('tls') === 'true' ? 'https' : 'http'}://${url.host}`;
  const endpoint = settings.s3Endpoint ?? fromUrl;
  const accessKeyId = settings.s3AccessKeyId ?? env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = settings.s3SecretAccessKey ?? env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) {
    throw new ObjectStoreSettingsError(
      'S3 needs credentials: s3AccessKeyId/s3SecretAccessKey (OPENCTS_S3_ACCESS_KEY_ID/OPENCTS_S3_SECRET_ACCESS_KEY) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    );
  }
  return {
    ...(endpoint ? { endpoint } : {}),
    region: settings.s3Region ?? url.searchParams.get('region') ?? region,
    // Self-hosted stores (MinIO, s3rver, Ceph) want path-style addressing; AWS wants virtual hosts.
    forcePathStyle:
      settings.s3ForcePathStyle ?? (url.searchParams.get('path_style') ?? String(Boolean(endpoint))) === 'true',
    credentials: { accessKeyId, secretAccessKey },
  };
}
