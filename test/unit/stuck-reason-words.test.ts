/**
 * The stuck list (`/stuck`) and a stuck round's notice say which step fails by the workflow history's names
 * and explain a failure kind they recognise, keeping the raw kind for support staff.
 */
import { translator } from '../../src/i18n';
import type { StuckReasonView } from '../../src/contract/stuck-rounds';
import { describeStuckReason, errorMeaning } from '../../src/web/client/console/operations/stuck-reason-words';

const when = (at: string) => `<${at}>`;
const failing = (activity: string, lastError: string | null): StuckReasonView => ({
  code: activity === 'sealSignedDocument' ? 'seal_retrying' : 'activity_failing',
  since: '2026-05-01T10:00:00.000Z',
  activity,
  attempts: 5,
  lastError,
});

test('a failing invitation is said in words, its socket error explained and kept', () => {
  expect(describeStuckReason(failing('sendInvitation', 'Error:ESOCKET'), translator('en'), when)).toEqual({
    text: 'A step keeps failing (Sending an invitation): 5 attempts since <2026-05-01T10:00:00.000Z>.',
    explanation: 'could not reach a server (mail, SMS, KMS, storage…)',
    errorKind: 'Error:ESOCKET',
  });
  expect(describeStuckReason(failing('notifyOutcome', 'Error:ECONNREFUSED'), translator('sv'), when).text).toBe(
    'Ett steg misslyckas gång på gång (Besked om utfallet till alla): 5 försök sedan <2026-05-01T10:00:00.000Z>.',
  );
  expect(describeStuckReason(failing('sealSignedDocument', 'Error:ENOENT'), translator('fi'), when).explanation).toBe(
    'määritetty tiedosto puuttuu (esimerkiksi avain- tai varmennetiedosto)',
  );
});

test('failure kinds by meaning; an unknown kind or step stays as the API gives it', () => {
  expect(['Error:ETIMEDOUT', 'Error:EAI_AGAIN', 'QueryFailedError:57P01', 'Error:EAUTH', 'Error:EACCES', 'AccessDeniedException', 'AppError:seal_kms_key_unusable'].map(errorMeaning)).toEqual([
    'unreachable',
    'unreachable',
    'database',
    'mailSignIn',
    'filePermission',
    'accessDenied',
    'sealKey',
  ]);
  expect(errorMeaning('QueryFailedError:23505')).toBeUndefined();
  expect(describeStuckReason(failing('somethingNew', 'TypeError'), translator('en'), when)).toEqual({
    text: 'A step keeps failing (somethingNew): 5 attempts since <2026-05-01T10:00:00.000Z>.',
    errorKind: 'TypeError',
  });
  expect(describeStuckReason({ code: 'past_deadline', since: '2026-05-01T10:00:00.000Z', activity: null, attempts: null, lastError: null }, translator('en'), when)).toEqual({
    text: 'Past its deadline since <2026-05-01T10:00:00.000Z>, yet still open.',
  });
});
