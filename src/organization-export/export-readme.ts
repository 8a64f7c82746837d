/** The README.txt at the end of every organisation export: what is in it and how to check it without Sigill. */
export function exportReadme(): string {
  return `Sigill organisation export
==========================

This archive holds everything the organisation kept in Sigill when the export was made.

  organization.json              the organisation and when this export was made
  requests/<id>/original.pdf     each signing request's document as uploaded
  requests/<id>/sealed.pdf       the signed and sealed PDF (completed requests)
  requests/<id>/evidence.pdf     the separately sealed audit trail, for documents that could take only a signature
  requests/<id>/audit-trail.json every event of the request's audit trail with its chain material
  requests/<id>/request.json     the request as GET /v1/signing-requests/<id> answers
  kyc-cases/<id>/case.json       each KYC case as GET /v1/kyc-cases/<id> answers
  kyc-cases/<id>/evidence.zip    the case's evidence package (decided cases), with its own manifest
  kyc-cases/<id>/audit-trail.json the case's audit trail with its chain material
  manifest.json                  every file above with its SHA-256 and size, and the deleted records

How to verify
-------------
1. Files: for every entry of manifest.json "files", compute the SHA-256 of the file of that name
   (e.g. sha256sum requests/<id>/sealed.pdf) and compare it with "sha256"; the size must equal "size".
   The SHA-256 of this whole archive is shown by Sigill beside the download and in the email you received.
2. Sealed PDFs: open them in Adobe Acrobat or validate them with any PAdES validator, e.g.
   pyhanko sign validate --pretty-print requests/<id>/sealed.pdf
   The signature covers the whole document; the SHA-256 in request.json ("sha256") is that of sealed.pdf.
3. Audit trails: each event's "prevHash" is the previous event's "hash" and positions ("sequence") have
   no gaps; "chainHead" is the last event's hash and the sealed PDF's audit page prints it. Sigill verified
   each chain when it wrote the export ("chainValid"). Hashes of chain format 2 are keyed with the
   deployment's audit chain key, so they can be recomputed only by Sigill (GET .../audit-trail); the links
   between events can be checked by anyone.
4. Deleted records: "deletedRecords" in manifest.json lists records that were deleted (crypto-shredded)
   before the export, with their deletion receipt (what, when, under which rule, which keys were destroyed).
   Their content no longer exists anywhere and is not in this archive.
`;
}
