/**
 * Failure messages and stack traces go into workflow history too; encoding them as payloads lets the
 * encryption codec cover them (loaded by path: it also runs inside the workflow sandbox).
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
