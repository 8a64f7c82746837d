/**
 * multipart/form-data for endpoints that take a file beside JSON (e.g. a `document` PDF part and a
 * `request` JSON part). Parsed with busboy under hard limits: an oversized file is cut off and answered
 * 413, never buffered whole.
 */
import busboy from 'busboy';
import type { Context } from 'koa';
import { AppError } from '../errors';

export interface MultipartForm {
  fields: Map<string, string>;
  files: Map<string, { filename: string; bytes: Buffer }>;
}

export function readMultipart(ctx: Context, limits: { maxFileBytes: number; maxFieldBytes: number }): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: ctx.req.headers,
        // Browsers send a file name as UTF-8 bytes; busboy's default (latin1) would turn "契約.pdf" into
        // mojibake with C1 control characters, which the text rule then refuses.
        defParamCharset: 'utf8',
        limits: { fileSize: limits.maxFileBytes, fieldSize: limits.maxFieldBytes, files: 2, fields: 10, parts: 12 },
      });
    } catch {
      reject(new AppError('invalid_request', 'The multipart body is malformed.'));
      return;
    }
    const form: MultipartForm = { fields: new Map(), files: new Map() };
    let failure: AppError | undefined;
    const fail = (error: AppError) => {
      failure ??= error;
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new AppError('payload_too_large', `The "${name}" part is larger than this endpoint accepts.`));
      form.fields.set(name, value);
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => fail(new AppError('payload_too_large', `The "${name}" file is larger than the limit of ${Math.round(limits.maxFileBytes / 1024 / 1024)} MB.`)));
      stream.on('close', () => form.files.set(name, { filename: info.filename ?? '', bytes: Buffer.concat(chunks) }));
    });
    parser.on('filesLimit', () => fail(new AppError('invalid_request', 'Too many files in the multipart body.')));
    parser.on('error', () => reject(failure ?? new AppError('invalid_request', 'The multipart body is malformed.')));
    parser.on('close', () => (failure ? reject(failure) : resolve(form)));
    ctx.req.pipe(parser);
  });
}
