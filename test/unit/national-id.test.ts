import { maskNationalId, nationalIdsMatch } from '../../src/identity/national-id';
import { acrSatisfies } from '../../src/identity/eid-broker';

test('national ids are shown masked, keeping only the birth-date part', () => {
  expect(maskNationalId('19800101-1234')).toBe('19800101-****');
  expect(maskNationalId('198001011234')).toBe('19800101-****');
  expect(maskNationalId('800101-1234')).toBe('800101-****');
  expect(maskNationalId('010180-123A')).toBe('010180-****'); // Finnish, 1900s
  expect(maskNationalId('010105A123B')).toBe('010105A****'); // Finnish, 2000s
  expect(maskNationalId('01018012345')).toBe('010180*****'); // Norwegian
  expect(maskNationalId('AB-CD-99')).toBe('******'); // unknown format: nothing shown
});

test('a national id matches with or without punctuation or century, and never another number', () => {
  expect(nationalIdsMatch('19800101-1234', '198001011234')).toBe(true);
  expect(nationalIdsMatch('800101-1234', '198001011234')).toBe(true);
  expect(nationalIdsMatch('19800101-1234', '198001011235')).toBe(false);
  expect(nationalIdsMatch('19800101-1234', undefined)).toBe(false);
  expect(nationalIdsMatch('010180-123A', '010180-123a')).toBe(true);
  // The Finnish century sign is part of the number: 1880 and 1980 are two people.
  expect(nationalIdsMatch('010180-123A', '010180+123A')).toBe(false);
  expect(nationalIdsMatch('', '')).toBe(false);
});

test('the eID in the token must be the one asked for; `:all` asks for any under its prefix', () => {
  expect(acrSatisfies('urn:grn:authn:se:bankid', 'urn:grn:authn:se:bankid')).toBe(true);
  expect(acrSatisfies('urn:grn:authn:se:bankid', 'urn:grn:authn:se:freja')).toBe(false);
  expect(acrSatisfies('urn:grn:authn:se:bankid', null)).toBe(false);
  expect(acrSatisfies('urn:grn:authn:fi:all', 'urn:grn:authn:fi:bank-id:nordea')).toBe(true);
  expect(acrSatisfies(['urn:grn:authn:se:bankid', 'urn:grn:authn:fi:all'], 'urn:grn:authn:dk:mitid:low')).toBe(false);
  expect(acrSatisfies([], null)).toBe(true);
});
