/**
 * The customer's declaration: a PDF of their answers and how they identified, in their language, which
 * they then sign in a signing round (sealed like every signed document). pdf-lib with the standard fonts,
 * as the audit-trail pages (src/documents/audit-trail-pdf.ts): text outside WinAnsi (which covers Swedish
 * and Finnish) is shown as '?', never dropped silently.
 */
import { PDFDocument, PageSizes, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { BeneficialOwnerAnswer, KycCustomerType, QuestionDefinition, QuestionnaireDefinition } from '../contract/kyc-cases';
import type { IdentificationEvidenceView } from '../contract/identification';
import { formatDateTime, translator, type Locale, type Translate } from '../i18n';
import { shownQuestions, type Answers } from './validate-answers';

export interface DeclarationInput {
  locale: Locale;
  timeZone: string;
  organizationName: string;
  customer: { type: KycCustomerType; name: string; email: string; businessId: string | null };
  identification: { method: 'pin' | 'eid'; evidence?: IdentificationEvidenceView };
  questionnaire: { version: number; definition: QuestionnaireDefinition };
  answers: Answers;
  /** Upload id → file name, for upload answers. */
  uploads: ReadonlyMap<string, string>;
  submittedAt: Date;
  caseId: string;
}

const margin = 56;
const size = 10;
const lineHeight = 14;
const ink = rgb(0.1, 0.1, 0.1);
const muted = rgb(0.4, 0.4, 0.4);

class Writer {
  private page: PDFPage;
  private y: number;
  private readonly encodable: Set<number>;

  constructor(
    private readonly document: PDFDocument,
    private readonly fonts: { regular: PDFFont; bold: PDFFont },
  ) {
    this.page = document.addPage(PageSizes.A4);
    this.y = this.page.getHeight() - margin;
    this.encodable = new Set(fonts.regular.getCharacterSet());
  }

  private safe(text: string): string {
    return [...text.normalize('NFC')].map((character) => (/\s/.test(character) ? ' ' : this.encodable.has(character.codePointAt(0)!) ? character : '?')).join('');
  }

  private lines(text: string, font: PDFFont, fontSize: number, width: number): string[] {
    const lines: string[] = [];
    for (const paragraph of text.split(/\r\n|\r|\n/)) {
      let line = '';
      for (const word of this.safe(paragraph).split(' ')) {
        const candidate = line ? `${line} ${word}` : word;
        if (font.widthOfTextAtSize(candidate, fontSize) <= width || !line) line = candidate;
        else {
          lines.push(line);
          line = word;
        }
      }
      lines.push(line);
    }
    return lines;
  }

  write(text: string, options: { bold?: boolean; fontSize?: number; colour?: ReturnType<typeof rgb>; indent?: number; after?: number } = {}): void {
    const font = options.bold ? this.fonts.bold : this.fonts.regular;
    const fontSize = options.fontSize ?? size;
    const x = margin + (options.indent ?? 0);
    for (const line of this.lines(text, font, fontSize, this.page.getWidth() - x - margin)) {
      if (this.y < margin + lineHeight) {
        this.page = this.document.addPage(PageSizes.A4);
        this.y = this.page.getHeight() - margin;
      }
      this.page.drawText(line, { x, y: this.y, size: fontSize, font, color: options.colour ?? ink });
      this.y -= fontSize > size ? fontSize + 6 : lineHeight;
    }
    this.y -= options.after ?? 0;
  }
}

function answerText(t: Translate, question: QuestionDefinition, answer: unknown, locale: Locale, uploads: ReadonlyMap<string, string>): string {
  const label = (text: Record<Locale, string>) => text[locale] || text.en;
  switch (question.type) {
    case 'yes_no':
      return answer === true ? t('email:kyc.declaration.yes') : t('email:kyc.declaration.no');
    case 'choice': {
      const values = Array.isArray(answer) ? (answer as string[]) : [answer as string];
      return values.map((value) => label(question.options.find((option) => option.value === value)?.label ?? { en: value, sv: value, fi: value })).join(', ');
    }
    case 'beneficial_owners':
      return (answer as BeneficialOwnerAnswer[])
        .map((owner) => t('email:kyc.declaration.owner', { name: owner.name, birthdate: owner.birthdate, percent: owner.ownershipPercent, pep: owner.pep ? t('email:kyc.declaration.yes') : t('email:kyc.declaration.no') }))
        .join('\n');
    case 'upload': {
      const ids = Array.isArray(answer) ? (answer as string[]) : [answer as string];
      return ids.map((id) => uploads.get(id) ?? id).join(', ');
    }
    case 'text':
      return String(answer);
  }
}

export async function renderDeclaration(input: DeclarationInput): Promise<Uint8Array> {
  const t = translator(input.locale);
  const document = await PDFDocument.create();
  const title = t('email:kyc.declaration.title');
  document.setTitle(title);
  document.setProducer('Sigill');
  document.setCreator('Sigill');
  // Fixed dates: the same answers always give the same file.
  document.setCreationDate(input.submittedAt);
  document.setModificationDate(input.submittedAt);
  const writer = new Writer(document, { regular: await document.embedFont(StandardFonts.Helvetica), bold: await document.embedFont(StandardFonts.HelveticaBold) });
  const label = (text: Record<Locale, string>) => text[input.locale] || text.en;

  writer.write(title, { bold: true, fontSize: 16, after: 4 });
  writer.write(t('email:kyc.declaration.to', { organization: input.organizationName }), { colour: muted, after: 10 });

  writer.write(t('email:kyc.declaration.customer'), { bold: true });
  writer.write(input.customer.name, { indent: 12 });
  writer.write(input.customer.email, { indent: 12 });
  if (input.customer.businessId) writer.write(t('email:kyc.declaration.businessId', { id: input.customer.businessId }), { indent: 12 });
  writer.write('', { after: 2 });

  writer.write(t('email:kyc.declaration.identification'), { bold: true });
  const evidence = input.identification.evidence;
  if (input.identification.method === 'eid' && evidence) {
    writer.write(
      t('email:kyc.declaration.identifiedWithEid', {
        name: evidence.name ?? '-',
        scheme: evidence.scheme ?? '-',
        nationalId: evidence.nationalIdMasked ?? '-',
        at: formatDateTime(evidence.identifiedAt, input.locale, input.timeZone),
      }),
      { indent: 12 },
    );
    if (evidence.transactionId) writer.write(t('email:kyc.declaration.transaction', { id: evidence.transactionId }), { indent: 12, colour: muted });
  } else {
    writer.write(t('email:kyc.declaration.identifiedWithPin'), { indent: 12 });
  }
  writer.write('', { after: 2 });

  writer.write(t('email:kyc.declaration.answers', { title: label(input.questionnaire.definition.title), version: input.questionnaire.version }), { bold: true, after: 2 });
  for (const question of shownQuestions(input.questionnaire.definition, input.answers, input.customer.type)) {
    const answer = input.answers[question.key];
    if (answer === undefined) continue;
    writer.write(label(question.label), { colour: muted, indent: 12 });
    writer.write(answerText(t, question, answer, input.locale, input.uploads), { indent: 24, after: 4 });
  }
  writer.write('', { after: 4 });
  writer.write(t('email:kyc.declaration.statement', { organization: input.organizationName }), { after: 6 });
  writer.write(t('email:kyc.declaration.submitted', { at: formatDateTime(input.submittedAt, input.locale, input.timeZone) }), { colour: muted });
  writer.write(t('email:kyc.declaration.reference', { id: input.caseId }), { colour: muted });
  return document.save({ useObjectStreams: false });
}
