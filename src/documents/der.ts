/**
 * Just enough DER for the CMS and RFC 3161 structures Sigill writes and reads. Written by hand on purpose:
 * certificates, names and timestamp tokens must be copied byte for byte (verifiers hash them as found),
 * and a round trip through a schema library may re-encode them.
 */
export const tag = {
  boolean: 0x01,
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  objectIdentifier: 0x06,
  sequence: 0x30,
  set: 0x31,
  contextConstructed: (n: number) => 0xa0 | n,
} as const;

export function tlv(tagByte: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tagByte]), derLength(body.length), body]);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function sequence(...elements: Buffer[]): Buffer {
  return tlv(tag.sequence, ...elements);
}

export function octetString(bytes: Buffer): Buffer {
  return tlv(tag.octetString, bytes);
}

export function nullValue(): Buffer {
  return tlv(tag.null);
}

/** Small non-negative integers only (versions). */
export function integer(value: number): Buffer {
  return tlv(tag.integer, Buffer.from([value]));
}

/** A non-negative INTEGER from big-endian bytes (a nonce, a serial number): a 0x00 keeps it positive. */
export function unsignedInteger(bytes: Buffer): Buffer {
  return tlv(tag.integer, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

export function booleanTrue(): Buffer {
  return tlv(tag.boolean, Buffer.from([0xff]));
}

export function objectIdentifier(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const arcs = [first! * 40 + second!, ...rest];
  const bytes: number[] = [];
  for (const arc of arcs) {
    const base128 = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      base128.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...base128);
  }
  return tlv(tag.objectIdentifier, Buffer.from(bytes));
}

/** DER orders the members of a SET OF by their encodings; verifiers hash the bytes as they find them. */
export function derSortedSetContents(elements: Buffer[]): Buffer {
  return Buffer.concat([...elements].sort(Buffer.compare));
}

export interface DerElement {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  contentStart: number;
  end: number;
}

export function readElement(der: Buffer, start: number): DerElement {
  const tagByte = der[start];
  const firstLengthByte = der[start + 1];
  if (tagByte === undefined || firstLengthByte === undefined) throw new Error('truncated DER');
  let length = firstLengthByte;
  let contentStart = start + 2;
  if (firstLengthByte & 0x80) {
    const lengthBytes = firstLengthByte & 0x7f;
    if (lengthBytes === 0 || lengthBytes > 4) throw new Error('unsupported DER length');
    length = der.readUIntBE(start + 2, lengthBytes);
    contentStart += lengthBytes;
  }
  const end = contentStart + length;
  if (end > der.length) throw new Error('truncated DER');
  return { tag: tagByte, start, contentStart, end };
}

export function children(der: Buffer, parent: DerElement): DerElement[] {
  const found: DerElement[] = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const child = readElement(der, offset);
    found.push(child);
    offset = child.end;
  }
  return found;
}

