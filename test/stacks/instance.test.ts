import type { InstanceFacts } from "../../components/gitlab/instance";
import {
  ConfigError,
  ConfigSource,
  EnvironmentConfig,
  instanceQuery,
  parseEnvironmentConfig,
  withInstance,
} from "../../stacks";
import { runProgram } from "../harness/program";

// Tests here run the whole program: a loaded machine must not turn a slow run into a timeout.
jest.setTimeout(180_000);

/** A valid config of `environment` with one app per method the environment allows. */
function config(
  values: Record<string, unknown> = {},
  environment: "dev" | "staging" | "production" = "dev",
): EnvironmentConfig {
  const source: ConfigSource = {
    project: "platform",
    stack: environment,
    gitlabBaseUrl: "https://gitlab.example.com",
    gitlabToken: "secret-config",
    values: {
      environment,
      kubeContext: "kind-dev",
      gitlab: { projectPath: "acme/platform", groupPath: "acme" },
      apps: [
        { name: "web", project: "acme/web", image: { tag: "1.0.0" }, replicas: 2 },
        { name: "api", project: "acme/api", image: { tag: "1.0.0" }, replicas: 2 },
      ],
      ...values,
    },
  };
  return parseEnvironmentConfig(source);
}

function facts(extra: { version?: string; kas?: Partial<InstanceFacts["metadata"]["kas"]> } = {}) {
  return {
    url: "https://gitlab.example.com",
    metadata: {
      version: extra.version ?? "18.6.1-ee",
      enterprise: true,
      kas: {
        enabled: true,
        externalUrl: "wss://gitlab.example.com/-/kubernetes-agent/",
        version: "18.6.1",
        ...extra.kas,
      },
    },
    projectIds: { "acme/platform": 42, "acme/web": 43, "acme/api": 44 },
    defaultBranches: { "acme/platform": "main", "acme/web": "main", "acme/api": "trunk" },
    groupIds: { acme: 7 },
  } satisfies InstanceFacts;
}

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

test("asks for the platform project, every app project and the group, each with its key path", () => {
  expect(instanceQuery(config())).toEqual({
    projects: [
      { path: "acme/platform", at: "gitlab.projectPath" },
      { path: "acme/web", at: "apps[0].project" },
      { path: "acme/api", at: "apps[1].project" },
    ],
    groups: [{ path: "acme", at: "gitlab.groupPath" }],
  });
});

describe("a CODEOWNERS GitLab would read before the platform's", () => {
  const owning = () =>
    config({ agent: { codeOwners: ["@acme/platform-admins"] }, protection: { manage: true } });

  test("is looked for only by the stack that commits the platform's", () => {
    expect(instanceQuery(owning()).files).toEqual([
      {
        project: "acme/platform",
        paths: ["CODEOWNERS", "docs/CODEOWNERS"],
        at: "agent.codeOwners",
      },
    ]);
    expect(instanceQuery(config({ protection: { manage: true } })).files).toBeUndefined();
  });

  test("stops the run, naming each; none found, none said", () => {
    expect(
      problemsOf(() =>
        withInstance(owning(), {
          ...facts(),
          existingFiles: { "acme/platform": ["CODEOWNERS", "docs/CODEOWNERS"] },
        }),
      ),
    ).toEqual(
      ["CODEOWNERS", "docs/CODEOWNERS"].map(
        (path) =>
          `agent.codeOwners: expected no ${path} in acme/platform (GitLab reads the first of CODEOWNERS, docs/CODEOWNERS, .gitlab/CODEOWNERS, so the platform's .gitlab/CODEOWNERS would be ignored), got one on branch "main": move its rules into .gitlab/CODEOWNERS (add "codeOwners" to gitlab.adoptExisting to take that file over) and delete it`,
      ),
    );
    expect(
      withInstance(owning(), { ...facts(), existingFiles: { "acme/platform": [] } }).agent
        .codeOwners,
    ).toEqual(["@acme/platform-admins"]);
    // A stack that does not commit the platform's CODEOWNERS does not care.
    expect(() =>
      withInstance(config(), { ...facts(), existingFiles: { "acme/platform": ["CODEOWNERS"] } }),
    ).not.toThrow();
  });
});

describe("the program's own push to the platform project", () => {
  const locked = () =>
    config({ protection: { manage: true, defaultBranch: { pushAccessLevel: "no one" } } });

  test("asks GitLab who the token is only where the stack lets it push", () => {
    expect(instanceQuery(locked()).user).toEqual({ at: "protection.defaultBranch.programPush" });
    expect(instanceQuery(config({ protection: { manage: true } })).user).toBeUndefined();
    // A stack that does not manage protection protects nothing, so asks nothing.
    expect(
      instanceQuery(config({ protection: { defaultBranch: { pushAccessLevel: "no one" } } })).user,
    ).toBeUndefined();
  });

  test("carries the token's user; GitLab CE, which lets no single user push, stops the run", () => {
    const tokenUser = { id: 77, username: "project_42_bot" };
    expect(withInstance(locked(), { ...facts(), tokenUser }).instance.tokenUser).toEqual(tokenUser);
    const ce = facts({ version: "18.6.1" });
    expect(
      problemsOf(() =>
        withInstance(locked(), {
          ...ce,
          metadata: { ...ce.metadata, enterprise: false },
          tokenUser,
        }),
      ),
    ).toEqual([
      'protection.defaultBranch.programPush: expected GitLab Premium (an EE instance) at https://gitlab.example.com, where a protected branch can let one user push, got GitLab 18.6.1 (CE keeps only role levels); set protection.defaultBranch.pushAccessLevel "maintainer" and programPush false',
    ]);
  });
});

test("KAS address and agentk tag come from the instance; ids are filled in", () => {
  const platform = withInstance(config(), facts());
  expect(platform.agent.kasAddress).toBe("wss://gitlab.example.com/-/kubernetes-agent/");
  expect(platform.agent.imageTag).toBe("v18.6.1");
  expect(platform.gitlab.projectId).toBe(42);
  expect(platform.gitlab.groupId).toBe(7);
  expect(platform.instance).toEqual({
    url: "https://gitlab.example.com",
    version: "18.6.1-ee",
    enterprise: true,
    kasVersion: "18.6.1",
    projectIds: { "acme/platform": 42, "acme/web": 43, "acme/api": 44 },
    defaultBranches: { "acme/platform": "main", "acme/web": "main", "acme/api": "trunk" },
    groupIds: { acme: 7 },
    hiddenVariables: true,
  });
  expect(Object.isFrozen(platform.agent)).toBe(true);
});

test("explicit KAS address and an agentk tag within one minor version are kept", () => {
  for (const tag of ["v18.5.3", "v18.6.0", "v18.7.0", "18.6.1"]) {
    const platform = withInstance(
      config({ agent: { kasAddress: "wss://kas.internal.example.com", imageTag: tag } }),
      facts(),
    );
    expect(platform.agent.kasAddress).toBe("wss://kas.internal.example.com");
    expect(platform.agent.imageTag).toBe(tag);
  }
});

test("an agentk tag pinned by digest is kept whole; the window checks its version", () => {
  const pinned = `v18.7.0@sha256:${"b".repeat(64)}`;
  expect(withInstance(config({ agent: { imageTag: pinned } }), facts()).agent.imageTag).toBe(
    pinned,
  );
  // Without a KAS version there is no window; the pinned tag is what runs.
  expect(
    withInstance(config({ agent: { imageTag: pinned } }), facts({ kas: { version: null } })).agent
      .imageTag,
  ).toBe(pinned);
});

test.each([
  ["v18.4.0", "18.6.1"],
  ["v18.8.2", "18.6.1"],
  ["v17.11.0", "18.0.0"],
  [`v18.8.0@sha256:${"b".repeat(64)}`, "18.6.1"],
  [`v19.6.1@sha256:${"b".repeat(64)}`, "18.6.1"],
])("an agentk tag %s outside KAS %s's window is refused naming both", (tag, kas) => {
  expect(
    problemsOf(() =>
      withInstance(config({ agent: { imageTag: tag } }), facts({ kas: { version: kas } })),
    ),
  ).toEqual([
    `agent.imageTag: expected an agentk version within one minor version of KAS ${kas} at ` +
      "https://gitlab.example.com (GitLab supports agentk at KAS's minor version and one minor " +
      `either side), got "${tag}"`,
  ]);
});

test("KAS disabled stops an agent stack with one message; a stack without the agent does not care", () => {
  const disabled = facts({ kas: { enabled: false, externalUrl: null, version: null } });
  expect(problemsOf(() => withInstance(config(), disabled))).toEqual([
    "features.agent: expected the GitLab agent server (KAS) enabled on https://gitlab.example.com " +
      "for the agent (GET /metadata says kas.enabled: false); enable KAS on the instance, or set " +
      "features.agent: false",
  ]);
  const noAgent = config({
    features: { agent: false },
    kubeApiServer: "https://k8s.example.com",
    apps: [{ name: "web", project: "acme/web", image: { tag: "1.0.0" }, method: "direct" }],
  });
  expect(withInstance(noAgent, disabled).agent.kasAddress).toBe("");
});

test("a KAS whose version GitLab does not know needs an explicit tag", () => {
  expect(problemsOf(() => withInstance(config(), facts({ kas: { version: null } })))).toEqual([
    "agent.imageTag: expected an agentk image tag: GitLab at https://gitlab.example.com does not " +
      "report its KAS version (GET /metadata kas.version is null), got nothing",
  ]);
  expect(
    withInstance(config({ agent: { imageTag: "v18.6.0" } }), facts({ kas: { version: null } }))
      .agent.imageTag,
  ).toBe("v18.6.0");
});

test("configured ids must be the paths' ids", () => {
  expect(
    problemsOf(() =>
      withInstance(
        config({
          gitlab: { projectPath: "acme/platform", projectId: 41, groupPath: "acme", groupId: 8 },
        }),
        facts(),
      ),
    ),
  ).toEqual([
    "gitlab.projectId: expected 42 (the id of acme/platform at https://gitlab.example.com), got 41",
    "gitlab.groupId: expected 7 (the id of acme at https://gitlab.example.com), got 8",
  ]);
});

test("protected_branches_only needs GitLab 17.10 (earlier versions ignore it); hidden variables need 17.4", () => {
  const staging = config({}, "staging");
  expect(staging.agent.protectedBranchesOnly).toBe(true);
  expect(
    problemsOf(() =>
      withInstance(staging, facts({ version: "17.9.4-ee", kas: { version: "17.9.4" } })),
    ),
  ).toEqual([
    "agent.protectedBranchesOnly: expected GitLab 17.10 or newer at https://gitlab.example.com to " +
      "honour ci_access protected_branches_only (older versions ignore it, so any branch could " +
      "deploy), got GitLab 17.9.4-ee",
  ]);
  const old = withInstance(config(), facts({ version: "17.3.0", kas: { version: "17.3.0" } }));
  expect(old.agent.protectedBranchesOnly).toBe(false);
  expect(old.instance.hiddenVariables).toBe(false);
  expect(withInstance(config(), facts({ version: "17.4.0" })).instance.hiddenVariables).toBe(true);
  expect(
    problemsOf(() =>
      withInstance(config(), facts({ version: "15.6.0", kas: { version: "15.6.0" } })),
    ),
  ).toEqual([
    "agent.restrictToEnvironment: expected GitLab 15.7 or newer at https://gitlab.example.com to " +
      "honour ci_access environments, got GitLab 15.6.0",
  ]);
});

test("protecting the environment's container tag needs GitLab 18.9 when an app is delivered by Flux", () => {
  const flux = config(
    {
      features: { flux: true },
      environments: { protected: true },
      protection: { environmentTags: true },
      apps: [{ name: "docs", project: "acme/web", image: { tag: "1" }, method: "flux" }],
    },
    "staging",
  );
  expect(
    problemsOf(() =>
      withInstance(flux, facts({ version: "18.8.3-ee", kas: { version: "18.8.3" } })),
    ),
  ).toEqual([
    "protection.environmentTags: expected GitLab 18.9 or newer at https://gitlab.example.com for " +
      "protected container tag rules, got GitLab 18.8.3-ee; without them any pipeline that can " +
      'push to an app\'s registry could re-tag an artifact as "staging" (set ' +
      "protection.environmentTags: false to accept that)",
  ]);
  expect(
    withInstance(flux, facts({ version: "18.9.0-ee", kas: { version: "18.9.0" } })).protection
      .environmentTags,
  ).toBe(true);
});

describe("the program asks GitLab before registering anything", () => {
  test("a missing app project stops the run with its key path, and nothing is registered", async () => {
    const run = await runProgram("dev", {
      gitlab: { projects: [{ id: 1001, fullPath: "acme/platform" }] },
    });
    expect(run.error?.message).toMatch(
      /^GitLab preflight failed \(2 problems\):\n {2}- apps\[0\]\.project: GitLab at https?:\/\/\S+ has no project "acme\/web" that the token can see/,
    );
    expect(run.resources.all).toEqual([]);
  });

  test("KAS disabled on the instance stops a stack with the agent, and nothing is registered", async () => {
    const run = await runProgram("dev", {
      gitlab: { metadata: { kas: { enabled: false, externalUrl: null, version: null } } },
    });
    expect(run.error?.message).toBe(
      'Invalid configuration for stack "dev" (1 problem):\n' +
        "  - features.agent: expected the GitLab agent server (KAS) enabled on " +
        "https://gitlab.example.com for the agent (GET /metadata says kas.enabled: false); enable " +
        "KAS on the instance, or set features.agent: false",
    );
    expect(run.resources.all).toEqual([]);
  });

  test("the agent's Helm values carry the instance's KAS address and version", async () => {
    const run = await runProgram("dev", {
      gitlab: {
        metadata: {
          version: "18.5.2-ee",
          kas: { enabled: true, externalUrl: "wss://kas.acme.test", version: "18.5.2" },
        },
      },
    });
    expect(run.error).toBeUndefined();
    const release = run.resources
      .ofType("kubernetes:helm.sh/v3:Release")
      .find((r) => r.inputs["chart"] === "gitlab-agent");
    expect(release?.inputs["values"]).toMatchObject({
      image: { tag: "v18.5.2" },
      config: { kasAddress: "wss://kas.acme.test" },
    });
  });
});
