import {
  InstanceError,
  atLeast,
  inspectInstance,
  parseVersion,
  readMetadata,
  readToken,
} from "../../components/gitlab/instance";
import type { ClientSettings } from "../../components/gitlab/client";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { FAST, rejection } from "./harness";

let fake: FakeGitLab;
beforeEach(async () => {
  fake = await startFakeGitLab({
    projects: [
      { id: 42, fullPath: "acme/platform" },
      { id: 43, fullPath: "acme/web" },
    ],
    groups: [{ id: 7, fullPath: "acme" }],
  });
});
afterEach(async () => {
  await fake.close();
});

const settings: ClientSettings = {
  timeoutMs: FAST.timeoutMs ?? 5000,
  maxAttempts: 2,
  baseDelayMs: 5,
  maxDelayMs: 50,
};
const connection = (token = fake.token) => ({ host: fake.url, token });

test("reads version and KAS from /metadata, and the ids of every project and group asked for", async () => {
  const facts = await inspectInstance(
    connection(),
    {
      projects: [
        { path: "acme/platform", at: "gitlab.projectPath" },
        { path: "acme/web", at: "apps[0].project" },
        { path: "acme/web", at: "apps[1].project" },
      ],
      groups: [{ path: "acme", at: "gitlab.groupPath" }],
    },
    settings,
  );
  expect(facts).toEqual({
    url: fake.url,
    metadata: {
      version: "18.6.1-ee",
      enterprise: true,
      kas: {
        enabled: true,
        externalUrl: "wss://gitlab.fake.test/-/kubernetes-agent/",
        version: "18.6.1",
      },
    },
    projectIds: { "acme/platform": 42, "acme/web": 43 },
    defaultBranches: { "acme/platform": "main", "acme/web": "main" },
    groupIds: { acme: 7 },
  });
  // One request per distinct path.
  expect(fake.log.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
    "GET /groups/acme",
    "GET /metadata",
    "GET /projects/acme%2Fplatform",
    "GET /projects/acme%2Fweb",
  ]);
});

test("files asked about: those on the project's default branch are reported, absent ones are not", async () => {
  fake.state.files.set("42:main:docs/CODEOWNERS", { content: "" });
  fake.state.files.set("42:other:CODEOWNERS", { content: "" });
  const facts = await inspectInstance(
    connection(),
    {
      projects: [{ path: "acme/platform", at: "gitlab.projectPath" }],
      groups: [],
      files: [
        {
          project: "acme/platform",
          paths: ["CODEOWNERS", "docs/CODEOWNERS"],
          at: "agent.codeOwners",
        },
      ],
    },
    settings,
  );
  expect(facts.existingFiles).toEqual({ "acme/platform": ["docs/CODEOWNERS"] });
  expect(
    fake.log
      .filter((r) => r.path.includes("/repository/files/"))
      .map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`)
      .sort(),
  ).toEqual([
    'GET /projects/acme%2Fplatform/repository/files/CODEOWNERS {"ref":"main"}',
    'GET /projects/acme%2Fplatform/repository/files/docs%2FCODEOWNERS {"ref":"main"}',
  ]);
});

test("the token's user, only when asked", async () => {
  const query = { projects: [{ path: "acme/platform", at: "gitlab.projectPath" }], groups: [] };
  const without = await inspectInstance(connection(), query, settings);
  expect(without).not.toHaveProperty("tokenUser");
  expect(fake.requests("GET", /^\/user$/)).toEqual([]);
  const facts = await inspectInstance(
    connection(),
    { ...query, user: { at: "protection.defaultBranch.programPush" } },
    settings,
  );
  const me = fake.state.users.get(fake.token);
  expect(facts.tokenUser).toEqual({ id: me?.["id"], username: me?.["username"] });
  expect(facts.tokenUser?.username).toMatch(/^project_bot_\d+$/);
});

test("a failing GET /user is named by the key path that needed it", async () => {
  fake.faults.push({ method: "GET", path: "/user", status: 403, times: 5 });
  expect(
    await rejection(
      inspectInstance(
        connection(),
        { projects: [], groups: [], user: { at: "protection.defaultBranch.programPush" } },
        settings,
      ),
    ),
  ).toBe(
    "GitLab preflight failed (1 problem):\n" +
      `  - protection.defaultBranch.programPush: GitLab at ${fake.url} refused GET /user (the token's own user) (HTTP 403: fault): the token needs the api scope (see docs/gitlab.md, Token scopes and roles)`,
  );
});

test("KAS disabled: no address and no version", async () => {
  fake.state.metadata.kas = { enabled: false, externalUrl: null, version: null };
  expect((await readMetadata(connection(), settings)).kas).toEqual({
    enabled: false,
    externalUrl: null,
    version: null,
  });
});

test("every missing project and group is named by its key path, in one error", async () => {
  const err = await rejection(
    inspectInstance(
      connection(),
      {
        projects: [
          { path: "acme/platform", at: "gitlab.projectPath" },
          { path: "acme/gone", at: "apps[1].project" },
        ],
        groups: [{ path: "other", at: "gitlab.groupPath" }],
      },
      settings,
    ),
  );
  expect(err).toBe(
    "GitLab preflight failed (2 problems):\n" +
      `  - apps[1].project: GitLab at ${fake.url} has no project "acme/gone" that the token can see (HTTP 404): check the path and that the token's user is a member\n` +
      `  - gitlab.groupPath: GitLab at ${fake.url} has no group "other" that the token can see (HTTP 404): check the path and that the token's user is a member`,
  );
});

test("a wrong token stops at /metadata with what to fix", async () => {
  const err = await rejection(readMetadata(connection("glpat-wrong"), settings));
  expect(err).toBe(
    "GitLab preflight failed (1 problem):\n" +
      `  - GitLab at ${fake.url} rejected the token (HTTP 401: 401 Unauthorized): it is wrong, ` +
      "expired or revoked; set a valid one with `pulumi config set --secret gitlab:token …` (or GITLAB_TOKEN)",
  );
});

test("a token without a scope that may read /metadata gets the scope it needs", async () => {
  await fake.close();
  fake = await startFakeGitLab({ tokens: { "glpat-runner-only": ["create_runner"] } });
  const err = await rejection(readMetadata(connection("glpat-runner-only"), settings));
  expect(err).toBe(
    "GitLab preflight failed (1 problem):\n" +
      `  - GitLab at ${fake.url} refused GET /metadata (HTTP 403: insufficient_scope: The request ` +
      "requires higher privileges than provided by the access token.): the token needs the api " +
      "scope (see docs/gitlab.md, Token scopes and roles)",
  );
});

test.each(["read_api", "read_user", "api"])("a %s token may read /metadata", async (scope) => {
  await fake.close();
  fake = await startFakeGitLab({ tokens: { "glpat-read": [scope] } });
  expect((await readMetadata(connection("glpat-read"), settings)).version).toBe("18.6.1-ee");
});

test("an unreachable GitLab is named with what to check", async () => {
  const url = fake.url;
  await fake.close();
  const err = await rejection(readMetadata({ host: url, token: "glpat-x" }, settings));
  expect(err).toMatch(
    new RegExp(
      `^GitLab preflight failed \\(1 problem\\):\\n  - cannot reach GitLab at ${url.replace(/\./g, "\\.")} ` +
        `\\(GitLab preflight: GET /metadata failed: .*ECONNREFUSED.*\\): check gitlab:baseUrl ` +
        "\\(or GITLAB_BASE_URL\\), the network and any proxy$",
    ),
  );
});

test("a GitLab without /metadata (before 15.2) is refused", async () => {
  fake.faults.push({ path: "/metadata", status: 404, body: { message: "404 Not Found" } });
  expect(await rejection(readMetadata(connection(), settings))).toBe(
    "GitLab preflight failed (1 problem):\n" +
      `  - GitLab at ${fake.url} has no GET /metadata (HTTP 404): GitLab 15.2 or newer is required`,
  );
});

test("an answer without a version is not a GitLab", async () => {
  fake.faults.push({ path: "/metadata", status: 200, body: { hello: "world" } });
  expect(await rejection(readMetadata(connection(), settings))).toBe(
    "GitLab preflight failed (1 problem):\n" +
      `  - GET /metadata at ${fake.url} answered without a version: is gitlab:baseUrl a GitLab instance?`,
  );
});

test("readToken reports the token's scopes and expiry", async () => {
  expect(await readToken(connection(), settings)).toEqual({
    name: "platform",
    scopes: ["api"],
    active: true,
    expiresAt: "2027-01-01",
  });
});

test("InstanceError lists its problems", () => {
  expect(new InstanceError(["a", "b"]).problems).toEqual(["a", "b"]);
});

test.each([
  ["18.6.1-ee", { major: 18, minor: 6, patch: 1 }],
  ["v17.3.3", { major: 17, minor: 3, patch: 3 }],
  ["17.10.0-pre", { major: 17, minor: 10, patch: 0 }],
  ["not-a-version", undefined],
  [null, undefined],
])("parseVersion(%j)", (text, expected) => {
  expect(parseVersion(text)).toEqual(expected);
});

test.each([
  ["17.10.0", 17, 10, true],
  ["17.9.9", 17, 10, false],
  ["18.0.0", 17, 10, true],
  ["16.11.0", 17, 3, false],
])("atLeast(%s, %i.%i) is %s", (version, major, minor, expected) => {
  expect(
    atLeast(parseVersion(version) as NonNullable<ReturnType<typeof parseVersion>>, major, minor),
  ).toBe(expected);
});
