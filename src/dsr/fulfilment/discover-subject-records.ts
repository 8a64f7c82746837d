import type { SigningContext } from '../../signing/signing-context';
import type { DataSubject, SubjectRecord } from './subject-record';

/** Every record in the subject's organisation that concerns them, with what erasure would do to it. */
export async function discoverSubjectRecords(context: SigningContext, subject: DataSubject): Promise<SubjectRecord[]> {
  void context;
  void subject;
  throw new Error('discoverSubjectRecords: not implemented yet');
}
