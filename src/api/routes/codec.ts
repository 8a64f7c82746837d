/**
 * The remote payload codec for the Temporal Web UI and support tools (R16): they send the encrypted
 * payloads of a history and get them back readable (decode), or the reverse (encode), in Temporal's JSON
 * form (`{ payloads: [{ metadata: { key: base64 }, data: base64 }] }`). Access is decided by CodecConfig.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Context } from 'koa';
import { z } from 'zod';
import type { CodecConfig } from '../../config';
import { AppError } from '../../errors';
import { unavailablePart } from '../../failure-kinds';
import { bearerToken, defineRoute } from '../route';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const payloadsBody = z.strictObject({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }))
    .max(1000),
});

function fromJson(payload: z.infer<typeof payloadsBody>['payloads'][number]): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload) {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

function requireCodecAccess(config: CodecConfig, ctx: Context): void {
  if (config.accessToken) {
    const given = Buffer.from(bearerToken(ctx) ?? '');
    const expected = Buffer.from(config.accessToken);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('unauthenticated', 'The codec endpoint needs its access token (Authorization: Bearer ...).');
    }
    return;
  }
  if (!config.openWithoutToken) {
    throw new AppError('not_found', 'The codec endpoint is not enabled here: set CODEC_ACCESS_TOKEN.');
  }
}

export function codecRoutes(config: CodecConfig, codec: PayloadCodec) {
  return (['decode', 'encode'] as const).map((direction) =>
    defineRoute({
      method: 'post',
      path: `/codec/${direction}`,
      summary:
        direction === 'decode'
          ? 'Decrypt Temporal payloads (remote codec for the Temporal Web UI and support tools)'
          : 'Encrypt Temporal payloads (remote codec)',
      tag: 'Support',
      auth: 'public',
      bodyLimit: '16mb',
      body: payloadsBody,
      responses: { 200: { description: 'The payloads, converted', schema: payloadsBody } },
      errors: direction === 'decode' ? [401, 404, 410, 422] : [401, 404],
      handler: async ({ body, ctx }) => {
        requireCodecAccess(config, ctx);
        const payloads = body.payloads.map(fromJson);
        // No serialization context here: encode uses the deployment key; decode finds a record key by its id.
        const converted = direction === 'decode' ? await decodeOrRefuse(codec, payloads) : await codec.encode(payloads);
        return { status: 200, body: { payloads: converted.map(toJson) } };
      },
    }),
  );
}

/** A payload that does not decrypt (damaged, or under a key this deployment never had) is the caller's input,
 *  not a server fault; a shredded record's answers 410 `record_deleted`. */
async function decodeOrRefuse(codec: PayloadCodec, payloads: Payload[]): Promise<Payload[]> {
  try {
    return await codec.decode(payloads);
  } catch (error) {
    if (error instanceof AppError || unavailablePart(error) || (typeof error === 'object' && error !== null && '$metadata' in error)) throw error;
    throw new AppError('unprocessable', 'A payload could not be decoded: it is damaged or was not encrypted by this deployment.');
  }
}
