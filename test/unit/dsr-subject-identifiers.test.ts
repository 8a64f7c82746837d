import { normalizedEmail, normalizedPhone, subjectKeys } from '../../src/dsr/fulfilment/subject-identifiers';

describe('how a data subject is compared with records', () => {
  test('emails case-insensitively, trimmed', () => {
    expect(normalizedEmail('  Petra.Persson@Example.TEST ')).toBe('petra.persson@example.test');
  });

  test('phones by their international digits; a local form matches nothing', () => {
    for (const written of ['+46701234567', '+46 70-123 45 67', '0046 70 123 45 67', '+46 (70) 123.45.67']) expect(normalizedPhone(written)).toBe('46701234567');
    expect(normalizedPhone('070-123 45 67')).toBeUndefined();
    expect(normalizedPhone('+0701234567')).toBeUndefined();
    expect(normalizedPhone('+46 70 abc')).toBeUndefined();
  });

  test('keys are unique and drop what cannot match', () => {
    expect(
      subjectKeys({ organizationId: 'o', emails: ['A@x.test', 'a@X.test'], phones: ['+46701234567', '0046701234567', '0701234567'], nationalIds: [' 800101-1234 ', ''] }),
    ).toEqual({ emails: ['a@x.test'], phones: ['46701234567'], nationalIds: ['800101-1234'] });
  });
});
