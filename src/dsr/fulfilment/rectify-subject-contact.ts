import type { SigningContext } from '../../signing/signing-context';
import type { DataSubject, SubjectRecord } from './subject-record';

export interface ContactChange {
  email?: string;
  phone?: string;
  name?: string;
}

/** Corrects the subject's contact data in open items (GDPR Art. 16), recorded in each item's audit trail. */
export async function rectifySubjectContact(
  context: SigningContext,
  subject: DataSubject,
  change: ContactChange,
  actor: string,
): Promise<{ updated: SubjectRecord[] }> {
  void context;
  void subject;
  void change;
  void actor;
  throw new Error('rectifySubjectContact: not implemented yet');
}
