/**
 * The console speaks the reader's language for what the API says in English: workflow history steps from
 * their structured fields, and failures from their stable error codes (the API's message only as a detail).
 */
import { translator } from '../../src/i18n';
import { errorText, fieldErrorText } from '../../src/web/client/console/error-text';
import { describeStep, type HistoryStep } from '../../src/web/client/console/requests/history-steps';

const signers = [
  { id: '11111111-1111-4111-8111-111111111111', name: 'Åsa Öberg' },
  { id: '22222222-2222-4222-8222-222222222222', name: 'Matti Meikäläinen' },
];
const expiresAt = '2026-05-30T10:00:00.000Z';
const setting = (locale: 'en' | 'sv' | 'fi') => ({ signers, expiresAt, t: translator(locale), when: (at: string) => `<${at}>` });
const step = (fields: Partial<HistoryStep>): HistoryStep => ({ eventId: 1, at: '2026-05-01T10:00:00.000Z', event: '', summary: 'english summary', ...fields });

describe('workflow history in plain words', () => {
  const invitationSent = step({ event: 'ActivityTaskCompleted', activity: 'sendInvitation', signerId: signers[1]!.id, summary: 'sendInvitation completed' });

  test.each([
    ['en', 'Invitation sent to signer 2 (Matti Meikäläinen)'],
    ['sv', 'Inbjudan skickad till undertecknare 2 (Matti Meikäläinen)'],
    ['fi', 'Kutsu lähetetty allekirjoittajalle 2 (Matti Meikäläinen)'],
  ] as const)('an activity for a signer, in %s', (locale, text) => {
    expect(describeStep(invitationSent, setting(locale))).toEqual({ text, untranslated: false });
  });

  test('timers say what they wait for, and until when', () => {
    const reminder = step({ event: 'TimerStarted', timer: { seconds: 86400, firesAt: '2026-05-02T10:00:00.000Z' } });
    const deadline = step({ event: 'TimerStarted', timer: { seconds: 2505600, firesAt: '2026-05-30T10:00:00.004Z' } });
    expect(describeStep(reminder, setting('en')).text).toBe('Waiting until the next reminder (<2026-05-02T10:00:00.000Z>)');
    expect(describeStep(deadline, setting('fi')).text).toBe('Odotetaan määräaikaan asti (<2026-05-30T10:00:00.004Z>)');
    expect(describeStep({ ...deadline, event: 'TimerFired' }, setting('sv')).text).toBe('Tiden för att skriva under har gått ut');
  });

  test('Updates, Signals, audit entries, failures and the round’s end', () => {
    const sv = setting('sv');
    expect(describeStep(step({ event: 'WorkflowExecutionUpdateAccepted', update: 'sign', signerId: signers[0]!.id }), sv).text).toBe('Undertecknare 1 (Åsa Öberg) skrev under');
    expect(describeStep(step({ event: 'WorkflowExecutionSignaled', signal: 'signerOpened', signerId: signers[0]!.id }), setting('en')).text).toBe(
      'Signer 1 (Åsa Öberg) opened the link',
    );
    expect(describeStep(step({ event: 'ActivityTaskCompleted', activity: 'recordAuditEvent', auditEvent: 'signed' }), setting('en')).text).toMatch(/^Recorded in the audit trail: \S/);
    expect(describeStep(step({ event: 'ActivityTaskFailed', activity: 'sealSignedDocument' }), setting('fi')).text).toBe('Allekirjoitetun asiakirjan sinetöinti: epäonnistui');
    expect(describeStep(step({ event: 'WorkflowExecutionCompleted', outcome: 'completed' }), setting('en')).text).toBe('Signing round ended: Signed by everyone');
    // A round's patch marker (its code versions a change): said in words, not left as an English event name.
    expect(describeStep(step({ event: 'MarkerRecorded', summary: 'code version recorded' }), sv)).toEqual({
      text: 'Kodversion registrerad (pågående rundor behåller koden de startade med)',
      untranslated: false,
    });
  });

  test('an unknown kind, or a signer the request does not know, keeps the English summary with a note', () => {
    expect(describeStep(step({ event: 'ChildWorkflowExecutionStarted', summary: 'child workflow execution started' }), setting('fi'))).toEqual({
      text: 'child workflow execution started (ei käännetty)',
      untranslated: true,
    });
    expect(describeStep(step({ event: 'ActivityTaskCompleted', activity: 'somethingNew', summary: 'somethingNew completed' }), setting('en')).untranslated).toBe(true);
    expect(describeStep({ ...invitationSent, signerId: undefined }, setting('sv'))).toEqual({ text: 'sendInvitation completed (inte översatt)', untranslated: true });
  });
});

describe('API failures in the reader’s language', () => {
  test('a code becomes its sentence; the message is added only where it carries a fact', () => {
    expect(errorText('forbidden', 'This key may not send in this folder.', translator('sv'))).toBe('Du har inte behörighet att göra det här.');
    expect(errorText('conflict', 'the signing request is cancelled', translator('fi'))).toBe(
      'Tämä ei onnistu nykyisessä tilanteessa. Lataa sivu uudelleen nähdäksesi, mikä on muuttunut. (Palvelimen viesti: the signing request is cancelled)',
    );
    expect(errorText('temporal_unavailable', 'Temporal is unreachable', translator('en'))).toBe('The workflow engine cannot be reached right now. Try again in a moment.');
    expect(errorText('http_502', undefined, translator('en'))).toBe(translator('en')('common:genericError'));
    // Closing refused for a legal hold, a hold refused on a deleted record: said, not "something went wrong".
    expect(errorText('legal_hold', '1 legal hold(s) apply in this organisation', translator('en'))).toMatch(/^A legal hold applies: lift it first.*\(Server message: 1 legal hold/);
    expect(errorText('record_deleted', undefined, translator('fi'))).toBe('Tämä on poistettu: sen tiedot ovat pysyvästi poissa.');
  });

  test('a field keeps its own error, said in the reader’s language with the API’s rule beside it', () => {
    expect(fieldErrorText('invalid_request', 'Invalid email address', translator('fi'))).toBe('Tarkista tämä arvo. (Palvelimen viesti: Invalid email address)');
    expect(fieldErrorText('invalid_text', 'contains a control character', translator('sv'))).toMatch(/^En del av texten innehåller tecken/);
  });
});
