import { createGroupVariableProvider } from "../../components/gitlab/group-variable";
import { createProjectVariableProvider } from "../../components/gitlab/project-variable";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { FAST, checked, configured, createChecked, rejection } from "./harness";

let fake: FakeGitLab;
beforeEach(async () => {
  fake = await startFakeGitLab();
});
afterEach(async () => {
  await fake.close();
});

const SECRET = "s3cr3t-Value_with.more:chars~";

describe.each([
  {
    type: "ProjectVariable",
    owner: "project",
    ref: "42",
    path: "platform/app",
    url: "/projects/42/variables",
    create: createProjectVariableProvider,
  },
  {
    type: "GroupVariable",
    owner: "group",
    ref: "7",
    path: "platform",
    url: "/groups/7/variables",
    create: createGroupVariableProvider,
  },
])("$type", ({ type, owner, ref, path, url, create }) => {
  const provider = () => configured(create(FAST), fake);
  const args = (extra: Record<string, unknown> = {}) => ({
    resourceName: "deploy-key",
    [owner]: ref,
    key: "DEPLOY_KEY",
    value: SECRET,
    ...extra,
  });

  test("creates with GitLab's defaults, reads it back, updates in place and deletes", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ masked: true }));
    const expected = {
      resourceName: "deploy-key",
      [owner]: ref,
      key: "DEPLOY_KEY",
      value: SECRET,
      protected: false,
      masked: true,
      hidden: false,
      raw: false,
      variableType: "env_var",
      environmentScope: "*",
    };
    expect(created).toEqual({ id: `${ref}:DEPLOY_KEY:*`, outs: expected });

    expect(await p.read?.(created.id, created.outs)).toEqual({ id: created.id, props: expected });

    const news = await checked(
      p,
      args({ masked: true, value: "n3w-s3cr3t-value", protected: true }),
    );
    expect(await p.diff?.(created.id, created.outs, news)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await p.update?.(created.id, created.outs, news);
    expect(updated?.outs).toEqual({ ...expected, value: "n3w-s3cr3t-value", protected: true });
    expect(fake.requests("PUT", /variables\/DEPLOY_KEY$/)[0]?.body).toEqual({
      value: "n3w-s3cr3t-value",
      variable_type: "env_var",
      protected: true,
      masked: true,
      raw: false,
    });

    await p.delete?.(created.id, updated?.outs);
    expect(fake.state.variables.get(`${owner}s:${ref}`)).toEqual([]);
  });

  test("deleting a variable that is already gone succeeds", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    await p.delete?.(created.id, created.outs);
    await expect(p.delete?.(created.id, created.outs)).resolves.toBeUndefined();
    expect(fake.requests("DELETE", /variables\/DEPLOY_KEY$/)).toHaveLength(2);
  });

  test("a refresh of a variable deleted outside Pulumi reports it gone", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    fake.state.variables.clear();
    expect(await p.read?.(created.id, created.outs)).toEqual({});
  });

  test(`imports by the official id <${owner}>:<key>:<environment_scope>, also with a full path`, async () => {
    const p = await provider();
    await createChecked(p, args({ environmentScope: "review/*", description: "for reviews" }));
    const imported = await p.read?.(`${path}:DEPLOY_KEY:review/*`, {});
    const live = {
      [owner]: path,
      key: "DEPLOY_KEY",
      value: SECRET,
      protected: false,
      masked: false,
      hidden: false,
      raw: false,
      variableType: "env_var",
      environmentScope: "review/*",
      description: "for reviews",
    };
    expect(imported).toEqual({ id: `${path}:DEPLOY_KEY:review/*`, props: live, inputs: live });
    expect(fake.log.at(-1)?.path).toBe(`${url.replace(ref, encodeURIComponent(path))}/DEPLOY_KEY`);
  });

  test("reads, updates and deletes only its own scope when a key exists in several", async () => {
    const p = await provider();
    const prod = await createChecked(p, args({ environmentScope: "production" }));
    await createChecked(p, args({ environmentScope: "staging", value: "staging-value" }));

    expect((await p.read?.(prod.id, prod.outs))?.props?.value).toBe(SECRET);
    const news = await checked(p, args({ environmentScope: "production", value: "prod-v2" }));
    await p.update?.(prod.id, prod.outs, news);
    await p.delete?.(prod.id, prod.outs);

    expect(fake.state.variables.get(`${owner}s:${ref}`)).toEqual([
      expect.objectContaining({ environment_scope: "staging", value: "staging-value" }),
    ]);
    const scoped = fake.log.filter((r) => r.path === `${url}/DEPLOY_KEY`);
    expect(scoped.map((r) => [r.method, r.query])).toEqual([
      ["GET", { "filter[environment_scope]": "production" }],
      ["PUT", { "filter[environment_scope]": "production" }],
      ["DELETE", { "filter[environment_scope]": "production" }],
    ]);
  });

  test("the fake answers 409 like GitLab when a shared key is addressed without the filter", async () => {
    const p = await provider();
    await createChecked(p, args({ environmentScope: "production" }));
    await createChecked(p, args({ environmentScope: "staging" }));
    const res = await fetch(`${fake.url}/api/v4${url}/DEPLOY_KEY`, {
      headers: { "PRIVATE-TOKEN": fake.token },
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      message:
        "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'",
    });
  });

  test("a variable someone else made is left alone: the error names it, its owner and both ways out", async () => {
    const p = await provider();
    await createChecked(p, args({ value: "theirs-value-1", environmentScope: "dev" }));
    expect(
      await rejection(createChecked(p, args({ environmentScope: "dev", resourceName: "ours" }))),
    ).toBe(
      `${type} "ours": CI/CD variable DEPLOY_KEY (environment scope "dev") of ${owner} "${ref}" ` +
        "already exists and this stack did not create it (GitLab answered HTTP 400: " +
        '{"key":["(DEPLOY_KEY) has already been taken"]}). Either adopt it: set adoptExisting on ' +
        'the resource (in this platform\'s stack config, add "variables" to ' +
        "platform:gitlab.adoptExisting); the stack then overwrites its settings and deletes it " +
        "on destroy, as if it had created it. Or delete it in GitLab, then run again.",
    );
    expect(fake.requests("PUT", /variables/)).toEqual([]);
    expect(fake.state.variables.get(`${owner}s:${ref}`)).toEqual([
      expect.objectContaining({ value: "theirs-value-1", environment_scope: "dev" }),
    ]);
  });

  test("adoptExisting takes over the variable of that key and scope only, then deletes it like its own", async () => {
    const p = await provider();
    await createChecked(p, args({ value: "theirs-dev-1", environmentScope: "dev" }));
    await createChecked(p, args({ value: "theirs-prod-1", environmentScope: "production" }));
    const adopted = await createChecked(
      p,
      args({ environmentScope: "dev", masked: true, protected: true, adoptExisting: true }),
    );
    expect(adopted.id).toBe(`${ref}:DEPLOY_KEY:dev`);
    expect(adopted.outs).toMatchObject({ value: SECRET, masked: true, protected: true });
    expect(fake.requests("PUT", /variables\/DEPLOY_KEY$/).map((r) => r.query)).toEqual([
      { "filter[environment_scope]": "dev" },
    ]);
    const variables = () => fake.state.variables.get(`${owner}s:${ref}`);
    expect(variables()).toEqual([
      expect.objectContaining({ value: SECRET, environment_scope: "dev", masked: true }),
      expect.objectContaining({ value: "theirs-prod-1", environment_scope: "production" }),
    ]);
    await p.delete?.(adopted.id, adopted.outs);
    expect(variables()).toEqual([
      expect.objectContaining({ value: "theirs-prod-1", environment_scope: "production" }),
    ]);
  });

  test("adoptExisting creates the variable when there is none; changing it alone is no diff", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ adoptExisting: true }));
    expect(fake.requests("PUT", /variables/)).toEqual([]);
    expect(
      await p.diff?.(created.id, created.outs, await checked(p, args({ adoptExisting: false }))),
    ).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  test("a hidden variable is created masked and hidden; its value is kept from state, since GitLab never returns it", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ masked: true, hidden: true }));
    expect(fake.requests("POST", /variables$/)[0]?.body).toMatchObject({
      masked: true,
      masked_and_hidden: true,
    });
    expect(created.outs).toMatchObject({ value: SECRET, masked: true, hidden: true });
    expect(fake.state.variables.get(`${owner}s:${ref}`)?.[0]).toMatchObject({ hidden: true });
    const read = await p.read?.(created.id, created.outs);
    expect(read?.props).toMatchObject({ value: SECRET, hidden: true });
    // Its value may change in place; hiding may not, so a change of `hidden` replaces it.
    const news = await checked(p, args({ masked: true, hidden: true, value: "n3w-hidden-value" }));
    expect(await p.diff?.(created.id, created.outs, news)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await p.update?.(created.id, created.outs, news);
    expect(updated?.outs).toMatchObject({ value: "n3w-hidden-value", hidden: true });
    expect(fake.state.variables.get(`${owner}s:${ref}`)?.[0]?.value).toBe("n3w-hidden-value");
    expect(
      await p.diff?.(created.id, updated?.outs, await checked(p, args({ masked: true }))),
    ).toEqual({ changes: true, replaces: ["hidden"], deleteBeforeReplace: true });
  });

  test("the fake refuses to unmask a hidden variable, as GitLab does", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ masked: true, hidden: true }));
    const news = { ...(await checked(p, args({ masked: false }))), hidden: true };
    expect(await rejection(Promise.resolve(p.update?.(created.id, created.outs, news)))).toBe(
      `${type} "deploy-key": PUT ${url}/DEPLOY_KEY?filter%5Benvironment_scope%5D=* failed with HTTP 400: ` +
        '{"base":["The visibility setting cannot be changed for masked and hidden variables."]}',
    );
  });

  test("check refuses a hidden variable that is not masked, without a request", async () => {
    const p = await provider();
    const result = await p.check?.({}, args({ hidden: true }));
    expect(result?.failures).toEqual([
      {
        property: "hidden",
        reason:
          `${type} "deploy-key": hidden: a hidden variable must be masked too ` +
          "(GitLab: masked should be true when variable is hidden)",
      },
    ]);
    expect(fake.log).toEqual([]);
  });

  test("retries a 502 and a 429 on create and creates the variable once", async () => {
    const p = await provider();
    fake.faults.push(
      { method: "POST", status: 502 },
      { method: "POST", status: 429, retryAfter: "0" },
    );
    const created = await createChecked(p, args());
    expect(created.id).toBe(`${ref}:DEPLOY_KEY:*`);
    expect(fake.requests("POST", /variables$/)).toHaveLength(3);
    expect(fake.state.variables.get(`${owner}s:${ref}`)).toHaveLength(1);
  });

  test("after the last try the error names the resource, the HTTP status and GitLab's message", async () => {
    const p = await provider();
    fake.faults.push({ status: 503, body: { message: "503 Service Unavailable" }, times: 3 });
    expect(await rejection(createChecked(p, args()))).toBe(
      `${type} "deploy-key": POST ${url} failed with HTTP 503 after 3 attempts: ` +
        "503 Service Unavailable",
    );
    expect(fake.log).toHaveLength(3);
  });

  test("diff replaces on key, scope or owner; deletes first only if key and scope stay", async () => {
    const p = await provider();
    const olds = await checked(p, args({ environmentScope: "production" }));
    const diff = (extra: Record<string, unknown>) =>
      checked(p, args({ environmentScope: "production", ...extra })).then((news) =>
        p.diff?.("id", olds, news),
      );
    expect(await diff({})).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await diff({ key: "OTHER" })).toEqual({
      changes: true,
      replaces: ["key"],
      deleteBeforeReplace: false,
    });
    expect(await diff({ environmentScope: "staging" })).toEqual({
      changes: true,
      replaces: ["environmentScope"],
      deleteBeforeReplace: false,
    });
    expect(await diff({ [owner]: path })).toEqual({
      changes: true,
      replaces: [owner],
      deleteBeforeReplace: true,
    });
    expect(await diff({ variableType: "file", description: "x" })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  test.each([
    [{ key: "MY-KEY" }, "key", 'expected 1 to 255 characters from [A-Za-z0-9_], got "MY-KEY"'],
    [
      { key: "K".repeat(256) },
      "key",
      `expected 1 to 255 characters from [A-Za-z0-9_], got "${"K".repeat(256)}"`,
    ],
    [{ masked: true, value: "short" }, "value", "a masked value needs at least 8 characters"],
    [{ masked: true, value: "has a space" }, "value", "a masked value cannot contain whitespace"],
    [
      { masked: true, value: "dollar$sign!" },
      "value",
      "a masked value that is not raw may only contain A-Z a-z 0-9 + / = - _ @ : . ~ " +
        "(set raw: true to allow other characters)",
    ],
    [
      { masked: true, raw: true, value: "tab\tinside" },
      "value",
      "a masked value cannot contain whitespace",
    ],
    [{ variableType: "yaml" }, "variableType", 'expected "env_var" or "file", got "yaml"'],
    [
      { environmentScope: "prod#1" },
      "environmentScope",
      "expected 1 to 255 letters, digits, '-', '_', '/', '$', '{', '}', '.', '*' or spaces, got \"prod#1\"",
    ],
  ])("check rejects %j before any request", async (extra, property, problem) => {
    const p = await provider();
    const result = await p.check?.({}, args(extra));
    expect(result?.failures).toEqual([
      { property, reason: `${type} "deploy-key": ${property}: ${problem}` },
    ]);
    expect(fake.log).toEqual([]);
  });

  test("raw masked values may use characters outside Base64, as GitLab allows", async () => {
    const p = await provider();
    const created = await createChecked(
      p,
      args({ masked: true, raw: true, value: "dollar$sign!" }),
    );
    expect(created.outs).toMatchObject({ masked: true, raw: true, value: "dollar$sign!" });
  });

  test("check skips values not known yet during preview", async () => {
    const p = await provider();
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const result = await p.check?.({}, args({ masked: true, value: unknown, key: unknown }));
    expect(result?.failures).toBeUndefined();
  });
});
