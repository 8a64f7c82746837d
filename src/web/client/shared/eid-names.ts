/**
 * An eID in words: the broker names schemes and levels by `acr` URNs (`urn:grn:authn:se:bankid`) or short
 * scheme ids (`se-bankid`), neither of which a signer or sender should have to read. Known ones get their
 * name from the `audit` catalog (shared by the signer page, the console and the sealed audit page); an
 * unknown one is shown as it came, rather than hidden.
 */
import type { Translate } from '../../../i18n';

export type KnownEid = 'seBankId' | 'noBankId' | 'dkMitId' | 'fiFtn';

const patterns: Array<[RegExp, KnownEid]> = [
  [/^(urn:grn:authn:se:bankid|se[-_]?bankid)/i, 'seBankId'],
  [/^(urn:grn:authn:no:bankid|no[-_]?bankid)/i, 'noBankId'],
  [/^(urn:grn:authn:dk:mitid|dk[-_]?mitid|mitid)/i, 'dkMitId'],
  [/^(urn:grn:authn:fi:|fi[-_]?ftn|ftn)/i, 'fiFtn'],
];

export function knownEid(value: string): KnownEid | undefined {
  return patterns.find(([pattern]) => pattern.test(value))?.[1];
}

/** "Swedish BankID" for `urn:grn:authn:se:bankid` or `se-bankid`; the value itself when it is not one we know. */
export function eidName(value: string, t: Translate): string {
  const known = knownEid(value);
  return known ? t(`audit:eidScheme.${known}`) : value;
}
