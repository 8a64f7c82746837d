/**
 * Encryption at rest (R11) over the filesystem store with the local key service: what lands on disk is
 * ciphertext bound to its object key, and anything changed in it is refused rather than returned.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FilesystemBlobStore } from '../../src/adapters/blob-store';
import { BlobDecryptionError, EncryptedBlobStore } from '../../src/adapters/encrypted-blob-store';
import { LocalKeyService, type DataKey, type EncryptionContext, type KeyService } from '../../src/adapters/key-service';

let dir: string;
let root: string;
let keyService: LocalKeyService;
let store: EncryptedBlobStore;

const marker = 'CONFIDENTIAL-SALARY-AGREEMENT-7f3a';
const document = Buffer.from(`%PDF-1.7\n1 0 obj << /Title (${marker}) >> endobj\n${'x'.repeat(2000)}\n%%EOF\n`, 'latin1');

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigill-encrypted-blob-'));
  root = path.join(dir, 'blobs');
  keyService = new LocalKeyService(path.join(dir, 'keys', 'master.key'));
  store = new EncryptedBlobStore(new FilesystemBlobStore(root), keyService);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const raw = (key: string) => fs.readFileSync(path.join(root, key));

test('round trip: the same bytes come back', async () => {
  await store.put('orgs/o1/requests/r1/original', document);
  expect(Buffer.from((await store.get('orgs/o1/requests/r1/original'))!)).toEqual(document);
});

test('an empty object round-trips too', async () => {
  await store.put('empty', new Uint8Array());
  expect((await store.get('empty'))!.length).toBe(0);
});

test('what is stored is ciphertext: no plaintext, no %PDF header, the format magic instead', async () => {
  await store.put('stored/plain-check', document);
  const stored = raw('stored/plain-check');
  expect(stored.subarray(0, 4).toString('latin1')).not.toBe('%PDF');
  expect(stored.subarray(0, 4)).toEqual(Buffer.from([0x53, 0x47, 0x42, 0x01])); // "SGB", version 1
  expect(stored.includes(Buffer.from(marker))).toBe(false);
  expect(stored.includes(Buffer.from('%PDF'))).toBe(false);
});

test('each object gets a fresh data key and IV: the same plaintext stored twice differs', async () => {
  await store.put('twice/a', document);
  await store.put('twice/b', document);
  await store.put('twice/a-again', document);
  const [a, b] = [raw('twice/a'), raw('twice/b')];
  expect(a.equals(b)).toBe(false);
  // Overwriting one key (an activity retried) also re-encrypts under a new data key.
  const before = raw('twice/a-again');
  await store.put('twice/a-again', document);
  expect(raw('twice/a-again').equals(before)).toBe(false);
});

describe('a modified object is refused', () => {
  const key = 'tamper/original';
  let pristine: Buffer;

  beforeAll(async () => {
    await store.put(key, document);
    pristine = raw(key);
  });

  // Offsets: 0 magic, 3 version, 4-5 wrapped-key length, then the wrapped key, IV, tag, ciphertext.
  const positions: Array<[string, (object: Buffer) => number]> = [
    ['the magic', () => 0],
    ['the version', () => 3],
    ['the wrapped-key length', () => 5],
    ['the wrapped data key', () => 6 + 10],
    ['the IV', (object) => 6 + object.readUInt16BE(4) + 3],
    ['the auth tag', (object) => 6 + object.readUInt16BE(4) + 12 + 5],
    ['the first ciphertext byte', (object) => 6 + object.readUInt16BE(4) + 12 + 16],
    ['the last ciphertext byte', (object) => object.length - 1],
  ];

  test.each(positions)('one flipped bit in %s → get throws, without leaking the plaintext', async (_, at) => {
    const modified = Buffer.from(pristine);
    modified[at(modified)] ^= 0x01;
    fs.writeFileSync(path.join(root, key), modified);
    const error = await store.get(key).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(BlobDecryptionError);
    expect((error as Error).message).toContain(key);
    expect((error as Error).message).not.toContain(marker);
  });

  test('a truncated object → get throws', async () => {
    fs.writeFileSync(path.join(root, key), pristine.subarray(0, 20));
    await expect(store.get(key)).rejects.toThrow(/could not be decrypted: it is truncated/);
  });

  test('a plaintext PDF put there behind our back is not returned as a document', async () => {
    fs.writeFileSync(path.join(root, key), document);
    await expect(store.get(key)).rejects.toThrow(/not an encrypted Sigill object/);
  });

  afterAll(() => fs.writeFileSync(path.join(root, key), pristine));
});

test('the same ciphertext copied under another key does not decrypt', async () => {
  await store.put('orgs/o1/requests/a/sealed.pdf', document);
  const target = path.join(root, 'orgs/o1/requests/b/sealed.pdf');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(path.join(root, 'orgs/o1/requests/a/sealed.pdf'), target);
  await expect(store.get('orgs/o1/requests/b/sealed.pdf')).rejects.toThrow(
    /orgs\/o1\/requests\/b\/sealed\.pdf could not be decrypted: its data key could not be unwrapped/,
  );
});

test('another master key cannot read the objects', async () => {
  await store.put('other-master/doc', document);
  const stranger = new EncryptedBlobStore(new FilesystemBlobStore(root), new LocalKeyService(path.join(dir, 'other', 'master.key')));
  await expect(stranger.get('other-master/doc')).rejects.toThrow(BlobDecryptionError);
});

test('a missing object is still undefined', async () => {
  expect(await store.get('no/such/object')).toBeUndefined();
});

test('kind and reachability are the inner store’s', async () => {
  expect(store.kind).toBe('filesystem');
  await expect(store.checkReachable()).resolves.toBeUndefined();
  const blocked = path.join(dir, 'a-file');
  fs.writeFileSync(blocked, '');
  const unreachable = new EncryptedBlobStore(new FilesystemBlobStore(path.join(blocked, 'blobs')), keyService);
  await expect(unreachable.checkReachable()).rejects.toThrow();
});

test('the plaintext data keys are zeroed after use, and the context names the object', async () => {
  const handedOut: Buffer[] = [];
  const contexts: EncryptionContext[] = [];
  const watching: KeyService = {
    kind: 'local',
    checkReachable: () => keyService.checkReachable(),
    async generateDataKey(context): Promise<DataKey> {
      contexts.push(context);
      const dataKey = await keyService.generateDataKey(context);
      handedOut.push(dataKey.plaintext);
      return dataKey;
    },
    async unwrapDataKey(wrapped, context) {
      contexts.push(context);
      const plaintext = await keyService.unwrapDataKey(wrapped, context);
      handedOut.push(plaintext);
      return plaintext;
    },
  };
  const watched = new EncryptedBlobStore(new FilesystemBlobStore(root), watching);
  await watched.put('zeroed/doc', document);
  expect(Buffer.from((await watched.get('zeroed/doc'))!)).toEqual(document);
  expect(handedOut).toHaveLength(2);
  for (const key of handedOut) expect(key.equals(Buffer.alloc(32))).toBe(true);
  expect(contexts).toEqual([
    { purpose: 'sigill-blob', blobKey: 'zeroed/doc' },
    { purpose: 'sigill-blob', blobKey: 'zeroed/doc' },
  ]);
});
