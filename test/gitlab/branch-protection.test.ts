import { createBranchProtectionProvider } from "../../components/gitlab/branch-protection";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { protections } from "./fake-gitlab-protection";
import { FAST, checked, configured, createChecked, rejection } from "./harness";

let fake: FakeGitLab;
afterEach(async () => {
  await fake.close();
});

const provider = () => configured(createBranchProtectionProvider(FAST), fake);
const args = (extra: Record<string, unknown> = {}) => ({
  resourceName: "main",
  project: "42",
  branch: "main",
  ...extra,
});
/** The fake's protected branch, as GitLab stores it. */
const stored = (key = "42:main") => protections(fake.state).branches.get(key);
const ids = (entries: unknown) => (entries as { id: number }[]).map((e) => e.id);

/** What someone (or GitLab, for a new project's default branch) protected before the stack. */
async function protectedByHand(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${fake.url}/api/v4/projects/42/protected_branches`, {
    method: "POST",
    headers: { "PRIVATE-TOKEN": fake.token, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
}

const WHY =
  "GitLab CE cannot change access levels of a protected branch in place (its update endpoint " +
  "takes only allow_force_push) and has no unprotect levels or code owner approval; users, " +
  "groups and code owner approval need GitLab Premium or Ultimate";

describe("BranchProtection", () => {
  beforeEach(async () => {
    fake = await startFakeGitLab();
  });

  test("protects a branch with GitLab's defaults, reads it back unchanged and unprotects it", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ project: "platform/app" }));
    expect(created.id).toBe("platform/app:main");
    const posted = fake.requests("POST", /protected_branches$/);
    expect(posted.map((r) => r.path)).toEqual(["/projects/platform%2Fapp/protected_branches"]);
    expect(posted[0]?.body).toEqual({
      name: "main",
      push_access_level: 40,
      merge_access_level: 40,
      unprotect_access_level: 40,
      allow_force_push: false,
      code_owner_approval_required: false,
    });
    const live = {
      resourceName: "main",
      project: "platform/app",
      branch: "main",
      pushAccessLevel: "maintainer",
      mergeAccessLevel: "maintainer",
      unprotectAccessLevel: "maintainer",
      allowForcePush: false,
      codeOwnerApprovalRequired: false,
      allowedToPushes: [],
      allowedToMerges: [],
      allowedToUnprotects: [],
      branchProtectionId: stored()?.id,
    };
    expect(created.outs).toEqual(live);
    expect(await p.read?.(created.id, created.outs)).toEqual({ id: created.id, props: live });
    const same = await checked(p, args({ project: "platform/app" }));
    expect(await p.diff?.(created.id, live, same)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });

    await p.delete?.(created.id, created.outs);
    expect(fake.requests("DELETE", /protected_branches/).map((r) => r.path)).toEqual([
      "/projects/platform%2Fapp/protected_branches/main",
    ]);
    expect(protections(fake.state).branches.size).toBe(0);
    await expect(p.delete?.(created.id, created.outs)).resolves.toBeUndefined();
  });

  test("no one pushes, Developers + Maintainers merge, code owners approve, a bot may push; wildcard names", async () => {
    const p = await provider();
    const created = await createChecked(
      p,
      args({
        resourceName: "release",
        branch: "release/*",
        pushAccessLevel: "no one",
        mergeAccessLevel: "developer",
        codeOwnerApprovalRequired: true,
        allowedToPushes: [{ userId: 9 }, { deployKeyId: 3 }],
      }),
    );
    expect(fake.requests("POST", /protected_branches$/)[0]?.body).toEqual({
      name: "release/*",
      push_access_level: 0,
      merge_access_level: 30,
      unprotect_access_level: 40,
      allow_force_push: false,
      code_owner_approval_required: true,
      allowed_to_push: [{ deploy_key_id: 3 }, { user_id: 9 }],
    });
    expect(created.outs).toMatchObject({
      pushAccessLevel: "no one",
      mergeAccessLevel: "developer",
      codeOwnerApprovalRequired: true,
      allowedToPushes: [{ deployKeyId: 3 }, { userId: 9 }],
    });
    expect(stored("42:release/*")?.push_access_levels).toEqual([
      expect.objectContaining({ access_level: 0, access_level_description: "No one" }),
      expect.objectContaining({ deploy_key_id: 3, access_level_description: "Deploy key" }),
      expect.objectContaining({ user_id: 9 }),
    ]);
    await p.read?.(created.id, created.outs);
    expect(fake.log.at(-1)?.path).toBe("/projects/42/protected_branches/release%2F*");
  });

  test("changes access levels in place with one PATCH: old entries dropped by id, new ones added", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ allowedToMerges: [{ groupId: 7 }] }));
    const before = stored();
    const [push40] = ids(before?.push_access_levels);
    const [merge40, group7] = ids(before?.merge_access_levels);
    const news = await checked(
      p,
      args({
        pushAccessLevel: "no one",
        mergeAccessLevel: "developer",
        allowedToPushes: [{ userId: 9 }],
        allowedToMerges: [{ groupId: 7 }],
      }),
    );
    expect(await p.diff?.(created.id, created.outs, news)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await p.update?.(created.id, created.outs, news);
    expect(fake.requests("PATCH", /protected_branches\/main$/).map((r) => r.body)).toEqual([
      {
        allow_force_push: false,
        code_owner_approval_required: false,
        allowed_to_push: [{ id: push40, _destroy: true }, { access_level: 0 }, { user_id: 9 }],
        allowed_to_merge: [{ id: merge40, _destroy: true }, { access_level: 30 }],
      },
    ]);
    expect(updated?.outs).toMatchObject({
      pushAccessLevel: "no one",
      mergeAccessLevel: "developer",
      allowedToPushes: [{ userId: 9 }],
      allowedToMerges: [{ groupId: 7 }],
      branchProtectionId: before?.id,
    });
    // The group entry that stayed wanted was never touched; the branch was never unprotected.
    expect(ids(stored()?.merge_access_levels)).toContain(group7);
    expect(fake.requests("DELETE", /protected_branches/)).toEqual([]);
    expect(fake.requests("POST", /protected_branches/)).toHaveLength(1);
  });

  test("force push and code owner approval change in place; a reordered list is no change", async () => {
    const p = await provider();
    const created = await createChecked(
      p,
      args({ allowedToPushes: [{ userId: 2 }, { userId: 1 }] }),
    );
    const reordered = await checked(p, args({ allowedToPushes: [{ userId: 1 }, { userId: 2 }] }));
    expect((await p.diff?.(created.id, created.outs, reordered))?.changes).toBe(false);
    const news = await checked(
      p,
      args({
        allowForcePush: true,
        codeOwnerApprovalRequired: true,
        allowedToPushes: [{ userId: 1 }, { userId: 2 }],
      }),
    );
    await p.update?.(created.id, created.outs, news);
    expect(fake.requests("PATCH", /protected_branches/).map((r) => r.body)).toEqual([
      { allow_force_push: true, code_owner_approval_required: true },
    ]);
    expect(stored()).toMatchObject({ allow_force_push: true, code_owner_approval_required: true });
  });

  test("a new branch is protected before the old is released; the same branch in a respelt project is deleted first", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    expect(
      await p.diff?.(created.id, created.outs, await checked(p, args({ branch: "trunk" }))),
    ).toEqual({
      changes: true,
      replaces: ["branch"],
      deleteBeforeReplace: false,
    });
    expect(
      await p.diff?.(created.id, created.outs, await checked(p, args({ project: "platform/app" }))),
    ).toEqual({ changes: true, replaces: ["project"], deleteBeforeReplace: true });
  });

  test("imports by <project>:<branch>, and a protection removed in GitLab is gone on refresh", async () => {
    const p = await provider();
    await createChecked(p, args({ branch: "release/*", mergeAccessLevel: "developer" }));
    const imported = await p.read?.("platform/app:release/*", {});
    expect(imported?.props).toMatchObject({
      project: "platform/app",
      branch: "release/*",
      mergeAccessLevel: "developer",
    });
    expect(imported?.props).not.toHaveProperty("resourceName");
    expect(imported?.inputs).toEqual(imported?.props);
    protections(fake.state).branches.clear();
    expect(await p.read?.("42:release/*", {})).toEqual({});
  });

  test("updating a protection removed in GitLab fails with GitLab's answer", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    protections(fake.state).branches.clear();
    const news = await checked(p, args({ allowForcePush: true }));
    expect(await rejection(Promise.resolve(p.update?.(created.id, created.outs, news)))).toBe(
      'BranchProtection "main": GET /projects/42/protected_branches/main failed with HTTP 404: 404 Not found',
    );
  });

  test("retries a 503 on the update", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    fake.faults.push({ method: "PATCH", status: 503 });
    const updated = await p.update?.(
      created.id,
      created.outs,
      await checked(p, args({ allowForcePush: true })),
    );
    expect(updated?.outs.allowForcePush).toBe(true);
    expect(fake.requests("PATCH", /protected_branches/)).toHaveLength(2);
  });

  test("GitLab's refusals surface with its message: an unknown project, and an unprotect level of no one", async () => {
    const p = await provider();
    expect(await rejection(createChecked(p, args({ project: "platform/none" })))).toBe(
      'BranchProtection "main": POST /projects/platform%2Fnone/protected_branches failed with HTTP 404: 404 Project Not Found',
    );
    // What check refuses (below), GitLab refuses too.
    const inputs = { ...(await checked(p, args())), unprotectAccessLevel: "no one" };
    expect(await rejection(p.create(inputs))).toBe(
      'BranchProtection "main": POST /projects/42/protected_branches failed with HTTP 400: unprotect_access_level does not have a valid value',
    );
    expect(protections(fake.state).branches.size).toBe(0);
  });

  test.each([
    {
      extra: { branch: " " },
      property: "branch",
      problem: 'expected a branch name or wildcard such as "main" or "release/*", got " "',
    },
    {
      extra: { pushAccessLevel: "owner" },
      property: "pushAccessLevel",
      problem: 'expected one of "no one", "developer", "maintainer", "admin", got "owner"',
    },
    {
      extra: { unprotectAccessLevel: "no one" },
      property: "unprotectAccessLevel",
      problem: 'expected one of "developer", "maintainer", "admin", got "no one"',
    },
    {
      extra: { allowedToPushes: [{ userId: 1, groupId: 2 }] },
      property: "allowedToPushes",
      problem: "[0]: expected exactly one of userId, groupId, deployKeyId, got userId, groupId",
    },
    {
      extra: { allowedToMerges: [{ deployKeyId: 3 }] },
      property: "allowedToMerges",
      problem: "[0]: expected exactly one of userId, groupId, got deployKeyId",
    },
    {
      extra: { allowedToUnprotects: [{ userId: 0 }] },
      property: "allowedToUnprotects",
      problem: "[0]: userId: expected a positive whole number, got 0",
    },
    {
      extra: { allowedToPushes: [{ userId: 5 }, { userId: 5 }] },
      property: "allowedToPushes",
      problem: '[1]: {"userId":5} is listed twice',
    },
  ])("check rejects a bad $property without a request", async ({ extra, property, problem }) => {
    const p = await provider();
    const result = await p.check?.({}, args(extra));
    expect(result?.failures).toEqual([
      { property, reason: `BranchProtection "main": ${property}: ${problem}` },
    ]);
    expect(fake.log).toEqual([]);
  });
});

describe("an already protected branch (GitLab protects a new project's default branch)", () => {
  beforeEach(async () => {
    fake = await startFakeGitLab();
    await protectedByHand({ name: "main", allow_force_push: true });
  });
  const wanted = args({ pushAccessLevel: "no one", mergeAccessLevel: "developer" });

  test("without adoption it is left alone and the error names it and both ways out", async () => {
    const before = JSON.stringify(stored());
    const p = await provider();
    expect(await rejection(createChecked(p, wanted))).toBe(
      'BranchProtection "main": protection of branch "main" of project "42" already exists and ' +
        "this stack did not create it (GitLab answered HTTP 409: Protected branch 'main' already " +
        "exists). Either adopt it: set adoptExisting on the resource (in this platform's stack " +
        'config, add "protectedBranches" to platform:gitlab.adoptExisting); the stack then ' +
        "overwrites its settings and deletes it on destroy, as if it had created it. Or delete it " +
        "in GitLab, then run again.",
    );
    expect(JSON.stringify(stored())).toBe(before);
    expect(fake.requests("PATCH", /protected_branches/)).toEqual([]);
    expect(fake.requests("DELETE", /protected_branches/)).toEqual([]);
  });

  test("adopted, its settings are rewritten in place (never unprotected), and destroy unprotects it", async () => {
    const id = stored()?.id;
    const p = await provider();
    const adopted = await createChecked(p, { ...wanted, adoptExisting: true });
    expect(adopted.id).toBe("42:main");
    expect(adopted.outs).toMatchObject({
      pushAccessLevel: "no one",
      mergeAccessLevel: "developer",
      allowForcePush: false,
      branchProtectionId: id,
    });
    expect(stored()).toMatchObject({ id, allow_force_push: false });
    expect(fake.requests("DELETE", /protected_branches/)).toEqual([]);
    await p.delete?.(adopted.id, adopted.outs);
    expect(protections(fake.state).branches.size).toBe(0);
  });
});

describe("GitLab CE (no enterprise API)", () => {
  beforeEach(async () => {
    fake = await startFakeGitLab({ metadata: { version: "18.6.1", enterprise: false } });
  });

  test("protects with roles and reads GitLab's defaults for what CE lacks", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ mergeAccessLevel: "developer" }));
    expect(await p.read?.(created.id, created.outs)).toEqual({
      id: created.id,
      props: created.outs,
    });
    expect(created.outs).toMatchObject({
      unprotectAccessLevel: "maintainer",
      codeOwnerApprovalRequired: false,
    });
  });

  test("an access level change it ignores fails naming what GitLab kept; the branch stays protected", async () => {
    const p = await provider();
    const created = await createChecked(p, args());
    const news = await checked(p, args({ pushAccessLevel: "developer" }));
    expect(await rejection(Promise.resolve(p.update?.(created.id, created.outs, news)))).toBe(
      'BranchProtection "main": GitLab did not apply pushAccessLevel "developer" (GitLab has ' +
        '"maintainer") to protected branch "main" of project "42"; the branch stays protected with ' +
        `what GitLab has. ${WHY}. Change the settings, or unprotect the branch in GitLab and run ` +
        "again with --refresh: the stack then protects it anew with these settings.",
    );
    expect(stored()?.push_access_levels).toEqual([expect.objectContaining({ access_level: 40 })]);
  });

  test("a create it does not fully apply (code owner approval) is undone and fails", async () => {
    const p = await provider();
    expect(await rejection(createChecked(p, args({ codeOwnerApprovalRequired: true })))).toBe(
      'BranchProtection "main": GitLab did not apply codeOwnerApprovalRequired true (GitLab has ' +
        'false) when protecting branch "main" of project "42", so the protection was removed ' +
        `again. ${WHY}.`,
    );
    expect(fake.log.map((r) => r.method)).toEqual(["POST", "DELETE"]);
    expect(protections(fake.state).branches.size).toBe(0);
  });
});
