/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // Pulumi keeps its runtime state on the global object, and each test file installs fresh mocks
  // there; jest's cleanup of globals between files would only warn about (and later break) that.
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // Real builds (*.slow.test.ts) run with `npm run test:slow` (jest.slow.config.js) only, the
  // end-to-end suite (*.e2e.test.ts: a real engine and cluster) with `npm run test:e2e`.
  testPathIgnorePatterns: ["/node_modules/", "\\.slow\\.test\\.ts$", "\\.e2e\\.test\\.ts$"],
  resolver: "<rootDir>/test/harness/esm-resolver.js",
  transform: {
    // Type-checking is `npm run typecheck`'s job; isolated transpilation keeps jest fast on 2 cores.
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }],
    // The ESM-only schema packages, transpiled to CommonJS.
    "node_modules/(kubernetes-models|@kubernetes-models|is-cidr|cidr-regex)/.+\\.js$": [
      "ts-jest",
      { tsconfig: { isolatedModules: true, allowJs: true, module: "commonjs", target: "ES2022" } },
    ],
  },
  transformIgnorePatterns: [
    "/node_modules/(?!(kubernetes-models|@kubernetes-models|is-cidr|cidr-regex)/)",
  ],
  testTimeout: 30000,
  // One worker per core (jest's default leaves one idle, which halves throughput on 2 cores).
  maxWorkers: "100%",
};
