/**
 * A payload of a shredded record (an abandoned activity attempt finishing after the shred) is encoded as a
 * marker that carries nothing, instead of throwing (which stops the worker) or falling back to another key.
 */
import type { KeyService } from '../../src/adapters/key-service';
import { DELETED_RECORD_ENCODING, EncryptionPayloadCodec } from '../../src/adapters/payload-codec';
import { RecordKeyDestroyedError, type RecordKeyring } from '../../src/privacy/record-keys';

const unusedKeyService = {} as KeyService;
const shreddedKeyring = {
  keyOf: async () => {
    throw new RecordKeyDestroyedError();
  },
} as unknown as RecordKeyring;

test('encoding for a deleted record sends nothing of the payload, and decoding it answers record_deleted', async () => {
  const codec = new EncryptionPayloadCodec(unusedKeyService, Date.now, shreddedKeyring);
  const secret = Buffer.from('"Signer Name <signer@example.test>"');
  const [encoded] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: secret }], {
    type: 'activity',
    namespace: 'default',
    workflowId: 'signing-request-00000000-0000-4000-8000-000000000001',
    isLocal: false,
  });
  expect(Buffer.from(encoded!.metadata!.encoding!).toString()).toBe(DELETED_RECORD_ENCODING);
  expect(encoded!.data!.length).toBe(0);
  expect(JSON.stringify(encoded)).not.toContain('Signer');
  await expect(codec.decode([encoded!])).rejects.toBeInstanceOf(RecordKeyDestroyedError);
});
