/** Test documents and seal inputs, built in code so no binary fixture drifts from what the tests say. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PDFDocument, StandardFonts, degrees } from 'pdf-lib';
import type { SealInput } from '../../src/documents/seal-document';
import type { SealKey } from '../../src/documents/seal-key';

export interface TestPage {
  size?: [number, number];
  rotation?: number;
  text?: string;
}

export async function createTestPdf(pages: TestPage[] = [{}, {}]): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  pages.forEach((spec, index) => {
    const page = document.addPage(spec.size ?? [595.28, 841.89]);
    if (spec.rotation) page.setRotation(degrees(spec.rotation));
    const size = Math.min(12, page.getWidth() / 20);
    page.drawText(spec.text ?? `Original page ${index + 1}`, { x: 10, y: page.getHeight() - 2 * size, size, font });
  });
  return document.save();
}

export function sealInputFor(pdf: Uint8Array, key: SealKey, originalSha256: string, overrides: Partial<SealInput> = {}): SealInput {
  return {
    pdf,
    documentCode: 'SGL-7K3M-Q9XD-2PLA',
    title: 'Consulting agreement',
    originalSha256,
    signers: [
      {
        name: 'Aino Virtanen',
        email: 'aino@example.test',
        channel: 'email link',
        ip: '203.0.113.7',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
        signedAt: '2025-03-04T09:15:00.000Z',
      },
      { name: 'Bob Builder', email: 'bob@example.test', channel: 'sms', signedAt: '2025-03-04T10:02:30.000Z' },
    ],
    sealedAt: new Date('2025-03-04T10:05:00.000Z'),
    key,
    signerName: 'Sigill seal — Acme Oy',
    ...overrides,
  };
}

/** A fresh directory under the OS temp dir, and a function that removes it. */
export function temporaryDirectory(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sigill-${prefix}-`));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
