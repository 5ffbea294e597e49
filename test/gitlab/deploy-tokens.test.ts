import { createGroupDeployTokenProvider } from "../../components/gitlab/group-deploy-token";
import { createProjectDeployTokenProvider } from "../../components/gitlab/project-deploy-token";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { FAST, checked, configured, createChecked, rejection } from "./harness";

let fake: FakeGitLab;
beforeEach(async () => {
  fake = await startFakeGitLab();
});
afterEach(async () => {
  await fake.close();
});

describe.each([
  {
    type: "ProjectDeployToken",
    owner: "project",
    ref: "platform/app",
    url: "/projects/platform%2Fapp/deploy_tokens",
    create: createProjectDeployTokenProvider,
  },
  {
    type: "GroupDeployToken",
    owner: "group",
    ref: "7",
    url: "/groups/7/deploy_tokens",
    create: createGroupDeployTokenProvider,
  },
])("$type", ({ type, owner, ref, url, create }) => {
  const provider = () => configured(create(FAST), fake);
  const args = (extra: Record<string, unknown> = {}) => ({
    resourceName: "registry-pull",
    [owner]: ref,
    name: "registry pull",
    scopes: ["read_registry", "read_repository", "read_registry"],
    expiresAt: "2030-01-31T00:00:00Z",
    ...extra,
  });

  test("creates a token, keeps the secret only from creation, reads and revokes it", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    const tokenId = created.outs.deployTokenId as number;
    expect(created.id).toBe(`${ref}:${tokenId}`);
    expect(created.outs).toEqual({
      resourceName: "registry-pull",
      [owner]: ref,
      name: "registry pull",
      username: `gitlab+deploy-token-${tokenId}`,
      scopes: ["read_registry", "read_repository"],
      expiresAt: "2030-01-31T00:00:00.000Z",
      token: expect.stringMatching(/^gldt-[0-9a-f]{20}$/),
      deployTokenId: tokenId,
      expired: false,
      revoked: false,
    });
    expect(fake.requests("POST", /deploy_tokens$/)[0]?.body).toEqual({
      name: "registry pull",
      scopes: ["read_registry", "read_repository"],
      expires_at: "2030-01-31T00:00:00.000Z",
    });

    const refreshed = await p.read?.(created.id, created.outs);
    expect(refreshed).toEqual({ id: created.id, props: created.outs });
    expect(fake.requests("GET", /deploy_tokens\/\d+$/)[0]?.path).toBe(`${url}/${tokenId}`);

    await p.delete?.(created.id, created.outs);
    expect(fake.requests("DELETE", /deploy_tokens\/\d+$/)).toHaveLength(1);
    expect(await p.read?.(created.id, created.outs)).toEqual({});
  });

  test("deleting a token that is already revoked succeeds", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    await p.delete?.(created.id, created.outs);
    await expect(p.delete?.(created.id, created.outs)).resolves.toBeUndefined();
  });

  test(`imports by <${owner}>:<deploy_token_id> without the secret`, async () => {
    const p = await provider();
    const created = await createChecked(p, args({ username: "puller" }));
    const imported = await p.read?.(created.id, {});
    expect(imported?.props).toEqual({ ...created.outs, resourceName: undefined, token: undefined });
    expect(imported?.inputs).toEqual(imported?.props);
  });

  test("every change replaces the token, creating the new one before revoking the old", async () => {
    const p = await provider();
    const olds = (await createChecked(p, args())).outs;
    const diff = async (extra: Record<string, unknown>) =>
      p.diff?.("id", olds, await checked(p, args(extra)));
    expect(await diff({})).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await diff({ scopes: ["read_registry"] })).toEqual({
      changes: true,
      replaces: ["scopes"],
      deleteBeforeReplace: false,
    });
    expect(await diff({ expiresAt: "2031-01-31" })).toEqual({
      changes: true,
      replaces: ["expiresAt"],
      deleteBeforeReplace: false,
    });
    expect(await diff({ username: "other" })).toEqual({
      changes: true,
      replaces: ["username"],
      deleteBeforeReplace: false,
    });
  });

  test("retries a 500 on read", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    fake.faults.push({ method: "GET", status: 500, times: 2 });
    expect((await p.read?.(created.id, created.outs))?.id).toBe(created.id);
    expect(fake.requests("GET", /deploy_tokens/)).toHaveLength(3);
  });

  const allowed =
    "read_repository, read_registry, write_registry, read_package_registry, write_package_registry" +
    (owner === "project" ? ", read_virtual_registry, write_virtual_registry" : "");
  test.each([
    { extra: { scopes: [] }, property: "scopes", problem: `expected at least one of ${allowed}` },
    {
      extra: { scopes: ["read_api"] },
      property: "scopes",
      problem: `unknown scope "read_api" for a ${owner} deploy token; expected one of ${allowed}`,
    },
    {
      extra: { username: "has space" },
      property: "username",
      problem: "expected 1 to 255 letters, digits, '.', '+', '_' or '-', got \"has space\"",
    },
    {
      extra: { expiresAt: "next tuesday" },
      property: "expiresAt",
      problem: 'expected an RFC 3339 timestamp such as 2026-03-14T00:00:00Z, got "next tuesday"',
    },
    { extra: { name: "" }, property: "name", problem: "must not be empty" },
  ])("check rejects a bad $property without a request", async ({ extra, property, problem }) => {
    const p = await provider();
    const result = await p.check?.({}, args(extra));
    expect(result?.failures).toEqual([
      { property, reason: `${type} "registry-pull": ${property}: ${problem}` },
    ]);
    expect(fake.log).toEqual([]);
  });

  test("a token without the api scope gets a 403 error that names the scope", async () => {
    await fake.close();
    fake = await startFakeGitLab({ tokens: { "glpat-read-only": ["read_api"] } });
    const p = await configured(create(FAST), fake, "glpat-read-only");
    expect(await rejection(createChecked(p, args()))).toBe(
      `${type} "registry-pull": POST ${url} failed with HTTP 403: insufficient_scope: ` +
        "The request requires higher privileges than provided by the access token. " +
        "(the token needs the api scope and a role that allows this; see docs/gitlab.md, Token scopes and roles)",
    );
  });
});

test("group deploy tokens reject the project-only virtual registry scopes", async () => {
  const p = await configured(createGroupDeployTokenProvider(FAST), fake);
  const result = await p.check?.({}, { group: "7", name: "x", scopes: ["read_virtual_registry"] });
  expect(result?.failures).toEqual([
    {
      property: "scopes",
      reason:
        'GroupDeployToken: scopes: unknown scope "read_virtual_registry" for a group deploy token; ' +
        "expected one of read_repository, read_registry, write_registry, read_package_registry, " +
        "write_package_registry",
    },
  ]);
});
