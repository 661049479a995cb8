/** CDK + cdk8s tests (the services workspace has its own jest config). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }] },
  // Type errors are caught once by `tsc --noEmit` in the test command, not per test file.
  snapshotSerializers: ['<rootDir>/test/support/snapshot-serializer.ts'],
  // Synth with both rule packs takes seconds per app.
  testTimeout: 120000,
};
