import { roundErasure } from '../../src/dsr/fulfilment/discover-subject-records';

const round = (fields: Partial<Parameters<typeof roundErasure>[0]>) =>
  roundErasure({ request_status: 'declined', sealed_at: null, completed_at: null, legal_hold_at: null, folder_legal_hold_at: null, all_signed: false, ...fields });

describe("what erasure does with a data subject's signing round", () => {
  test('declined, expired, cancelled rounds and failed ones without every signature are erased', () => {
    for (const status of ['declined', 'expired', 'cancelled', 'failed']) expect(round({ request_status: status })).toEqual({ action: 'erase' });
  });

  test('a round every signer signed is kept as a contract, also when its sealing failed', () => {
    const endedAt = new Date('2026-03-01T10:00:00Z');
    expect(round({ request_status: 'completed', sealed_at: endedAt, completed_at: endedAt, all_signed: true })).toMatchObject({
      action: 'keep',
      legalBasis: expect.stringContaining('Art. 17(3)(b)'),
      keepUntil: '2036-03-01T10:00:00.000Z',
    });
    expect(round({ request_status: 'failed', completed_at: endedAt, all_signed: true })).toMatchObject({
      action: 'keep',
      legalBasis: expect.stringContaining('Art. 17(3)(b)'),
      explanation: expect.stringContaining('Every signer signed'),
    });
  });

  test('a legal hold keeps any round; a pending one is kept until it ends', () => {
    expect(round({ legal_hold_at: '2026-01-01T00:00:00Z' })).toMatchObject({ action: 'keep', legalBasis: expect.stringContaining('legal hold') });
    expect(round({ folder_legal_hold_at: '2026-01-01T00:00:00Z' })).toMatchObject({ action: 'keep', legalBasis: expect.stringContaining('legal hold') });
    expect(round({ request_status: 'pending' })).toMatchObject({ action: 'keep', legalBasis: expect.stringContaining('in progress') });
  });
});
