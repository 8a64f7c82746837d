import { isNationalIdFormat, maskNationalId, nationalIdsMatch } from '../../src/identity/national-id';
import { acrSatisfies } from '../../src/identity/eid-broker';

test('national ids are shown masked, keeping only the birth-date part', () => {
  expect(maskNationalId('19800101-1234')).toBe('19800101-****');
  expect(maskNationalId('198001011234')).toBe('19800101-****');
  expect(maskNationalId('800101-1234')).toBe('800101-****');
  expect(maskNationalId('800101+1234')).toBe('800101+****');
  expect(maskNationalId('010180-123A')).toBe('010180-****'); // Finnish, 1900s
  expect(maskNationalId('010105A123B')).toBe('010105A****'); // Finnish, 2000s
  expect(maskNationalId('01018012345')).toBe('010180*****'); // Norwegian
  expect(maskNationalId('AB-CD-99')).toBe('******'); // unknown format: nothing shown
});

test('a sender may give SE, FI, DK and NO numbers, nothing else', () => {
  for (const ok of ['19800101-1234', '198001011234', '800101-1234', '800101+1234', '8001011234', '010180-123A', '010105A123B', '01018012345', ' 800101 - 1234 '.replace(/ - /, '-')]) {
    expect({ ok, accepted: isNationalIdFormat(ok) }).toEqual({ ok, accepted: true });
  }
  for (const bad of ['12345', '1980-01-01', 'abc', '19800101-12345', '010180*123A']) expect({ bad, accepted: isNationalIdFormat(bad) }).toEqual({ bad, accepted: false });
});

test('Swedish numbers match with or without the century, the sign agreeing with the age', () => {
  expect(nationalIdsMatch('19800101-1234', '198001011234', 'SE')).toBe(true);
  expect(nationalIdsMatch('800101-1234', '198001011234', 'SE')).toBe(true);
  expect(nationalIdsMatch('8001011234', '198001011234', null)).toBe(true);
  expect(nationalIdsMatch('19800101-1234', '198001011235', 'SE')).toBe(false);
  expect(nationalIdsMatch('19800101-1234', undefined)).toBe(false);
  // Two full numbers a century apart are two people; so is a `+` (100 or older) against a young person.
  expect(nationalIdsMatch('190101011234', '200101011234', 'SE')).toBe(false);
  expect(nationalIdsMatch('800101+1234', '198001011234', 'SE')).toBe(false);
  expect(nationalIdsMatch('200101+1234', '192001011234', 'SE')).toBe(true);
});

test('Finnish numbers match only with their century sign; other countries by their digits', () => {
  expect(nationalIdsMatch('010180-123A', '010180-123a', 'FI')).toBe(true);
  expect(nationalIdsMatch('010180-123A', '010180+123A', 'FI')).toBe(false);
  expect(nationalIdsMatch('010180123A', '010180+123A', 'FI')).toBe(false);
  expect(nationalIdsMatch('010180-1234', '010180-1234', 'FI')).toBe(true);
  // A Danish CPR number is never compared with a Swedish 12-digit one.
  expect(nationalIdsMatch('010180-1234', '190101801234', 'DK')).toBe(false);
  expect(nationalIdsMatch('0101801234', '010180-1234', 'DK')).toBe(true);
  expect(nationalIdsMatch('01018012345', '01018012345', 'NO')).toBe(true);
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
