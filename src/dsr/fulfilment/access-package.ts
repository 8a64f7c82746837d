import type { SigningContext } from '../../signing/signing-context';
import type { DataSubject } from './subject-record';

export interface AccessPackage {
  blobKey: string;
  sha256: string;
  size: number;
  recordCount: number;
}

/** The subject's data (GDPR Art. 15) as a ZIP at orgs/<org>/dsr/<dsrId>/access-package.zip. */
export async function buildAccessPackage(context: SigningContext, dsrId: string, subject: DataSubject): Promise<AccessPackage> {
  void context;
  void dsrId;
  void subject;
  throw new Error('buildAccessPackage: not implemented yet');
}
