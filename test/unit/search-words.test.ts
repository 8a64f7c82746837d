/** The list's search words (src/signing/round-personal-data.ts): what a title or name is split into before hashing. */
import { searchWords } from '../../src/signing/round-personal-data';

test('words keep their accents and combining marks, split on punctuation and spaces, in lower case', () => {
  expect(searchWords('Åsa Öberg <asa.oberg@example.test>')).toEqual(['åsa', 'öberg', 'asa', 'oberg', 'example', 'test']);
  expect(searchWords('संजय कुमार')).toEqual(['संजय', 'कुमार']);
  expect(searchWords('محمّد')).toEqual(['محمّد']);
  expect(searchWords('Lease 100% final')).toEqual(['lease', '100', 'final']);
  expect(searchWords('  %_  ')).toEqual([]);
});
