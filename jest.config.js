/** @type {import('jest').Config} */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

// openid-client, @libpdf/core and their dependencies ship ESM only. Node 20 can require(esm), but jest on Node < 24.9
// loads modules through its own CJS loader, so these packages are compiled to CJS like our sources.
const esmOnlyPackages = ['openid-client', 'oauth4webapi', 'jose', '@libpdf/core', '@noble/ciphers', '@noble/hashes', '@scure/base'];
const swcEsm = ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc, '^.+\\.m?js$': swcEsm },
  // Everything else under node_modules stays untransformed (the default).
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnlyPackages.join('|')})/)`],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  // Tests use the typed client from its TypeScript source: no build step, and a change shows at once.
  moduleNameMapper: { '^@sigill/client$': '<rootDir>/packages/client/src/index.ts' },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/temporal-test-runtime.ts'],
  // Integration tests wait on real servers; an individual test sets a shorter budget where it can.
  testTimeout: 120_000,
  // Two cores: one test file per core keeps the shared Temporal and PostgreSQL responsive.
  maxWorkers: 2,
};
