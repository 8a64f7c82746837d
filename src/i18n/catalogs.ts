/**
 * Every message catalog, by language and namespace. A new namespace is a JSON file per language and a line
 * here for each; the completeness test compares the three languages key by key.
 */
import enCommon from './locales/en/common.json';
import svCommon from './locales/sv/common.json';
import fiCommon from './locales/fi/common.json';
import enSigner from './locales/en/signer.json';
import svSigner from './locales/sv/signer.json';
import fiSigner from './locales/fi/signer.json';

export const namespaces = ['common', 'signer'] as const;
export type Namespace = (typeof namespaces)[number];

export const catalogs = {
  en: { common: enCommon, signer: enSigner },
  sv: { common: svCommon, signer: svSigner },
  fi: { common: fiCommon, signer: fiSigner },
} as const;
