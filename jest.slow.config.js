/**
 * `npm run test:slow`: only the slow tests (`*.slow.test.ts`: real Maven builds), which the
 * default configuration leaves out so that `npm test` stays fast.
 * @type {import('jest').Config}
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const base = require("./jest.config.js");

module.exports = {
  ...base,
  testMatch: ["**/*.slow.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  // A cold Maven build downloads its plugins and dependencies first.
  testTimeout: 15 * 60_000,
};
