import { createTagProtectionProvider } from "../../components/gitlab/tag-protection";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { protections } from "./fake-gitlab-protection";
import { FAST, checked, configured, createChecked, rejection } from "./harness";

let fake: FakeGitLab;
afterEach(async () => {
  await fake.close();
});

const provider = () => configured(createTagProtectionProvider(FAST), fake);
const args = (extra: Record<string, unknown> = {}) => ({
  resourceName: "release-tags",
  project: "42",
  tag: "v*",
  createAccessLevel: "maintainer",
  ...extra,
});
const stored = () => protections(fake.state).tags.get("42:v*");

/** A protection someone made in GitLab before the stack. */
async function protectedByHand(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${fake.url}/api/v4/projects/42/protected_tags`, {
    method: "POST",
    headers: { "PRIVATE-TOKEN": fake.token, "content-type": "application/json" },
    body: JSON.stringify({ name: "v*", ...body }),
  });
  expect(res.status).toBe(201);
}

const NOT_ADOPTED = (status: number, message: string) =>
  'TagProtection "release-tags": protection of tag "v*" of project "42" already exists and this ' +
  `stack did not create it (GitLab answered HTTP ${status}: ${message}). Either adopt it: set ` +
  'adoptExisting on the resource (in this platform\'s stack config, add "protectedTags" to ' +
  "platform:gitlab.adoptExisting); the stack then overwrites its settings and deletes it on " +
  "destroy, as if it had created it. Or delete it in GitLab, then run again.";

describe("TagProtection", () => {
  beforeEach(async () => {
    fake = await startFakeGitLab();
  });

  test("protects release tags, reads them back unchanged and unprotects them", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ project: "platform/app" }));
    expect(created.id).toBe("platform/app:v*");
    const posted = fake.requests("POST", /protected_tags$/);
    expect(posted.map((r) => [r.path, r.body])).toEqual([
      ["/projects/platform%2Fapp/protected_tags", { name: "v*", create_access_level: 40 }],
    ]);
    const live = {
      resourceName: "release-tags",
      project: "platform/app",
      tag: "v*",
      createAccessLevel: "maintainer",
      allowedToCreates: [],
    };
    expect(created.outs).toEqual(live);
    expect(await p.read?.(created.id, created.outs)).toEqual({ id: created.id, props: live });
    expect(fake.log.at(-1)?.path).toBe("/projects/platform%2Fapp/protected_tags/v*");
    expect(
      await p.diff?.(created.id, live, await checked(p, args({ project: "platform/app" }))),
    ).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });

    await p.delete?.(created.id, created.outs);
    expect(protections(fake.state).tags.size).toBe(0);
    await expect(p.delete?.(created.id, created.outs)).resolves.toBeUndefined();
  });

  test("users, groups and deploy keys besides the role go as one JSON list", async () => {
    const p = await provider();
    const created = await createChecked(
      p,
      args({ createAccessLevel: "no one", allowedToCreates: [{ userId: 9 }, { deployKeyId: 3 }] }),
    );
    expect(fake.requests("POST", /protected_tags$/)[0]?.body).toEqual({
      name: "v*",
      create_access_level: 0,
      allowed_to_create: [{ deploy_key_id: 3 }, { user_id: 9 }],
    });
    expect(created.outs).toMatchObject({
      createAccessLevel: "no one",
      allowedToCreates: [{ deployKeyId: 3 }, { userId: 9 }],
    });
  });

  test("GitLab cannot update a protected tag: every change replaces it, deleting first while the pattern stays", async () => {
    const p = await provider();
    const created = await createChecked(
      p,
      args({ allowedToCreates: [{ userId: 2 }, { userId: 1 }] }),
    );
    const diff = async (extra: Record<string, unknown>) =>
      p.diff?.(created.id, created.outs, await checked(p, args(extra)));
    expect(await diff({ allowedToCreates: [{ userId: 1 }, { userId: 2 }] })).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(await diff({ createAccessLevel: "no one", allowedToCreates: [{ userId: 1 }] })).toEqual({
      changes: true,
      replaces: ["createAccessLevel", "allowedToCreates"],
      deleteBeforeReplace: true,
    });
    expect(
      await diff({ tag: "release-*", allowedToCreates: [{ userId: 1 }, { userId: 2 }] }),
    ).toEqual({
      changes: true,
      replaces: ["tag"],
      deleteBeforeReplace: false,
    });
    expect(p.update).toBeUndefined();
  });

  test("imports by <project>:<tag>, and a protection removed in GitLab is gone on refresh", async () => {
    const p = await provider();
    await createChecked(p, args({ createAccessLevel: "developer" }));
    const imported = await p.read?.("platform/app:v*", {});
    expect(imported?.props).toEqual({
      project: "platform/app",
      tag: "v*",
      createAccessLevel: "developer",
      allowedToCreates: [],
      resourceName: undefined,
    });
    protections(fake.state).tags.clear();
    expect(await p.read?.("42:v*", {})).toEqual({});
  });

  test("an unknown project surfaces GitLab's answer", async () => {
    const p = await provider();
    expect(await rejection(createChecked(p, args({ project: "platform/none" })))).toBe(
      'TagProtection "release-tags": POST /projects/platform%2Fnone/protected_tags failed with HTTP 404: 404 Project Not Found',
    );
  });

  test.each([
    {
      extra: { tag: "" },
      property: "tag",
      problem: 'expected a tag name or wildcard such as "v*", got ""',
    },
    {
      extra: { createAccessLevel: undefined },
      property: "createAccessLevel",
      problem: "is required",
    },
    {
      extra: { createAccessLevel: "owner" },
      property: "createAccessLevel",
      problem: 'expected one of "no one", "developer", "maintainer", "admin", got "owner"',
    },
    {
      extra: { allowedToCreates: [{}] },
      property: "allowedToCreates",
      problem: "[0]: expected exactly one of userId, groupId, deployKeyId, got none",
    },
  ])("check rejects a bad $property without a request", async ({ extra, property, problem }) => {
    const p = await provider();
    const result = await p.check?.({}, args(extra));
    expect(result?.failures).toEqual([
      { property, reason: `TagProtection "release-tags": ${property}: ${problem}` },
    ]);
    expect(fake.log).toEqual([]);
  });
});

describe("an already protected tag pattern", () => {
  beforeEach(async () => {
    fake = await startFakeGitLab();
  });

  test("without adoption it is left alone: GitLab's 422 names the taken name", async () => {
    await protectedByHand({ create_access_level: 30 });
    const before = JSON.stringify(stored());
    const p = await provider();
    expect(await rejection(createChecked(p, args()))).toBe(
      NOT_ADOPTED(422, '["Name has already been taken"]'),
    );
    expect(JSON.stringify(stored())).toBe(before);
    expect(fake.requests("DELETE", /protected_tags/)).toEqual([]);
  });

  test("older GitLab's 409 means the same", async () => {
    fake.faults.push({
      method: "POST",
      path: /protected_tags$/,
      status: 409,
      body: { message: "Protected tag 'v*' already exists" },
    });
    const p = await provider();
    expect(await rejection(createChecked(p, args()))).toBe(
      NOT_ADOPTED(409, "Protected tag 'v*' already exists"),
    );
  });

  test("adopted with the same settings, it is kept as it is; destroy unprotects it", async () => {
    await protectedByHand({ create_access_level: 40 });
    const before = stored();
    const p = await provider();
    const adopted = await createChecked(p, args({ adoptExisting: true }));
    expect(adopted.id).toBe("42:v*");
    expect(stored()).toBe(before);
    expect(fake.requests("DELETE", /protected_tags/)).toEqual([]);
    await p.delete?.(adopted.id, adopted.outs);
    expect(protections(fake.state).tags.size).toBe(0);
  });

  test("adopted with other settings, it is protected anew (no update endpoint exists)", async () => {
    await protectedByHand({ create_access_level: 30 });
    const p = await provider();
    const adopted = await createChecked(p, args({ adoptExisting: true }));
    expect(adopted.outs.createAccessLevel).toBe("maintainer");
    expect(fake.log.slice(1).map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /projects/42/protected_tags",
      "GET /projects/42/protected_tags/v*",
      "DELETE /projects/42/protected_tags/v*",
      "POST /projects/42/protected_tags",
    ]);
    expect(stored()?.create_access_levels).toEqual([
      expect.objectContaining({ access_level: 40, access_level_description: "Maintainers" }),
    ]);
  });
});

describe("GitLab CE (no enterprise API)", () => {
  beforeEach(async () => {
    fake = await startFakeGitLab({ metadata: { version: "18.6.1", enterprise: false } });
  });

  test("a user it drops is undone and fails naming what GitLab has", async () => {
    const p = await provider();
    expect(await rejection(createChecked(p, args({ allowedToCreates: [{ userId: 9 }] })))).toBe(
      'TagProtection "release-tags": GitLab did not apply allowedToCreates [{"userId":9}] (GitLab ' +
        'has []) when protecting tag "v*" of project "42", so the protection was removed again. ' +
        "Users and groups need GitLab Premium or Ultimate; GitLab CE takes only a role and deploy keys.",
    );
    expect(protections(fake.state).tags.size).toBe(0);
  });

  test("a role and deploy keys it takes", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ allowedToCreates: [{ deployKeyId: 3 }] }));
    expect(created.outs.allowedToCreates).toEqual([{ deployKeyId: 3 }]);
  });
});
