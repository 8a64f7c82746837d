import type { Middleware } from 'koa';
import { AppError, unavailableError, type ErrorCode } from '../../errors';
import { isPermanentDataError, isPermanentMailRefusal, unavailablePart } from '../../failure-kinds';

/** Errors thrown by Koa and its body parser carry an HTTP status; give each a stable code too. */
const codeForStatus: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  423: 'locked',
  429: 'rate_limited',
  501: 'not_implemented',
};

const framedErrorMessages: Partial<Record<ErrorCode, string>> = {
  payload_too_large: 'The request body is larger than this endpoint accepts.',
  method_not_allowed: 'This method is not allowed on this path.',
  not_found: 'No such resource.',
  not_implemented: 'This server does not implement this method.',
};


function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  const unavailable = unavailablePart(error);
  if (unavailable) return unavailableError(unavailable);
  // A value the database refuses (e.g. a NUL that slipped past validation): the caller's to change.
  if (isPermanentDataError(error)) return new AppError('unprocessable', 'The request contains a value that cannot be stored.');
  if (isPermanentMailRefusal(error)) return new AppError('unprocessable', 'The mail server refused the email address.');
  const status = (error as { status?: number; statusCode?: number })?.status ?? (error as { statusCode?: number })?.statusCode;
  const code = status === undefined ? undefined : codeForStatus[status];
  if (!code) return undefined;
  // Body-parser and router messages are generic and safe, but we still use our own wording for stable text.
  const isJsonSyntax = (error as { type?: string }).type === 'entity.parse.failed' || error instanceof SyntaxError;
  return new AppError(
    code,
    isJsonSyntax ? 'The request body is not valid JSON.' : framedErrorMessages[code] ?? 'The request was rejected.',
  );
}

/**
 * The one place where errors become HTTP responses: `{ "error": { "code", "message" } }` with the status
 * of the code. Anything unexpected is logged with its stack and answered as a bare 500, never with details.
 */
export function errorHandler(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError('not_found', 'No such resource.');
      // The router answers an unsupported method with the status and `Allow`, but no body.
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        const code = codeForStatus[ctx.status]!;
        throw new AppError(code, framedErrorMessages[code]!);
      }
    } catch (error) {
      const appError = toAppError(error);
      if (appError) {
        ctx.status = appError.status;
        ctx.body = {
          ...appError.topLevel,
          error: {
            code: appError.code,
            message: appError.message,
            ...(appError.details === undefined ? {} : { details: appError.details }),
          },
        };
        const retryAfter = appError.topLevel?.retryAfterSeconds;
        if (typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter));
        if (appError.status === 503) ctx.state.log?.warn({ err: error, code: appError.code }, 'dependency unavailable');
        else if (appError.code === 'unprocessable' && !(error instanceof AppError)) ctx.state.log?.warn({ err: error }, 'a value was refused downstream');
        return;
      }
      ctx.state.log?.error({ err: error }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: { code: 'internal_error', message: 'Something went wrong on our side. The request id identifies it in our logs.' } };
    }
  };
}
