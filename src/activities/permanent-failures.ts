/**
 * An activity that fails because of its data fails the same way on every retry: with unlimited retries it
 * would hold its round "pending" for ever while nothing anywhere says something is wrong. Such failures are
 * made non-retryable here, for every activity at once, so the workflow sees them at the first attempt and
 * ends the round visibly: data the database refuses, and a message the mail server refuses with a 5xx
 * reply. Outages (database down, SMTP unreachable) stay retryable: they pass.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ZodError } from 'zod';
import { isPermanentDataError, isPermanentMailRefusal, sqlState } from '../failure-kinds';

/** Failure types, as the workflow history shows them. */
export const invalidDataFailure = 'InvalidData';
export const messageRefusedFailure = 'MessageRefused';

function asNonRetryable(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  if (isPermanentDataError(error)) {
    // The SQLSTATE says what went wrong without repeating the refused value (it may be personal data).
    return ApplicationFailure.create({ message: `the database refused the data (SQLSTATE ${sqlState(error)})`, type: invalidDataFailure, nonRetryable: true });
  }
  if (isPermanentMailRefusal(error)) {
    return ApplicationFailure.create({ message: 'the mail server refused the message for good (SMTP 5xx)', type: messageRefusedFailure, nonRetryable: true });
  }
  if (error instanceof ZodError) {
    return ApplicationFailure.create({ message: 'the activity input is invalid', type: invalidDataFailure, nonRetryable: true });
  }
  return error;
}

type AsyncFunctions = Record<string, (...args: never[]) => Promise<unknown>>;

export function failPermanentErrorsAtOnce<T extends AsyncFunctions>(activities: T): T {
  const wrapped: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args) => {
      try {
        return await activity(...args);
      } catch (error) {
        throw asNonRetryable(error);
      }
    };
  }
  return wrapped as T;
}
