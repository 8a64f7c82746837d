import type { SigningContext } from '../../signing/signing-context';
import type { DataSubject, SubjectRecord } from './subject-record';

/** Shreds every record of the subject that no legal basis keeps (GDPR Art. 17); idempotent per record. */
export async function eraseSubjectData(
  context: SigningContext,
  dsrId: string,
  subject: DataSubject,
  actor: string,
): Promise<{ erased: SubjectRecord[]; kept: SubjectRecord[] }> {
  void context;
  void dsrId;
  void subject;
  void actor;
  throw new Error('eraseSubjectData: not implemented yet');
}
