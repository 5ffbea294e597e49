import { createProjectContainerTagProtectionProvider } from "../../components/gitlab/project-container-tag-protection";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { protections } from "./fake-gitlab-protection";
import { FAST, checked, configured, createChecked, rejection } from "./harness";

let fake: FakeGitLab;
afterEach(async () => {
  await fake.close();
});

const provider = () => configured(createProjectContainerTagProtectionProvider(FAST), fake);
const args = (extra: Record<string, unknown> = {}) => ({
  resourceName: "production-images",
  project: "42",
  tagNameRegex: "^production$",
  minimumAccessLevelForPush: "MAINTAINER",
  minimumAccessLevelForDelete: "OWNER",
  ...extra,
});
const rules = () => [...protections(fake.state).containerTagRules.values()];

/** A rule someone made in GitLab before the stack. */
async function ruleByHand(pattern: string): Promise<number> {
  const res = await fetch(`${fake.url}/api/v4/projects/42/registry/protection/tag/rules`, {
    method: "POST",
    headers: { "PRIVATE-TOKEN": fake.token, "content-type": "application/json" },
    body: JSON.stringify({
      tag_name_pattern: pattern,
      minimum_access_level_for_push: "maintainer",
      minimum_access_level_for_delete: "maintainer",
    }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

const TOO_OLD =
  "(this GitLab has no such endpoint: protected container tag rules need GitLab 18.7 to be " +
  "read, 18.8 to be created and 18.9 to be changed or deleted)";

describe("ProjectContainerTagProtection (GitLab 18.9)", () => {
  beforeEach(async () => {
    fake = await startFakeGitLab({ metadata: { version: "18.9.0-ee" } });
  });

  test("protects the environment tag, reads it back, changes it in place and deletes it", async () => {
    const p = await provider();
    const created = await createChecked(p, args({ project: "platform/app" }));
    const [rule] = rules();
    expect(created.id).toBe(`platform/app:${rule?.id}`);
    expect(fake.requests("POST", /tag\/rules$/).map((r) => [r.path, r.body])).toEqual([
      [
        "/projects/platform%2Fapp/registry/protection/tag/rules",
        {
          tag_name_pattern: "^production$",
          minimum_access_level_for_push: "maintainer",
          minimum_access_level_for_delete: "owner",
        },
      ],
    ]);
    const live = {
      resourceName: "production-images",
      project: "platform/app",
      tagNameRegex: "^production$",
      minimumAccessLevelForPush: "MAINTAINER",
      minimumAccessLevelForDelete: "OWNER",
      protectionRuleId: rule?.id,
    };
    expect(created.outs).toEqual(live);
    expect(await p.read?.(created.id, created.outs)).toEqual({ id: created.id, props: live });

    const news = await checked(
      p,
      args({
        project: "platform/app",
        tagNameRegex: "^(production|staging)$",
        minimumAccessLevelForPush: "OWNER",
      }),
    );
    expect(await p.diff?.(created.id, live, news)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await p.update?.(created.id, live, news);
    expect(fake.requests("PATCH", /tag\/rules/).map((r) => [r.path, r.body])).toEqual([
      [
        `/projects/platform%2Fapp/registry/protection/tag/rules/${rule?.id}`,
        {
          tag_name_pattern: "^(production|staging)$",
          minimum_access_level_for_push: "owner",
          minimum_access_level_for_delete: "owner",
        },
      ],
    ]);
    expect(updated?.outs).toMatchObject({
      tagNameRegex: "^(production|staging)$",
      minimumAccessLevelForPush: "OWNER",
      protectionRuleId: rule?.id,
    });
    // The same pattern under the project's other spelling would be taken: deleted first.
    expect(await p.diff?.(created.id, live, await checked(p, args({ project: "42" })))).toEqual({
      changes: true,
      replaces: ["project"],
      deleteBeforeReplace: true,
    });

    await p.delete?.(created.id, updated?.outs);
    expect(rules()).toEqual([]);
    // Deleted already: GitLab's 404 for a missing rule counts as gone.
    await expect(p.delete?.(created.id, updated?.outs)).resolves.toBeUndefined();
    expect(await p.read?.(created.id, created.outs)).toEqual({});
  });

  test("imports by <project>:<protection_rule_id>", async () => {
    const id = await ruleByHand("^latest$");
    const p = await provider();
    const imported = await p.read?.(`42:${id}`, {});
    expect(imported?.props).toEqual({
      project: "42",
      tagNameRegex: "^latest$",
      minimumAccessLevelForPush: "MAINTAINER",
      minimumAccessLevelForDelete: "MAINTAINER",
      protectionRuleId: id,
      resourceName: undefined,
    });
  });

  test("a pattern the project already protects is left alone without adoption", async () => {
    const id = await ruleByHand("^production$");
    const p = await provider();
    expect(await rejection(createChecked(p, args()))).toBe(
      'ProjectContainerTagProtection "production-images": container tag protection rule ' +
        '"^production$" of project "42" already exists and this stack did not create it (GitLab ' +
        'answered HTTP 422: ["Tag name pattern has already been taken"]). Either adopt it: set ' +
        "adoptExisting on the resource (in this platform's stack config, add " +
        '"protectedContainerTags" to platform:gitlab.adoptExisting); the stack then overwrites ' +
        "its settings and deletes it on destroy, as if it had created it. Or delete it in " +
        "GitLab, then run again.",
    );
    expect(rules()).toEqual([
      expect.objectContaining({ id, minimum_access_level_for_delete: "maintainer" }),
    ]);
  });

  test("adopted, the rule keeps its id and gets the stack's roles; destroy deletes it", async () => {
    const id = await ruleByHand("^production$");
    const p = await provider();
    const adopted = await createChecked(p, args({ adoptExisting: true }));
    expect(adopted.id).toBe(`42:${id}`);
    expect(rules()).toEqual([
      expect.objectContaining({ id, minimum_access_level_for_delete: "owner" }),
    ]);
    await p.delete?.(adopted.id, adopted.outs);
    expect(rules()).toEqual([]);
  });

  test("GitLab's refusals surface with its message: the sixth rule, a taken pattern on update, a pattern too long", async () => {
    for (const pattern of ["^a$", "^b$", "^c$", "^d$", "^e$"]) {
      await ruleByHand(pattern);
    }
    const p = await provider();
    expect(await rejection(createChecked(p, args()))).toBe(
      'ProjectContainerTagProtection "production-images": POST /projects/42/registry/protection/tag/rules ' +
        "failed with HTTP 422: Maximum number of protection rules have been reached.",
    );
    protections(fake.state).containerTagRules.clear();

    const created = await createChecked(p, args());
    await ruleByHand("^staging$");
    const news = await checked(p, args({ tagNameRegex: "^staging$" }));
    expect(await rejection(Promise.resolve(p.update?.(created.id, created.outs, news)))).toBe(
      'ProjectContainerTagProtection "production-images": PATCH /projects/42/registry/protection/tag/rules/' +
        `${created.outs.protectionRuleId} failed with HTTP 422: {"error":["Tag name pattern has already been taken"]}`,
    );

    // What check refuses (below), GitLab refuses too.
    const long = { ...(await checked(p, args())), tagNameRegex: `^${"v".repeat(100)}$` };
    expect(await rejection(p.create(long))).toBe(
      'ProjectContainerTagProtection "production-images": POST /projects/42/registry/protection/tag/rules ' +
        'failed with HTTP 422: ["Tag name pattern is too long (maximum is 100 characters)"]',
    );
  });

  test.each([
    {
      extra: { tagNameRegex: "*" },
      property: "tagNameRegex",
      problem:
        'expected an RE2 regular expression, not a glob (GitLab matches it anywhere in the tag: "^v.*" for tags starting with v, ".*" for all), got "*"',
    },
    {
      extra: { tagNameRegex: "" },
      property: "tagNameRegex",
      problem: 'expected an RE2 regular expression of 1 to 100 characters, got ""',
    },
    {
      extra: { tagNameRegex: "^v(?!.*-rc)" },
      property: "tagNameRegex",
      problem:
        'expected an RE2 regular expression: RE2 has no lookaround or backreferences, got "^v(?!.*-rc)"',
    },
    {
      extra: { minimumAccessLevelForPush: "maintainer" },
      property: "minimumAccessLevelForPush",
      problem: 'expected one of MAINTAINER, OWNER, ADMIN, got "maintainer"',
    },
    {
      extra: { minimumAccessLevelForDelete: undefined },
      property: "minimumAccessLevelForDelete",
      problem: "is required",
    },
  ])("check rejects a bad $property without a request", async ({ extra, property, problem }) => {
    const p = await provider();
    const result = await p.check?.({}, args(extra));
    expect(result?.failures).toEqual([
      {
        property,
        reason: `ProjectContainerTagProtection "production-images": ${property}: ${problem}`,
      },
    ]);
    expect(fake.log).toEqual([]);
  });
});

describe("ProjectContainerTagProtection on GitLab older than 18.9", () => {
  test("18.8 creates, but cannot delete: the rule is not taken for gone and the error says why", async () => {
    fake = await startFakeGitLab({ metadata: { version: "18.8.2-ee" } });
    const p = await provider();
    const created = await createChecked(p, args());
    const path = `/projects/42/registry/protection/tag/rules/${created.outs.protectionRuleId}`;
    expect(await rejection(Promise.resolve(p.delete?.(created.id, created.outs)))).toBe(
      `ProjectContainerTagProtection "production-images": DELETE ${path} failed with HTTP 404: 404 Not Found ${TOO_OLD}`,
    );
    expect(rules()).toHaveLength(1);
  });

  test("18.6 has none of the endpoints", async () => {
    fake = await startFakeGitLab();
    const p = await provider();
    expect(await rejection(createChecked(p, args()))).toBe(
      'ProjectContainerTagProtection "production-images": POST /projects/42/registry/protection/tag/rules ' +
        `failed with HTTP 404: 404 Not Found ${TOO_OLD}`,
    );
  });
});
