/**
 * The pure parts of retention: which period applies to which ended record, how a folder override, the
 * organisation's policy and the defaults combine (per setting), the grounds a deletion receipt records, and
 * the notice email as its readers get it (en, sv, fi; many records summarised).
 */
import { defaultRetention, emptyOverrides, periodFor, resolveRetention, retentionGrounds } from '../../src/retention/policy';
import { retentionNoticeEmail, type NoticedItem } from '../../src/retention/notice-email';

test('the period follows the record kind and its final status; open records have none', () => {
  expect(periodFor('signing_request', 'completed')).toBe('completedDays');
  for (const status of ['declined', 'expired', 'cancelled']) expect(periodFor('signing_request', status)).toBe('unfinishedDays');
  expect(periodFor('signing_request', 'failed')).toBe('failedDays');
  expect(periodFor('signing_request', 'pending')).toBeUndefined();
  for (const status of ['approved', 'rejected', 'expired', 'cancelled', 'failed']) expect(periodFor('kyc_case', status)).toBe('kycDays');
  for (const status of ['invited', 'in_progress', 'signing', 'in_review', 'changes_requested']) expect(periodFor('kyc_case', status)).toBeUndefined();
  for (const status of ['completed', 'rejected', 'withdrawn']) expect(periodFor('data_subject_request', status)).toBe('dsrDays');
  for (const status of ['awaiting_identity', 'in_progress']) expect(periodFor('data_subject_request', status)).toBeUndefined();
  // Three years: proof the organisation answered (GDPR Art. 5(2)).
  expect(defaultRetention.dsrDays).toBe(1096);
});

test('folder override > organisation > default, each setting on its own', () => {
  expect(resolveRetention(emptyOverrides())).toEqual({
    values: defaultRetention,
    sources: { completedDays: 'default', unfinishedDays: 'default', failedDays: 'default', kycDays: 'default', dsrDays: 'default', noticeDays: 'default' },
  });
  const organization = { ...emptyOverrides(), unfinishedDays: 60, failedDays: 30, noticeDays: 7 };
  const folder = { ...emptyOverrides(), failedDays: 10, completedDays: 4000 };
  expect(resolveRetention(organization, folder)).toEqual({
    values: { completedDays: 4000, unfinishedDays: 60, failedDays: 10, kycDays: 1826, dsrDays: 1096, noticeDays: 7 },
    sources: { completedDays: 'folder', unfinishedDays: 'organization', failedDays: 'folder', kycDays: 'default', dsrDays: 'default', noticeDays: 'organization' },
  });
});

test('the grounds name the policy that set the period, in a rule and in words', () => {
  const scope = { organizationId: 'org-1', folderId: 'folder-1' };
  expect(retentionGrounds('completedDays', 3653, 'default', scope)).toEqual({ rule: 'retention:default', reason: 'Completed requests are kept 3653 days (default)' });
  expect(retentionGrounds('unfinishedDays', 60, 'organization', scope)).toEqual({
    rule: 'retention:organization:org-1',
    reason: 'Declined, expired and cancelled requests are kept 60 days (organisation policy)',
  });
  expect(retentionGrounds('kycDays', 1826, 'folder', scope)).toEqual({ rule: 'retention:folder:folder-1', reason: 'KYC cases are kept 1826 days after the case ends (folder policy)' });
  expect(retentionGrounds('dsrDays', 1096, 'default', { organizationId: 'org-1', folderId: null })).toEqual({
    rule: 'retention:default',
    reason: 'Data-subject requests are kept 1096 days after they end (default)',
  });
});

test('the notice email lists what will be deleted and when by id and link, never by title, in the organisation language, and summarises long lists', () => {
  const item = (index: number): NoticedItem => ({
    kind: index % 2 ? 'kyc_case' : 'signing_request',
    id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    status: 'cancelled',
    deleteNotBefore: new Date(Date.UTC(2026, 11, 20 + (index % 3), 9)),
    reason: 'Declined, expired and cancelled requests are kept 90 days (default)',
  });
  const facts = { organizationName: 'Acme Oy', timeZone: 'Europe/Helsinki', items: [item(0), item(1)] };
  const en = retentionNoticeEmail(facts, { name: 'Maria', locale: 'en' }, 'https://sigill.example');
  expect(en.subject).toBe('2 records of Acme Oy will be deleted under the retention policy');
  expect(en.text).toContain('the first on or after 20 December 2026');
  expect(en.text).toContain(`• Signing request ${item(0).id} (Cancelled): on or after 20 December 2026.`);
  expect(en.text).toContain(`https://sigill.example/requests/${item(0).id}`);
  expect(en.text).toContain(`• KYC case ${item(1).id} (Cancelled): on or after 21 December 2026.`);
  expect(en.text).toContain(`https://sigill.example/kyc/${item(1).id}`);
  expect(en.text).toContain('PUT /v1/signing-requests/<id>/legal-hold');
  expect(en.text).toContain('https://sigill.example/admin/retention');
  expect(en.html).toContain('&lt;id&gt;'); // escaped by construction
  const dsr: NoticedItem = { kind: 'data_subject_request', id: item(2).id, status: 'rejected', deleteNotBefore: item(2).deleteNotBefore, reason: 'Data-subject requests are kept 1096 days after they end (default)' };
  const withDsr = retentionNoticeEmail({ ...facts, items: [dsr] }, { name: 'Maria', locale: 'en' }, 'https://sigill.example');
  expect(withDsr.text).toContain(`• Data-subject request ${dsr.id} (Rejected): on or after 22 December 2026.`);
  expect(withDsr.text).toContain(`https://sigill.example/privacy-requests/${dsr.id}`);

  expect(retentionNoticeEmail(facts, { name: 'Maria', locale: 'sv' }, 'x').subject).toBe('2 poster hos Acme Oy raderas enligt gallringsregeln');
  expect(retentionNoticeEmail(facts, { name: 'Maria', locale: 'fi' }, 'x').text).toContain('aikaisintaan');
  expect(retentionNoticeEmail(facts, { name: 'Maria', locale: 'sv' }, 'x').text).toContain(`• Signeringsbegäran ${item(0).id} (Återkallat)`);

  const many = retentionNoticeEmail({ ...facts, items: Array.from({ length: 35 }, (_, index) => item(index)) }, { name: 'Maria', locale: 'en' }, 'x');
  expect(many.text).toContain(item(28).id);
  expect(many.text).not.toContain(item(30).id);
  expect(many.text).toContain('…and 5 more (see the console).');
});
