import {
  LOWERABLE_IN_PRODUCTION,
  POLICIES,
  POLICY_NAMES,
  PolicySettingsError,
  enforcementLevels,
  policyEnvironment,
  policyPackConfig,
  policySettingsProblems,
} from "../../policy/levels";
import { policies } from "../../policy/policies";

/** Levels per stack (`platform:policy`), what production refuses, and the generated config file. */

const ALL = POLICY_NAMES.join(", ");

describe("the policy list", () => {
  test("every policy is served, in order, with its description and default level", () => {
    expect(policies.map((p) => [p.name, p.enforcementLevel, p.description])).toEqual(
      POLICY_NAMES.map((n) => [n, POLICIES[n].defaultLevel, POLICIES[n].description]),
    );
  });

  test("every policy starts mandatory; only requests and limits may be lowered in production", () => {
    expect([...new Set(POLICY_NAMES.map((n) => POLICIES[n].defaultLevel))]).toEqual(["mandatory"]);
    expect(LOWERABLE_IN_PRODUCTION).toEqual(["containers-requests-limits"]);
  });
});

describe("policySettingsProblems", () => {
  test.each([
    ["dev", undefined],
    ["dev", { advisory: ["containers-restricted", "no-external-services"] }],
    ["staging", { advisory: ["credential-variables-masked-protected"] }],
    ["production", { advisory: ["containers-requests-limits"] }],
    ["production", { mandatory: ["flux-production-digest", "app-namespaces-default-deny"] }],
    ["review", { advisory: [], mandatory: [] }],
  ] as const)("%s accepts %j", (environment, settings) => {
    expect(policySettingsProblems(environment, settings)).toEqual([]);
  });

  test("production cannot make a security policy advisory", () => {
    expect(
      policySettingsProblems("production", {
        advisory: [
          "containers-requests-limits",
          "runner-not-privileged",
          "no-plaintext-credentials",
        ],
      }),
    ).toEqual([
      'policy.advisory[1]: expected a policy production may make advisory (containers-requests-limits), got the security policy "runner-not-privileged"',
      'policy.advisory[2]: expected a policy production may make advisory (containers-requests-limits), got the security policy "no-plaintext-credentials"',
    ]);
  });

  test("unknown names, repeats, both lists, unknown keys and wrong shapes", () => {
    expect(
      policySettingsProblems("staging", {
        advisory: ["runner-privileged", "no-wildcard-rbac", "no-wildcard-rbac", 3],
        mandatory: ["no-wildcard-rbac"],
        disabled: ["helm-charts-pinned"],
      }),
    ).toEqual([
      'policy.disabled: expected "advisory" or "mandatory", got an unknown key',
      `policy.advisory[0]: expected a policy name (${ALL}), got "runner-privileged"`,
      'policy.advisory[2]: expected each policy once, got "no-wildcard-rbac" (also in policy.advisory[1])',
      `policy.advisory[3]: expected a policy name (${ALL}), got 3`,
      'policy.mandatory[0]: expected each policy once, got "no-wildcard-rbac" (also in policy.advisory[1])',
    ]);
    expect(policySettingsProblems("dev", ["containers-restricted"])).toEqual([
      'policy: expected an object with "advisory" and/or "mandatory" lists of policy names, got ["containers-restricted"]',
    ]);
    expect(policySettingsProblems("dev", { advisory: "containers-restricted" })).toEqual([
      'policy.advisory: expected a list of policy names, got "containers-restricted"',
    ]);
  });
});

describe("enforcementLevels and policyPackConfig", () => {
  test("defaults, then the stack's lists", () => {
    const levels = enforcementLevels("staging", {
      advisory: ["containers-restricted"],
      mandatory: ["app-namespaces-default-deny"],
    });
    expect(levels["containers-restricted"]).toBe("advisory");
    expect(levels["app-namespaces-default-deny"]).toBe("mandatory");
    expect(levels["flux-production-digest"]).toBe("mandatory");
    expect(levels["no-plaintext-credentials"]).toBe("mandatory");
  });

  test("the config file names every policy with its level and the stack's environment", () => {
    const file = policyPackConfig("production", { advisory: ["containers-requests-limits"] });
    expect(Object.keys(file)).toEqual([...POLICY_NAMES]);
    expect(file["containers-requests-limits"]).toEqual({
      enforcementLevel: "advisory",
      environment: "production",
    });
    expect(file["runner-not-privileged"]).toEqual({
      enforcementLevel: "mandatory",
      environment: "production",
    });
    expect(file["app-namespaces-default-deny"]).toEqual({
      enforcementLevel: "mandatory",
      environment: "production",
    });
  });

  test("settings production refuses throw, with every problem", () => {
    expect(() => policyPackConfig("production", { advisory: ["containers-restricted"] })).toThrow(
      new PolicySettingsError([
        'policy.advisory[0]: expected a policy production may make advisory (containers-requests-limits), got the security policy "containers-restricted"',
      ]),
    );
  });
});

describe("policyEnvironment", () => {
  test.each([
    ["staging", "urn:pulumi:production::platform::x::y", "staging"],
    [undefined, "urn:pulumi:dev::platform::x::y", "dev"],
    [undefined, "urn:pulumi:staging::platform::x::y", "staging"],
    // Any other stack name says nothing: the strictest environment applies.
    [undefined, "urn:pulumi:review-42::platform::x::y", "production"],
    ["qa", undefined, "production"],
  ])("configured %j, URN %s: %s", (configured, urn, environment) => {
    expect(policyEnvironment(configured, urn)).toBe(environment);
  });
});
