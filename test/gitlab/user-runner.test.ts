import {
  createUserRunnerProvider,
  createUserRunnerSettingsProvider,
} from "../../components/gitlab/user-runner";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { FAST, checked, configured, createChecked, rejection } from "./harness";

let fake: FakeGitLab;
beforeEach(async () => {
  fake = await startFakeGitLab();
});
afterEach(async () => {
  await fake.close();
});

const provider = () => configured(createUserRunnerProvider(FAST), fake);
const args = (extra: Record<string, unknown> = {}) => ({
  resourceName: "k8s-runner",
  runnerType: "project_type",
  projectId: 42,
  description: "kubernetes",
  tagLists: ["k8s", "amd64", "k8s"],
  ...extra,
});

test("registers through POST /user/runners, updates through PUT /runners/:id and deletes", async () => {
  const p = await provider();
  const created = await createChecked(p, args({ accessLevel: "ref_protected" }));
  const runnerId = created.outs.runnerId as number;
  expect(created).toEqual({
    id: String(runnerId),
    outs: {
      resourceName: "k8s-runner",
      runnerType: "project_type",
      projectId: 42,
      description: "kubernetes",
      tagLists: ["amd64", "k8s"],
      accessLevel: "ref_protected",
      runnerId,
      token: expect.stringMatching(/^glrt-[0-9a-f]{20}$/),
      tokenExpiresAt: undefined,
    },
  });
  expect(fake.requests("POST", /^\/user\/runners$/)[0]?.body).toEqual({
    runner_type: "project_type",
    project_id: 42,
    description: "kubernetes",
    tag_list: ["amd64", "k8s"],
    access_level: "ref_protected",
  });

  const refreshed = await p.read?.(created.id, created.outs);
  const live = {
    resourceName: "k8s-runner",
    runnerType: "project_type",
    projectId: 42,
    groupId: undefined,
    description: "kubernetes",
    tagLists: ["amd64", "k8s"],
    untagged: true,
    locked: false,
    accessLevel: "ref_protected",
    maximumTimeout: undefined,
    paused: false,
    maintenanceNote: undefined,
    runnerId,
    token: created.outs.token,
    tokenExpiresAt: undefined,
  };
  expect(refreshed).toEqual({ id: created.id, props: live });

  const news = await checked(p, args({ paused: true, maximumTimeout: 3600 }));
  expect(await p.diff?.(created.id, live, news)).toEqual({
    changes: true,
    replaces: [],
    deleteBeforeReplace: false,
  });
  const updated = await p.update?.(created.id, live, news);
  expect(updated?.outs).toEqual({ ...live, paused: true, maximumTimeout: 3600 });
  expect(fake.requests("PUT", /^\/runners\/\d+$/)[0]?.body).toEqual({
    description: "kubernetes",
    tag_list: ["amd64", "k8s"],
    maximum_timeout: 3600,
    paused: true,
  });

  await p.delete?.(created.id, updated?.outs);
  expect(fake.state.runners.size).toBe(0);
  await expect(p.delete?.(created.id, updated?.outs)).resolves.toBeUndefined();
});

test("settings GitLab defaulted are not drift; the type or project replaces the runner", async () => {
  const p = await provider();
  const created = await createChecked(p, args());
  const live = (await p.read?.(created.id, created.outs))?.props;
  const diff = async (extra: Record<string, unknown>) =>
    p.diff?.(created.id, live, await checked(p, args(extra)));
  expect(await diff({})).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  expect(await diff({ projectId: 43 })).toEqual({
    changes: true,
    replaces: ["projectId"],
    deleteBeforeReplace: false,
  });
  expect(await diff({ runnerType: "group_type", projectId: undefined, groupId: 7 })).toEqual({
    changes: true,
    replaces: ["runnerType", "projectId", "groupId"],
    deleteBeforeReplace: false,
  });
});

test("imports by runner id; the token cannot be imported", async () => {
  const p = await provider();
  const created = await createChecked(
    p,
    args({ runnerType: "group_type", projectId: undefined, groupId: 7 }),
  );
  const imported = await p.read?.(created.id, {});
  expect(imported?.props).toMatchObject({ runnerType: "group_type", groupId: 7 });
  expect(imported?.props).not.toHaveProperty("token");
  expect(imported?.inputs).toEqual(imported?.props);
});

test("a token without create_runner gets a 403 naming that scope", async () => {
  await fake.close();
  fake = await startFakeGitLab({ tokens: { "glpat-read": ["read_api"] } });
  const p = await configured(createUserRunnerProvider(FAST), fake, "glpat-read");
  expect(await rejection(createChecked(p, args()))).toBe(
    'UserRunner "k8s-runner": POST /user/runners failed with HTTP 403: insufficient_scope: ' +
      "The request requires higher privileges than provided by the access token. " +
      "(the token needs the create_runner scope and a role that allows this; see docs/gitlab.md, Token scopes and roles)",
  );
});

test("a token with only create_runner may register runners", async () => {
  await fake.close();
  fake = await startFakeGitLab({ tokens: { "glpat-runner": ["create_runner"] } });
  const p = await configured(createUserRunnerProvider(FAST), fake, "glpat-runner");
  expect((await createChecked(p, args())).outs.token).toMatch(/^glrt-/);
});

test("an unknown token gets a 401 that points at gitlab:token", async () => {
  const p = await configured(createUserRunnerProvider(FAST), fake, "glpat-wrong");
  expect(await rejection(createChecked(p, args()))).toBe(
    'UserRunner "k8s-runner": POST /user/runners failed with HTTP 401: 401 Unauthorized ' +
      "(the token from gitlab:token or GITLAB_TOKEN is missing, expired or revoked; it needs the create_runner scope)",
  );
});

test("retries a 429 on register honouring Retry-After, then registers once", async () => {
  const p = await provider();
  fake.faults.push({ path: "/user/runners", status: 429, retryAfter: "0" });
  await createChecked(p, args());
  expect(fake.requests("POST", /^\/user\/runners$/)).toHaveLength(2);
  expect(fake.state.runners.size).toBe(1);
});

test.each([
  {
    extra: { runnerType: "shared" },
    property: "runnerType",
    problem: 'expected one of instance_type, group_type, project_type, got "shared"',
  },
  {
    extra: { projectId: undefined },
    property: "projectId",
    problem: "is required when runnerType is project_type",
  },
  {
    extra: { runnerType: "group_type" },
    property: "groupId",
    problem: "is required when runnerType is group_type",
  },
  {
    extra: { runnerType: "instance_type" },
    property: "projectId",
    problem: "must not be set when runnerType is instance_type",
  },
  {
    extra: { groupId: 7 },
    property: "groupId",
    problem: "must not be set when runnerType is project_type",
  },
  {
    extra: { accessLevel: "protected" },
    property: "accessLevel",
    problem: 'expected "not_protected" or "ref_protected", got "protected"',
  },
  {
    extra: { maximumTimeout: 300 },
    property: "maximumTimeout",
    problem: "expected whole seconds, at least 600, got 300",
  },
  {
    extra: { tagLists: ["a,b"] },
    property: "tagLists",
    problem: "tags must be non-empty and cannot contain ','",
  },
])("check rejects a bad $property without a request", async ({ extra, property, problem }) => {
  const p = await provider();
  const result = await p.check?.({}, args(extra));
  expect(result?.failures).toEqual([
    { property, reason: `UserRunner "k8s-runner": ${property}: ${problem}` },
  ]);
  expect(fake.log).toEqual([]);
});

describe("UserRunnerSettings", () => {
  const settingsProvider = () => configured(createUserRunnerSettingsProvider(FAST), fake);
  /** A runner GitLab defaulted (untagged, not protected), as the runner resource left it. */
  const runner = async () => (await createChecked(await provider(), args())).outs;
  const settingsArgs = (runnerId: number, extra: Record<string, unknown> = {}) => ({
    resourceName: "k8s-runner-settings",
    runnerId,
    description: "kubernetes",
    tagLists: ["k8s", "fast", "k8s"],
    untagged: false,
    accessLevel: "ref_protected",
    ...extra,
  });

  test("applies the settings with PUT /runners/:id, reads and updates them, and leaves the runner on delete", async () => {
    const { runnerId, token } = await runner();
    const p = await settingsProvider();
    const created = await createChecked(p, settingsArgs(runnerId as number));
    const live = {
      resourceName: "k8s-runner-settings",
      runnerId,
      description: "kubernetes",
      tagLists: ["fast", "k8s"],
      untagged: false,
      locked: false,
      accessLevel: "ref_protected",
      paused: false,
    };
    expect(created).toEqual({ id: String(runnerId), outs: live });
    expect(fake.requests("PUT", /^\/runners\/\d+$/).map((r) => r.body)).toEqual([
      {
        description: "kubernetes",
        tag_list: ["fast", "k8s"],
        run_untagged: false,
        access_level: "ref_protected",
      },
    ]);
    expect(fake.state.runners.get(runnerId as number)).toMatchObject({
      tag_list: ["fast", "k8s"],
      run_untagged: false,
      access_level: "ref_protected",
    });
    expect(await p.read?.(created.id, created.outs)).toEqual({ id: created.id, props: live });

    const news = await checked(p, settingsArgs(runnerId as number, { paused: true }));
    expect(await p.diff?.(created.id, live, news)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await p.update?.(created.id, live, news);
    expect(updated?.outs).toEqual({ ...live, paused: true });
    expect(fake.state.runners.get(runnerId as number)?.["paused"]).toBe(true);

    await p.delete?.(created.id, updated?.outs);
    // The runner, its token and its settings stay: only UserRunner deletes the runner.
    expect(fake.state.runners.get(runnerId as number)).toMatchObject({ paused: true });
    expect(fake.requests("DELETE", /^\/runners\//)).toEqual([]);
    expect(token).toMatch(/^glrt-/);
  });

  test("settings GitLab defaulted are not drift; a new runner id replaces them", async () => {
    const { runnerId } = await runner();
    const p = await settingsProvider();
    const created = await createChecked(p, settingsArgs(runnerId as number));
    const live = (await p.read?.(created.id, created.outs))?.props;
    const diff = async (extra: Record<string, unknown>) =>
      p.diff?.(created.id, live, await checked(p, settingsArgs(runnerId as number, extra)));
    expect(await diff({})).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await diff({ runnerId: (runnerId as number) + 1 })).toEqual({
      changes: true,
      replaces: ["runnerId"],
      deleteBeforeReplace: false,
    });
  });

  test("a runner that is gone reads as gone, and setting it fails with GitLab's 404", async () => {
    const { runnerId } = await runner();
    const p = await settingsProvider();
    const created = await createChecked(p, settingsArgs(runnerId as number));
    fake.state.runners.delete(runnerId as number);
    expect(await p.read?.(created.id, created.outs)).toEqual({});
    expect(await rejection(createChecked(p, settingsArgs(runnerId as number)))).toBe(
      `UserRunnerSettings "k8s-runner-settings": PUT /runners/${runnerId} failed with HTTP 404: 404 Runner Not Found`,
    );
  });

  test.each([
    { extra: { runnerId: undefined }, property: "runnerId", problem: "is required" },
    { extra: { runnerId: 0 }, property: "runnerId", problem: "expected a runner id, got 0" },
    {
      extra: { accessLevel: "protected" },
      property: "accessLevel",
      problem: 'expected "not_protected" or "ref_protected", got "protected"',
    },
    {
      extra: { maximumTimeout: 300 },
      property: "maximumTimeout",
      problem: "expected whole seconds, at least 600, got 300",
    },
  ])("check rejects a bad $property without a request", async ({ extra, property, problem }) => {
    const p = await settingsProvider();
    const result = await p.check?.({}, settingsArgs(7, extra));
    expect(result?.failures).toEqual([
      { property, reason: `UserRunnerSettings "k8s-runner-settings": ${property}: ${problem}` },
    ]);
    expect(fake.log).toEqual([]);
  });
});
