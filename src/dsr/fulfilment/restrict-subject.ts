import type { SigningContext } from '../../signing/signing-context';
import type { DataSubject, SubjectRecord } from './subject-record';

/** Records a restriction (Art. 18) or objection (Art. 21) on the subject's open items: no further reminders. */
export async function restrictSubject(
  context: SigningContext,
  dsrId: string,
  subject: DataSubject,
  kind: 'restriction' | 'objection',
  actor: string,
): Promise<{ restricted: SubjectRecord[] }> {
  void context;
  void dsrId;
  void subject;
  void kind;
  void actor;
  throw new Error('restrictSubject: not implemented yet');
}
