export type { DataSubject, SubjectRecord, SubjectRecordKind, SubjectMatch, ErasureDecision } from './subject-record';
export { discoverSubjectRecords } from './discover-subject-records';
export { buildAccessPackage, type AccessPackage } from './access-package';
export { eraseSubjectData } from './erase-subject-data';
export { rectifySubjectContact, RectificationRefused, type ContactChange, type RectificationRefusalCode } from './rectify-subject-contact';
export { restrictSubject } from './restrict-subject';
