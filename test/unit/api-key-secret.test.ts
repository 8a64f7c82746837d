import { apiKeyMatches, apiKeyPrefix, generateApiKeySecret, hashApiKey } from '../../src/accounts/api-key-secret';

test('a generated key carries its prefix and matches only its own hash', () => {
  const first = generateApiKeySecret();
  const second = generateApiKeySecret();
  expect(first.key).toMatch(/^sgl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  expect(apiKeyPrefix(first.key)).toBe(first.prefix);
  expect(first.hash).toEqual(hashApiKey(first.key));
  expect(apiKeyMatches(first.key, first.hash)).toBe(true);
  expect(apiKeyMatches(second.key, first.hash)).toBe(false);
  expect(first.key).not.toBe(second.key);
});

test.each(['', 'sgl_', 'Bearer sgl_x', `sgl_0123456789abcdef_${'A'.repeat(42)}`, `sgl_0123456789ABCDEF_${'A'.repeat(43)}`])(
  'malformed key %p has no prefix',
  (key) => {
    expect(apiKeyPrefix(key)).toBeUndefined();
  },
);
