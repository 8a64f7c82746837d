/**
 * The evidence package as a ZIP, with fflate: stored entries (its files are PDFs, images and small JSON,
 * already compressed or tiny), every entry dated with the package's creation time so the same contents
 * give the same bytes.
 */
import { zipSync, type Zippable } from 'fflate';

export function zipArchive(entries: Array<{ name: string; bytes: Uint8Array }>, at: Date): Buffer {
  const files: Zippable = {};
  for (const entry of entries) files[entry.name] = [entry.bytes, { level: 0, mtime: at }];
  return Buffer.from(zipSync(files));
}
