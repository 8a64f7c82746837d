import { checkPasswordPolicy, hashPassword, verifyPassword } from '../../src/accounts/passwords';
import { readSignedValue, signValue } from '../../src/accounts/secret-tokens';
import { maskEmail, maskPhone } from '../../src/accounts/login';

describe('password policy', () => {
  test.each([
    ['eleven char', 'at least 12'],
    ['ada.lovelace@example.com', 'email'],
    ['ADA.LOVELACE', 'email'],
    ['  ada.lovelace@example.com  ', 'email'],
    ['xxxxxxxxxxxxxxxx', 'repeated'],
    ['x'.repeat(257) + 'y', 'at most 256'],
  ])('%j is refused (%s)', (password, problem) => {
    expect(() => checkPasswordPolicy(password, 'ada.lovelace@example.com')).toThrow(problem);
  });

  test('a long passphrase is accepted, whatever its characters', () => {
    expect(() => checkPasswordPolicy('correct horse battery staple', 'ada.lovelace@example.com')).not.toThrow();
    expect(() => checkPasswordPolicy('påskägg på tåget 🥚', 'ada.lovelace@example.com')).not.toThrow();
  });

  test('argon2id verifies the password and nothing else; no hash never matches', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash.startsWith('$argon2id$')).toBe(true);
    await expect(verifyPassword(hash, 'correct horse battery staple')).resolves.toBe(true);
    await expect(verifyPassword(hash, 'correct horse battery stapl')).resolves.toBe(false);
    await expect(verifyPassword(null, 'correct horse battery staple')).resolves.toBe(false);
  });
});

describe('signed values (remembered-device and OpenID state cookies)', () => {
  const key = Buffer.alloc(32, 7);

  test('read back as signed; any change, another key or junk gives nothing', () => {
    const signed = signValue(key, { u: 'user-1', exp: 123 });
    expect(readSignedValue(key, signed)).toEqual({ u: 'user-1', exp: 123 });
    const [payload, mac] = signed.split('.');
    const forged = Buffer.from(JSON.stringify({ u: 'user-2', exp: 123 })).toString('base64url');
    expect(readSignedValue(key, `${forged}.${mac}`)).toBeUndefined();
    expect(readSignedValue(key, `${payload}.${mac!.slice(0, -2)}AA`)).toBeUndefined();
    expect(readSignedValue(Buffer.alloc(32, 8), signed)).toBeUndefined();
    expect(readSignedValue(key, 'junk')).toBeUndefined();
    expect(readSignedValue(key, `${signed}.extra`)).toBeUndefined();
    expect(readSignedValue(key, undefined)).toBeUndefined();
  });
});

test('where a code went is shown masked', () => {
  expect(maskPhone('+46701234567')).toBe('+46•••••••67');
  expect(maskEmail('ada@example.com')).toBe('a•••@example.com');
});
