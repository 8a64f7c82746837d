/** Sign-in lands on the page that asked for it, and only ever on this site. */
import { landingPath } from '../../src/api/login-pages';

describe('landingPath', () => {
  test.each(['/', '/requests/new', '/requests?status=pending&q=a%20b', '/admin/members'])('keeps the same-site path %s', (next) => {
    expect(landingPath(next)).toBe(next);
  });

  test.each([
    ['another host', 'https://evil.example/'],
    ['a protocol-relative URL', '//evil.example/x'],
    ['a backslash browsers read as a slash', '/\\evil.example'],
    ['a relative path', 'requests'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a line break (header splitting)', '/requests\r\nSet-Cookie: x=1'],
    ['nothing', undefined],
    ['a repeated parameter', ['/a', '/b']],
  ])('lands on the console for %s', (_, next) => {
    expect(landingPath(next)).toBe('/');
  });
});
