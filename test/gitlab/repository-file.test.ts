import { createHash } from "node:crypto";
import { createBranchProtectionProvider } from "../../components/gitlab/branch-protection";
import { createRepositoryFileProvider } from "../../components/gitlab/repository-file";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { FAST, checked, configured, createChecked, rejection } from "./harness";

let fake: FakeGitLab;
beforeEach(async () => {
  fake = await startFakeGitLab();
});
afterEach(async () => {
  await fake.close();
});

const CONFIG = "ci_access:\n  projects:\n    - id: platform/app\n";
const PATH = ".gitlab/agents/prod/config.yaml";
const ENCODED = "/projects/platform%2Fapp/repository/files/.gitlab%2Fagents%2Fprod%2Fconfig.yaml";
const provider = () => configured(createRepositoryFileProvider(FAST), fake);
const args = (extra: Record<string, unknown> = {}) => ({
  resourceName: "agent-config",
  project: "platform/app",
  branch: "main",
  filePath: PATH,
  content: CONFIG,
  commitMessage: "Configure the prod agent",
  ...extra,
});

test("commits text content as base64, reads it back as text, updates and deletes it", async () => {
  const p = await provider();
  const created = await createChecked(
    p,
    args({ updateCommitMessage: "Reconfigure the prod agent" }),
  );
  expect(created.id).toBe(`platform/app:main:${PATH}`);
  expect(created.outs).toMatchObject({
    content: CONFIG,
    encoding: "text",
    fileName: "config.yaml",
    contentSha256: createHash("sha256").update(CONFIG).digest("hex"),
  });
  const posted = fake.requests("POST", /repository\/files/)[0];
  expect(posted?.path).toBe(ENCODED);
  expect(posted?.body).toEqual({
    branch: "main",
    content: Buffer.from(CONFIG).toString("base64"),
    commit_message: "Configure the prod agent",
    encoding: "base64",
  });

  expect((await p.read?.(created.id, created.outs))?.props).toEqual(created.outs);
  expect(fake.requests("GET", /repository\/files/)[0]?.query).toEqual({ ref: "main" });

  const news = await checked(
    p,
    args({
      content: `${CONFIG}  - id: platform/web\n`,
      updateCommitMessage: "Reconfigure the prod agent",
    }),
  );
  expect(await p.diff?.(created.id, created.outs, news)).toEqual({
    changes: true,
    replaces: [],
    deleteBeforeReplace: false,
  });
  const updated = await p.update?.(created.id, created.outs, news);
  expect(updated?.outs.content).toBe(`${CONFIG}  - id: platform/web\n`);
  expect(fake.requests("PUT", /repository\/files/)[0]?.body).toMatchObject({
    commit_message: "Reconfigure the prod agent",
  });

  await p.delete?.(created.id, updated?.outs);
  expect(fake.state.files.size).toBe(0);
  expect(fake.requests("DELETE", /repository\/files/)[0]?.body).toEqual({
    branch: "main",
    commit_message: "Configure the prod agent",
  });
});

describe("on a protected branch", () => {
  /** Protects `main` of platform/app as the platform does, through the fake's API. */
  async function protect(extra: Record<string, unknown>) {
    const branches = await configured(createBranchProtectionProvider(FAST), fake);
    await createChecked(branches, {
      resourceName: "platform-branch",
      project: "platform/app",
      branch: "main",
      mergeAccessLevel: "maintainer",
      ...extra,
    });
  }
  /** The fake's user behind the token (GitLab's GET /user). */
  async function me(): Promise<number> {
    const res = await fetch(`${fake.url}/api/v4/user`, {
      headers: { "PRIVATE-TOKEN": fake.token },
    });
    return ((await res.json()) as { id: number }).id;
  }

  test("where no one may push, GitLab refuses the commit with its message, Maintainer or not", async () => {
    await protect({ pushAccessLevel: "no one" });
    const p = await provider();
    expect(await rejection(createChecked(p, args()))).toBe(
      `RepositoryFile "agent-config": POST ${ENCODED} failed with HTTP 400: You are not allowed to push into this branch`,
    );
    expect(fake.state.files.size).toBe(0);
  });

  test("the program's own user in allowed_to_push commits, updates and deletes there", async () => {
    await protect({ pushAccessLevel: "no one", allowedToPushes: [{ userId: await me() }] });
    const p = await provider();
    const created = await createChecked(p, args());
    const news = await checked(p, args({ content: `${CONFIG}  - id: platform/web\n` }));
    const updated = await p.update?.(created.id, created.outs, news);
    expect(updated?.outs).toMatchObject({ content: `${CONFIG}  - id: platform/web\n` });
    await p.delete?.(created.id, updated!.outs);
    expect(fake.state.files.size).toBe(0);
  });

  test("another user in allowed_to_push does not let the token's user commit", async () => {
    await protect({ pushAccessLevel: "no one", allowedToPushes: [{ userId: (await me()) + 1 }] });
    expect(await rejection(createChecked(await provider(), args()))).toBe(
      `RepositoryFile "agent-config": POST ${ENCODED} failed with HTTP 400: You are not allowed to push into this branch`,
    );
  });

  test("Maintainers' push level lets a Maintainer's token commit", async () => {
    await protect({ pushAccessLevel: "maintainer" });
    await createChecked(await provider(), args());
    expect(fake.state.files.size).toBe(1);
  });
});

test("deleting a file that no longer exists succeeds (GitLab answers 400 for it)", async () => {
  const p = await provider();
  const created = await createChecked(p, args({ deleteCommitMessage: "Remove the prod agent" }));
  await p.delete?.(created.id, created.outs);
  await expect(p.delete?.(created.id, created.outs)).resolves.toBeUndefined();
  expect(fake.requests("DELETE", /repository\/files/).map((r) => r.body?.commit_message)).toEqual([
    "Remove the prod agent",
    "Remove the prod agent",
  ]);
});

test("a refresh sees content changed outside Pulumi, and diff then updates it", async () => {
  const p = await provider();
  const created = await createChecked(p, args());
  const stored = fake.state.files.get(`42:main:${PATH}`) as Record<string, unknown>;
  stored.content = Buffer.from("edited by hand\n").toString("base64");
  const refreshed = await p.read?.(created.id, created.outs);
  expect(refreshed?.props?.content).toBe("edited by hand\n");
  expect((await p.diff?.(created.id, refreshed?.props, await checked(p, args())))?.changes).toBe(
    true,
  );
});

test("imports by <project>:<branch>:<file_path>, the path keeping its slashes", async () => {
  const p = await provider();
  await createChecked(p, args());
  const imported = await p.read?.(`platform/app:main:${PATH}`, {});
  expect(imported?.props).toMatchObject({
    project: "platform/app",
    branch: "main",
    filePath: PATH,
    content: CONFIG,
  });
});

test("base64 content is sent as given", async () => {
  const p = await provider();
  const b64 = Buffer.from("binary\u0000data").toString("base64");
  const created = await createChecked(p, args({ encoding: "base64", content: b64 }));
  expect(created.outs.content).toBe(b64);
  expect(fake.requests("POST", /repository\/files/)[0]?.body?.content).toBe(b64);
});

test("an existing file fails creation unless overwriteOnCreate", async () => {
  const p = await provider();
  await createChecked(p, args());
  const taken = (how: string) =>
    `RepositoryFile "agent-config": file ".gitlab/agents/prod/config.yaml" on branch "main" of project "platform/app" already exists and this stack did not create it (GitLab answered HTTP 400: A file with this name already exists). Either take it over (${how}); the stack then replaces its content and deletes it on destroy. Or delete or move it in GitLab, then run again.`;
  expect(await rejection(createChecked(p, args({ content: "v2\n" })))).toBe(
    taken("set overwriteOnCreate"),
  );
  expect(await rejection(createChecked(p, args({ adoptKind: "codeOwners" })))).toBe(
    taken('in this platform\'s stack config, add "codeOwners" to platform:gitlab.adoptExisting'),
  );
  // Nothing was written by the refused creates.
  expect(fake.requests("PUT", /repository\/files/)).toEqual([]);
  const overwritten = await createChecked(p, args({ overwriteOnCreate: true, content: "v2\n" }));
  expect(overwritten.outs.content).toBe("v2\n");
});

test("moving the file creates the new one first; the same path in a new project reference deletes first", async () => {
  const p = await provider();
  const olds = await checked(p, args());
  expect(await p.diff?.("id", olds, await checked(p, args({ filePath: "other.yaml" })))).toEqual({
    changes: true,
    replaces: ["filePath"],
    deleteBeforeReplace: false,
  });
  expect(await p.diff?.("id", olds, await checked(p, args({ project: "42" })))).toEqual({
    changes: true,
    replaces: ["project"],
    deleteBeforeReplace: true,
  });
  expect(await p.diff?.("id", olds, await checked(p, args({ commitMessage: "other" })))).toEqual({
    changes: false,
    replaces: [],
    deleteBeforeReplace: false,
  });
});

test("retries a hung read and then succeeds", async () => {
  const p = await provider();
  const created = await createChecked(p, args());
  fake.log.length = 0;
  fake.faults.push({ method: "GET", hang: true });
  expect((await p.read?.(created.id, created.outs))?.props?.content).toBe(CONFIG);
  expect(fake.requests("GET", /repository\/files/)).toHaveLength(2);
});

test.each([
  {
    extra: { filePath: "/etc/passwd" },
    property: "filePath",
    problem:
      'expected a path relative to the repository root such as .gitlab/agents/prod/config.yaml, got "/etc/passwd"',
  },
  {
    extra: { filePath: "a/../b" },
    property: "filePath",
    problem:
      'expected a path relative to the repository root such as .gitlab/agents/prod/config.yaml, got "a/../b"',
  },
  {
    extra: { encoding: "utf-8" },
    property: "encoding",
    problem: 'expected "text" or "base64", got "utf-8"',
  },
  {
    extra: { encoding: "base64", content: "not base64!" },
    property: "content",
    problem: "is not valid base64 (encoding is base64)",
  },
  { extra: { commitMessage: " " }, property: "commitMessage", problem: "must not be empty" },
  { extra: { branch: "" }, property: "branch", problem: "must not be empty" },
])("check rejects a bad $property without a request", async ({ extra, property, problem }) => {
  const p = await provider();
  const result = await p.check?.({}, args(extra));
  expect(result?.failures).toEqual([
    { property, reason: `RepositoryFile "agent-config": ${property}: ${problem}` },
  ]);
  expect(fake.log).toEqual([]);
});
