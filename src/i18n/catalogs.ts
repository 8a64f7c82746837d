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
import enEmail from './locales/en/email.json';
import svEmail from './locales/sv/email.json';
import fiEmail from './locales/fi/email.json';
import enSms from './locales/en/sms.json';
import svSms from './locales/sv/sms.json';
import fiSms from './locales/fi/sms.json';
import enAudit from './locales/en/audit.json';
import svAudit from './locales/sv/audit.json';
import fiAudit from './locales/fi/audit.json';
import enConsole from './locales/en/console.json';
import svConsole from './locales/sv/console.json';
import fiConsole from './locales/fi/console.json';
import enAuth from './locales/en/auth.json';
import svAuth from './locales/sv/auth.json';
import fiAuth from './locales/fi/auth.json';
import enVerify from './locales/en/verify.json';
import svVerify from './locales/sv/verify.json';
import fiVerify from './locales/fi/verify.json';
import enAccount from './locales/en/account.json';
import svAccount from './locales/sv/account.json';
import fiAccount from './locales/fi/account.json';
import enKyc from './locales/en/kyc.json';
import svKyc from './locales/sv/kyc.json';
import fiKyc from './locales/fi/kyc.json';
import enPrivacy from './locales/en/privacy.json';
import svPrivacy from './locales/sv/privacy.json';
import fiPrivacy from './locales/fi/privacy.json';

export const namespaces = ['common', 'signer', 'email', 'sms', 'audit', 'console', 'auth', 'verify', 'account', 'kyc', 'privacy'] as const;
export type Namespace = (typeof namespaces)[number];

export const catalogs = {
  en: { common: enCommon, signer: enSigner, email: enEmail, sms: enSms, audit: enAudit, console: enConsole, auth: enAuth, verify: enVerify, account: enAccount, kyc: enKyc, privacy: enPrivacy },
  sv: { common: svCommon, signer: svSigner, email: svEmail, sms: svSms, audit: svAudit, console: svConsole, auth: svAuth, verify: svVerify, account: svAccount, kyc: svKyc, privacy: svPrivacy },
  fi: { common: fiCommon, signer: fiSigner, email: fiEmail, sms: fiSms, audit: fiAudit, console: fiConsole, auth: fiAuth, verify: fiVerify, account: fiAccount, kyc: fiKyc, privacy: fiPrivacy },
} as const;
