/**
 * The API's failures in the reader's language. The API speaks English in `error.message` (for developers and
 * logs) and a stable `error.code`; the console says the code's sentence from the `console` catalog and shows
 * the API's message only beside it, as a detail, where it names a specific fact (which field, what is wrong
 * with it, what state stopped the action). Pure (no DOM), so a unit test reads it as the console does.
 */
import type { Translate } from '../../../i18n';

/** Codes whose message carries a fact of its own (a field and its rule, the state that refused). */
const detailedCodes = new Set(['invalid_request', 'unprocessable', 'invalid_text', 'conflict', 'legal_hold']);

/** A banner's text for an API failure: the code's sentence, then the API's message where it says more. */
export function errorText(code: string, message: string | undefined, t: Translate): string {
  const sentence = t(`console:errors.${code}`, { defaultValue: '' }) || t('common:genericError');
  const detail = message && detailedCodes.has(code) ? message : undefined;
  return detail ? `${sentence} ${t('console:errors.detail', { detail })}` : sentence;
}

/** A field's error text: what to do in the reader's language, the API's words (the rule broken) as a detail. */
export function fieldErrorText(code: string, message: string | undefined, t: Translate): string {
  const sentence = ['invalid_text', 'invalid_document', 'encrypted_document', 'payload_too_large'].includes(code)
    ? t(`console:errors.${code}`)
    : t('console:errors.field');
  return message ? `${sentence} ${t('console:errors.detail', { detail: message })}` : sentence;
}
