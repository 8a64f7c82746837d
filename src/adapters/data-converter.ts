import type { DataConverter, PayloadCodec } from '@temporalio/common';

/** Module path of the failure converter: workers and workflow bundles load it by path. */
export const failureConverterPath = require.resolve('../workflows/failure-converter');

/**
 * The data converter every Sigill client and worker uses: payloads and failure messages go through the
 * encryption codec (one instance per process, see SigningContext.payloadCodec).
 */
export function sigillDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath };
}
