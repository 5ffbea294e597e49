import { createProjectEnvironmentProvider } from "../../components/gitlab/project-environment";
import { createProjectProtectedEnvironmentProvider } from "../../components/gitlab/project-protected-environment";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { FAST, checked, configured, createChecked, rejection } from "./harness";

let fake: FakeGitLab;
beforeEach(async () => {
  fake = await startFakeGitLab();
});
afterEach(async () => {
  await fake.close();
});

/**
 * Registers agent `prod` in `project` with a committed config whose `user_access` lists
 * `authorize`, and connects it (GitLab records user_access authorizations only then).
 */
function agentIn(project: number, authorize: readonly string[], connect = true): number {
  const id = 5 + fake.state.agents.size;
  fake.state.agents.set(id, { id, name: `prod-${id}`, project_id: project });
  const config = `user_access:\n  access_as:\n    agent: {}\n  projects:\n${authorize
    .map((path) => `    - id: ${path}\n`)
    .join("")}`;
  fake.state.files.set(`${project}:main:.gitlab/agents/prod-${id}/config.yaml`, {
    content: Buffer.from(config).toString("base64"),
  });
  if (connect) {
    fake.connectAgent(id);
  }
  return id;
}

describe("ProjectEnvironment", () => {
  const provider = () => configured(createProjectEnvironmentProvider(FAST), fake);
  beforeEach(() => {
    // Agent 5 of project 42 (platform/app), authorizing its own project for user_access.
    agentIn(42, ["platform/app"]);
  });
  const args = (extra: Record<string, unknown> = {}) => ({
    resourceName: "production",
    project: "42",
    name: "production",
    externalUrl: "https://app.example.com",
    tier: "production",
    clusterAgentId: 5,
    kubernetesNamespace: "app",
    fluxResourcePath: "kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/app",
    ...extra,
  });

  test("creates, reads, updates (clearing removed settings) and deletes after stopping", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ stopBeforeDestroy: true }));
    const environmentId = created.outs.environmentId as number;
    expect(created.id).toBe(`42:${environmentId}`);
    expect(fake.requests("POST", /environments$/)[0]?.body).toEqual({
      name: "production",
      external_url: "https://app.example.com",
      tier: "production",
      cluster_agent_id: 5,
      kubernetes_namespace: "app",
      flux_resource_path:
        "kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/app",
    });
    const live = {
      resourceName: "production",
      project: "42",
      name: "production",
      externalUrl: "https://app.example.com",
      tier: "production",
      clusterAgentId: 5,
      kubernetesNamespace: "app",
      fluxResourcePath: "kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/app",
      description: undefined,
      stopBeforeDestroy: true,
      environmentId,
      slug: "production",
      state: "available",
    };
    expect(await p.read?.(created.id, created.outs)).toEqual({ id: created.id, props: live });

    const news = await checked(
      p,
      args({
        clusterAgentId: undefined,
        kubernetesNamespace: undefined,
        fluxResourcePath: undefined,
        stopBeforeDestroy: true,
      }),
    );
    expect(await p.diff?.(created.id, live, news)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await p.update?.(created.id, live, news);
    expect(updated?.outs.clusterAgentId).toBeUndefined();
    expect(fake.requests("PUT", /environments\/\d+$/)[0]?.body).toMatchObject({
      cluster_agent_id: null,
      kubernetes_namespace: null,
      flux_resource_path: null,
    });

    await p.delete?.(created.id, updated?.outs);
    const stops = fake.requests("POST", /environments\/\d+\/stop$/);
    expect(stops).toHaveLength(1);
    // Forced: no on_stop job runs because Pulumi removes the environment.
    expect({ ...stops[0]?.query, ...stops[0]?.body }["force"]).toBe("true");
    expect(fake.state.environments.size).toBe(0);
    await expect(p.delete?.(created.id, updated?.outs)).resolves.toBeUndefined();
  });

  test("without stopBeforeDestroy GitLab's refusal to delete a running environment surfaces", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    expect(await rejection(Promise.resolve(p.delete?.(created.id, created.outs)))).toBe(
      `ProjectEnvironment "production": DELETE /projects/42/environments/${created.outs.environmentId} ` +
        "failed with HTTP 403: 403 Forbidden (the token needs the api scope and a role that allows this; " +
        "see docs/gitlab.md, Token scopes and roles)",
    );
  });

  test("a tier GitLab chose is not drift; a new name replaces, deleting first only if the name stays", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ tier: undefined }));
    const live = (await p.read?.(created.id, created.outs))?.props;
    expect(live?.tier).toBe("other");
    expect(await p.diff?.(created.id, live, await checked(p, args({ tier: undefined })))).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(
      await p.diff?.(created.id, live, await checked(p, args({ tier: undefined, name: "prod" }))),
    ).toEqual({
      changes: true,
      replaces: ["name"],
      deleteBeforeReplace: false,
    });
    expect(
      await p.diff?.(
        created.id,
        live,
        await checked(p, args({ tier: undefined, project: "platform/app" })),
      ),
    ).toEqual({ changes: true, replaces: ["project"], deleteBeforeReplace: true });
  });

  test("imports by <project>:<environment_id>", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    const imported = await p.read?.(created.id, {});
    expect(imported?.props).toMatchObject({ name: "production", clusterAgentId: 5 });
    // GitLab has no resource name for it; the engine is handed no undefined.
    expect(imported?.props).not.toHaveProperty("resourceName");
  });

  test("retries a 503 on update", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    fake.faults.push({ method: "PUT", status: 503 });
    const updated = await p.update?.(
      created.id,
      created.outs,
      await checked(p, args({ externalUrl: "https://b.example.com" })),
    );
    expect(updated?.outs.externalUrl).toBe("https://b.example.com");
    expect(fake.requests("PUT", /environments/)).toHaveLength(2);
  });

  const REFUSED =
    "400 Bad request - cluster agent doesn't exist or cannot be associated with this environment";

  test("GitLab refuses an agent of another project: the old app-environment wiring fails", async () => {
    // What index.ts did before: every app project's environment named the platform project's
    // agent. GitLab looks the agent up among the environment's own project's agents only, so even
    // a connected agent that authorizes the app project for user_access is refused.
    fake.state.projects.push({ id: 43, fullPath: "platform/web" });
    const platformAgent = agentIn(42, ["platform/app", "platform/web"]);
    const p = await provider();
    expect(
      await rejection(
        createChecked(
          p,
          args({ resourceName: "web", project: "platform/web", clusterAgentId: platformAgent }),
        ),
      ),
    ).toBe(
      `ProjectEnvironment "web": POST /projects/platform%2Fweb/environments failed with HTTP 400: ${REFUSED}`,
    );
    expect(fake.state.environments.size).toBe(0);
  });

  test.each([
    { case: "whose config does not authorize the project", authorize: [], connect: true },
    { case: "whose agentk never connected", authorize: ["platform/app"], connect: false },
  ])("GitLab refuses its own project's agent $case", async ({ authorize, connect }) => {
    fake.state.agents.clear();
    fake.state.userAccess.clear();
    const agent = agentIn(42, authorize, connect);
    const p = await provider();
    expect(await rejection(createChecked(p, args({ clusterAgentId: agent })))).toBe(
      `ProjectEnvironment "production": POST /projects/42/environments failed with HTTP 400: ${REFUSED}`,
    );
  });

  test("GitLab refuses to set an agent it cannot associate on update, keeping the environment as it was", async () => {
    fake.state.projects.push({ id: 43, fullPath: "platform/web" });
    const p = await provider();
    const created = await createChecked(
      p,
      args({
        clusterAgentId: undefined,
        kubernetesNamespace: undefined,
        fluxResourcePath: undefined,
      }),
    );
    const foreign = agentIn(43, ["platform/app"]);
    const news = await checked(p, args({ clusterAgentId: foreign }));
    expect(await rejection(Promise.resolve(p.update?.(created.id, created.outs, news)))).toBe(
      `ProjectEnvironment "production": PUT /projects/42/environments/${created.outs.environmentId} ` +
        `failed with HTTP 400: ${REFUSED}`,
    );
    expect(fake.state.environments.get(created.outs.environmentId as number)).toMatchObject({
      cluster_agent: null,
      kubernetes_namespace: null,
    });
  });

  test.each([
    {
      extra: { clusterAgentId: undefined, fluxResourcePath: undefined },
      message: '{"kubernetes_namespace":["cannot be set without a cluster agent"]}',
    },
    {
      extra: { kubernetesNamespace: undefined },
      message: '{"flux_resource_path":["cannot be set without a kubernetes namespace"]}',
    },
  ])(
    "GitLab refuses Kubernetes settings without what they need: $message",
    async ({ extra, message }) => {
      const p = await provider();
      expect(await rejection(createChecked(p, args(extra)))).toBe(
        `ProjectEnvironment "production": POST /projects/42/environments failed with HTTP 400: ${message}`,
      );
    },
  );

  test.each([
    {
      extra: { name: "/prod" },
      property: "name",
      problem:
        "expected letters, digits, spaces and '-', '_', '/', '$', '{', '}', '.', not starting or ending with '/', at most 255 characters, got \"/prod\"",
    },
    {
      extra: { tier: "prod" },
      property: "tier",
      problem: 'expected one of production, staging, testing, development, other, got "prod"',
    },
    {
      extra: { externalUrl: "app.example.com" },
      property: "externalUrl",
      problem: 'expected an http(s) URL, got "app.example.com"',
    },
    {
      extra: { kubernetesNamespace: "App" },
      property: "kubernetesNamespace",
      problem:
        "expected a DNS-1123 label (lowercase letters, digits, '-', at most 63), got \"App\"",
    },
    {
      extra: { clusterAgentId: 0 },
      property: "clusterAgentId",
      problem: "expected a positive agent id, got 0",
    },
  ])("check rejects a bad $property without a request", async ({ extra, property, problem }) => {
    const p = await provider();
    const result = await p.check?.({}, args(extra));
    expect(result?.failures).toEqual([
      { property, reason: `ProjectEnvironment "production": ${property}: ${problem}` },
    ]);
    expect(fake.log).toEqual([]);
  });
});

describe("existing environments (app pipelines create theirs on their first deploy)", () => {
  const environments = () => configured(createProjectEnvironmentProvider(FAST), fake);
  const protections = () => configured(createProjectProtectedEnvironmentProvider(FAST), fake);
  /** What a first deploy job of the app's pipeline leaves behind. */
  async function pipelineCreated(name: string): Promise<number> {
    const res = await fetch(`${fake.url}/api/v4/projects/42/environments`, {
      method: "POST",
      headers: { "PRIVATE-TOKEN": fake.token, "content-type": "application/json" },
      body: JSON.stringify({ name, external_url: "https://old.example.com" }),
    });
    return ((await res.json()) as { id: number }).id;
  }
  const wanted = (extra: Record<string, unknown> = {}) => ({
    resourceName: "environments-web",
    project: "42",
    name: "production",
    tier: "production",
    externalUrl: "https://web.example.com",
    stopBeforeDestroy: true,
    ...extra,
  });

  test("without adoption the existing environment is left alone and the error says what to do", async () => {
    const id = await pipelineCreated("production");
    const p = await environments();
    expect(await rejection(createChecked(p, wanted()))).toBe(
      'ProjectEnvironment "environments-web": environment "production" of project "42" already ' +
        "exists and this stack did not create it (GitLab answered HTTP 400: " +
        '{"name":["has already been taken"]}). Either adopt it: set adoptExisting on the resource ' +
        '(in this platform\'s stack config, add "environments" to platform:gitlab.adoptExisting); ' +
        "the stack then overwrites its settings and deletes it on destroy, as if it had created " +
        "it. Or delete it in GitLab, then run again.",
    );
    expect(fake.state.environments.get(id)).toMatchObject({
      external_url: "https://old.example.com",
      tier: "other",
    });
  });

  test("adopted, it keeps its id and gets the stack's settings; destroy stops and deletes it", async () => {
    const id = await pipelineCreated("production");
    await pipelineCreated("production-eu");
    const p = await environments();
    const adopted = await createChecked(p, wanted({ adoptExisting: true }));
    expect(adopted.id).toBe(`42:${id}`);
    expect(fake.requests("GET", /environments$/).map((r) => r.query)).toEqual([
      { name: "production" },
    ]);
    expect(fake.state.environments.get(id)).toMatchObject({
      external_url: "https://web.example.com",
      tier: "production",
    });
    await p.delete?.(adopted.id, adopted.outs);
    expect([...fake.state.environments.values()].map((e) => e.name)).toEqual(["production-eu"]);
  });

  test("an existing protection is adopted only when asked, and then rewritten in place", async () => {
    const p = await protections();
    const theirs = {
      resourceName: "theirs",
      project: "42",
      environment: "production",
      deployAccessLevels: [{ accessLevel: "developer" }],
    };
    await createChecked(p, theirs);
    const ours = {
      ...theirs,
      resourceName: "ours",
      deployAccessLevels: [{ accessLevel: "maintainer" }],
    };
    expect(await rejection(createChecked(p, ours))).toMatch(
      /^ProjectProtectedEnvironment "ours": protection of environment "production" of project "42" already exists and this stack did not create it/,
    );
    const adopted = await createChecked(p, { ...ours, adoptExisting: true });
    expect(adopted.outs.deployAccessLevels).toEqual([{ accessLevel: "maintainer" }]);
    expect(fake.requests("DELETE", /protected_environments/)).toEqual([]);
    expect(
      (fake.state.protectedEnvironments.get("42:production")?.deploy_access_levels as unknown[])
        .length,
    ).toBe(1);
  });
});

describe("ProjectProtectedEnvironment", () => {
  const provider = () => configured(createProjectProtectedEnvironmentProvider(FAST), fake);
  const args = (extra: Record<string, unknown> = {}) => ({
    resourceName: "production-protection",
    project: "platform/app",
    environment: "production",
    deployAccessLevels: [{ accessLevel: "maintainer" }, { groupId: 7, groupInheritanceType: 1 }],
    ...extra,
  });

  test("protects an environment, reads it back and unprotects it", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ requiredApprovalCount: 1 }));
    expect(created.id).toBe("platform/app:production");
    const posted = fake.requests("POST", /protected_environments$/)[0];
    expect(posted?.path).toBe("/projects/platform%2Fapp/protected_environments");
    expect(posted?.body).toEqual({
      name: "production",
      deploy_access_levels: [{ access_level: 40 }, { group_id: 7, group_inheritance_type: 1 }],
      required_approval_count: 1,
    });
    const live = {
      project: "platform/app",
      environment: "production",
      deployAccessLevels: [{ accessLevel: "maintainer" }, { groupId: 7, groupInheritanceType: 1 }],
      requiredApprovalCount: 1,
      approvalRules: [],
      resourceName: "production-protection",
    };
    expect(await p.read?.(created.id, created.outs)).toEqual({ id: created.id, props: live });
    expect(
      await p.diff?.(created.id, live, await checked(p, args({ requiredApprovalCount: 1 }))),
    ).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });

    await p.delete?.(created.id, created.outs);
    expect(fake.state.protectedEnvironments.size).toBe(0);
    await expect(p.delete?.(created.id, created.outs)).resolves.toBeUndefined();
  });

  test("changes who may deploy in place: drops removed entries by id and adds new ones", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    const news = await checked(
      p,
      args({ deployAccessLevels: [{ accessLevel: "maintainer" }, { userId: 9 }] }),
    );
    expect((await p.diff?.(created.id, created.outs, news))?.replaces).toEqual([]);
    const groupEntry = (
      fake.state.protectedEnvironments.get("42:production")?.deploy_access_levels as {
        id: number;
        group_id: number | null;
      }[]
    ).find((r) => r.group_id === 7);
    const updated = await p.update?.(created.id, created.outs, news);
    expect(fake.requests("PUT", /protected_environments\/production$/)[0]?.body).toEqual({
      deploy_access_levels: [{ id: groupEntry?.id, _destroy: true }, { user_id: 9 }],
    });
    expect(updated?.outs.deployAccessLevels).toEqual([
      { accessLevel: "maintainer" },
      { userId: 9 },
    ]);
    expect(fake.requests("DELETE", /protected_environments/)).toEqual([]);
  });

  test("approval rules are created and read back", async () => {
    const p = await provider();
    const created = await createChecked(
      p,
      args({ approvalRules: [{ accessLevel: "developer", requiredApprovals: 2 }] }),
    );
    expect(created.outs.approvalRules).toEqual([
      { accessLevel: "developer", requiredApprovals: 2 },
    ]);
  });

  test("imports by <project>:<environment>, also for names with a slash", async () => {
    const p = await provider();
    await createChecked(p, args({ environment: "review/main" }));
    const imported = await p.read?.("platform/app:review/main", {});
    expect(imported?.props).toMatchObject({ environment: "review/main" });
    expect(fake.log.at(-1)?.path).toBe(
      "/projects/platform%2Fapp/protected_environments/review%2Fmain",
    );
  });

  test.each([
    {
      extra: { deployAccessLevels: [] },
      property: "deployAccessLevels",
      problem: "expected at least one entry",
    },
    {
      extra: { deployAccessLevels: [{ accessLevel: "owner" }] },
      property: "deployAccessLevels",
      problem: '[0]: accessLevel: expected "developer" or "maintainer", got "owner"',
    },
    {
      extra: { deployAccessLevels: [{ userId: 1, groupId: 2 }] },
      property: "deployAccessLevels",
      problem: "[0]: expected exactly one of accessLevel, userId, groupId, got userId, groupId",
    },
    {
      extra: { deployAccessLevels: [{ userId: 1, groupInheritanceType: 1 }] },
      property: "deployAccessLevels",
      problem: "[0]: groupInheritanceType: expected 0 or 1, and only with groupId",
    },
    {
      extra: { approvalRules: [{}] },
      property: "approvalRules",
      problem: "[0]: expected exactly one of accessLevel, userId, groupId, got none",
    },
    {
      extra: { requiredApprovalCount: -1 },
      property: "requiredApprovalCount",
      problem: "expected a whole number >= 0, got -1",
    },
  ])("check rejects a bad $property without a request", async ({ extra, property, problem }) => {
    const p = await provider();
    const result = await p.check?.({}, args(extra));
    expect(result?.failures).toEqual([
      {
        property,
        reason: `ProjectProtectedEnvironment "production-protection": ${property}: ${problem}`,
      },
    ]);
    expect(fake.log).toEqual([]);
  });
});
