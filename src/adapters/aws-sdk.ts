/**
 * The AWS SDK's S3 and KMS clients, loaded on first use: on embedded defaults (files on disk, the local key)
 * neither is used, and loaded they hold ~4 MB of every process's memory (docs/PERFORMANCE.md, idle).
 * `new S3.PutObjectCommand(…)`, `error instanceof S3.NoSuchKey`; types come from `import type` as usual.
 */
export const S3 = loadedOnFirstUse(() => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3'));
export const KMS = loadedOnFirstUse(() => require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms'));

function loadedOnFirstUse<T extends object>(load: () => T): T {
  let loaded: T | undefined;
  return new Proxy({} as T, { get: (_target, name) => Reflect.get((loaded ??= load()), name) });
}
