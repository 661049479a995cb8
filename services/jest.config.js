/**
 * Two projects: `unit` (test/**\/*.unit.test.ts, no engines) and `integration` (every other
 * test/**\/*.test.ts, against real local engines started by test/support/global-setup.ts).
 *
 * Engines the integration project needs: `ENGINES` (space or comma separated) or this default.
 * Add one here when a test needs it (e.g. 'etcd redis mysql opensearch s3'; otel: the OTLP receiver of e2e-tracing).
 */
const ENGINES = process.env.ENGINES || 'etcd redis mysql opensearch s3 otel';

// Transpile only (tsconfig has isolatedModules); `npm test` type-checks once with tsc first.
const tsJest = ['ts-jest', { diagnostics: false }];

/** @type {import('jest').Config} */
module.exports = {
  // Integration tests wait on real engines (failovers, lease TTLs); unit tests finish far sooner.
  testTimeout: 60_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.unit.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['\\.unit\\.test\\.ts$'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      globals: { ENGINES },
    },
  ],
};
