/**
 * What the stuck-rounds view stores about a failed attempt: a kind made of identifiers (type, class name,
 * stable code), never the message, which can carry personal data (an address the mail server refused, a
 * value the database rejected).
 */
import { ApplicationFailure } from '@temporalio/common';
import { QueryFailedError } from 'typeorm';
import { AppError } from '../../src/errors';
import { failureKind } from '../../src/operations/activity-failures';

test('an ApplicationFailure is known by its type', () => {
  expect(failureKind(ApplicationFailure.create({ message: 'refused aino@example.test', type: 'MessageRefused', nonRetryable: true }))).toBe('MessageRefused');
  expect(failureKind(ApplicationFailure.create({ message: 'no type' }))).toBe('ApplicationFailure');
});

test('other errors by class name and stable code, never by message', () => {
  const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/secrets/aino-virtanen.p12'"), { code: 'ENOENT' });
  expect(failureKind(missing)).toBe('Error:ENOENT');
  expect(failureKind(new AppError('seal_kms_key_unusable', 'KMS refused arn:aws:kms:eu-north-1:123456789012:key/x'))).toBe('AppError:seal_kms_key_unusable');
  const rejected = new QueryFailedError('INSERT …', ['aino@example.test'], Object.assign(new Error('duplicate key value (email)=(aino@example.test)'), { code: '23505' }));
  expect(failureKind(rejected)).toBe('QueryFailedError:23505');
  expect(failureKind(new TypeError('fetch failed'))).toBe('TypeError');
});

test('names and codes that are not identifiers are dropped rather than stored', () => {
  const odd = Object.assign(new Error('x'), { name: 'Refused aino@example.test', code: 'see https://example.test/aino' });
  expect(failureKind(odd)).toBe('Error');
  expect(failureKind('a thrown string with aino@example.test')).toBe('NonError');
});
