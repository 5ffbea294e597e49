/**
 * `npm run test:e2e`: the end-to-end suite (`test/e2e/**\/*.e2e.test.ts`), the real Pulumi engine
 * against a local Kubernetes API server and the loopback GitLab fake (scripts/e2e/README.md).
 * One file, in band: its steps build on each other and the machine runs one cluster at a time.
 * @type {import('jest').Config}
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const base = require("./jest.config.js");

module.exports = {
  ...base,
  testMatch: ["**/test/e2e/**/*.e2e.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  maxWorkers: 1,
  // Each step runs `pulumi preview|up|destroy` against a real API server (a few minutes each).
  testTimeout: 30 * 60_000,
  // The timings table and a skip's reason are printed with console.*.
  verbose: true,
};
