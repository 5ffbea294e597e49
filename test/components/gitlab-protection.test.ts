import {
  GitLabProtection,
  GitLabProtectionArgs,
  exactTagRegex,
  gitLabProtectionProblems,
} from "../../components/gitlab-protection";
import { record } from "../harness/component";

const T = {
  branch: "pulumi-nodejs:dynamic/gitlab:BranchProtection",
  tag: "pulumi-nodejs:dynamic/gitlab:TagProtection",
  containerTag: "pulumi-nodejs:dynamic/gitlab:ProjectContainerTagProtection",
};

const base: GitLabProtectionArgs = {
  projects: [
    { project: "acme/platform", defaultBranch: "main" },
    { project: "acme/web", defaultBranch: "trunk" },
  ],
  defaultBranch: {
    pushAccessLevel: "no one",
    mergeAccessLevel: "maintainer",
    allowForcePush: false,
    codeOwnerApprovalRequired: true,
  },
  releaseTags: { patterns: ["v*"], createAccessLevel: "maintainer" },
};

test("protects each project's own default branch and release tags, adopting only what it is told to", async () => {
  const { resources } = await record(
    (provider) =>
      new GitLabProtection("protection", { ...base, adopt: { branches: true } }, { provider }),
  );
  expect(resources.countByType()).toEqual({
    "pulumi:providers:kubernetes": 1,
    "platform:ci:GitLabProtection": 1,
    [T.branch]: 2,
    [T.tag]: 2,
  });
  const web = resources.find(T.branch, "protection-acme/web-branch");
  expect(web.inputs).toEqual({
    resourceName: "protection-acme/web-branch",
    project: "acme/web",
    branch: "trunk",
    pushAccessLevel: "no one",
    mergeAccessLevel: "maintainer",
    allowForcePush: false,
    codeOwnerApprovalRequired: true,
    adoptExisting: true,
  });
  const tag = resources.find(T.tag, "protection-acme/platform-tag-v*");
  expect(tag.inputs).toMatchObject({
    project: "acme/platform",
    tag: "v*",
    createAccessLevel: "maintainer",
  });
  // Tags were not named for adoption: an existing protection stops the run instead.
  expect(tag.inputs["adoptExisting"]).toBeUndefined();
});

test("the environment's container tag is protected exactly, for Maintainers only", async () => {
  const { resources } = await record(
    (provider) =>
      new GitLabProtection(
        "protection",
        {
          ...base,
          projects: [],
          environmentTags: { projects: ["acme/docs"], tagRegex: exactTagRegex("production") },
        },
        { provider },
      ),
  );
  expect(resources.ofType(T.branch)).toEqual([]);
  expect(resources.find(T.containerTag, "protection-acme/docs-container-tag").inputs).toEqual({
    resourceName: "protection-acme/docs-container-tag",
    project: "acme/docs",
    tagNameRegex: "^production$",
    minimumAccessLevelForPush: "MAINTAINER",
    minimumAccessLevelForDelete: "MAINTAINER",
  });
});

test.each([
  ["production", "^production$"],
  ["review/x.1", "^review/x\\.1$"],
])("exactTagRegex(%s) matches that tag only", (tag, regex) => {
  expect(exactTagRegex(tag)).toBe(regex);
  expect(new RegExp(regex).test(tag)).toBe(true);
  expect(new RegExp(regex).test(`${tag}-old`)).toBe(false);
});

test("an empty repository's missing default branch and duplicates are refused before anything is registered", () => {
  expect(
    gitLabProtectionProblems({
      ...base,
      projects: [
        { project: "acme/web", defaultBranch: "" },
        { project: "acme/web", defaultBranch: "main" },
      ],
      releaseTags: { patterns: ["v*", "v*"], createAccessLevel: "maintainer" },
    }),
  ).toEqual([
    "projects[0].defaultBranch: expected the project's default branch, got an empty name (an empty repository has none: push a first commit)",
    'projects[1].project: "acme/web" is listed twice',
    "releaseTags.patterns: expected each pattern once",
  ]);
  expect(
    () => new GitLabProtection("p", { ...base, projects: [{ project: "a/b", defaultBranch: "" }] }),
  ).toThrow('GitLabProtection "p": projects[0].defaultBranch: expected');
});

describe("CODEOWNERS of the agents' authorization files", () => {
  const FILE = "pulumi-nodejs:dynamic/gitlab:RepositoryFile";
  const CONTENT = [
    "# Managed by Pulumi (gitlab-cd-platform, protection of the platform project). Changes to the",
    "# GitLab agents' authorization files, and to who owns them, need these owners' approval.",
    "[GitLab agents]",
    "/.gitlab/agents/ @acme/platform-admins @@maintainer",
    "/.gitlab/CODEOWNERS @acme/platform-admins @@maintainer",
    "/CODEOWNERS @acme/platform-admins @@maintainer",
    "/docs/CODEOWNERS @acme/platform-admins @@maintainer",
    "",
  ].join("\n");
  const owners = { project: "acme/platform", owners: ["@acme/platform-admins", "@@maintainer"] };

  test("committed to the platform project's default branch before that branch is protected", async () => {
    const { resources } = await record(
      (provider) =>
        new GitLabProtection("protection", { ...base, codeOwners: owners }, { provider }),
    );
    const file = resources.find(FILE, "protection-codeowners");
    expect(file.inputs).toEqual({
      resourceName: "protection-codeowners",
      project: "acme/platform",
      branch: "main",
      filePath: ".gitlab/CODEOWNERS",
      content: CONTENT,
      encoding: "text",
      commitMessage: "Code owners of the GitLab agents' configuration, managed by Pulumi",
      adoptKind: "codeOwners",
    });
    // Never overwritten unless adopted: an existing file stops the create (RepositoryFile).
    expect(file.inputs["overwriteOnCreate"]).toBeUndefined();
    expect(resources.find(T.branch, "protection-acme/platform-branch").dependencies).toContain(
      file.urn,
    );
    expect(resources.find(T.branch, "protection-acme/web-branch").dependencies).not.toContain(
      file.urn,
    );
    expect(resources.ofType(FILE)).toHaveLength(1);
  });

  test("adopted: an existing .gitlab/CODEOWNERS is replaced", async () => {
    const { resources } = await record(
      (provider) =>
        new GitLabProtection(
          "protection",
          { ...base, codeOwners: owners, adopt: { codeOwners: true } },
          { provider },
        ),
    );
    expect(resources.find(FILE, "protection-codeowners").inputs["overwriteOnCreate"]).toBe(true);
  });

  test("none without code owners", async () => {
    const { resources } = await record(
      (provider) => new GitLabProtection("protection", base, { provider }),
    );
    expect(resources.ofType(FILE)).toEqual([]);
  });

  test("refused: a project not protected here, no or malformed owners, approval off", () => {
    expect(
      gitLabProtectionProblems({
        ...base,
        defaultBranch: { ...base.defaultBranch, codeOwnerApprovalRequired: false },
        codeOwners: { project: "acme/other", owners: ["acme/admins", "@ok"] },
      }),
    ).toEqual([
      'codeOwners.project: expected one of the protected projects (its CODEOWNERS goes to their default branch), got "acme/other"',
      'codeOwners.owners[0]: expected @user, @group/subgroup, @@role or an email, got "acme/admins"',
      "defaultBranch.codeOwnerApprovalRequired: expected true with codeOwners (without it GitLab merges without their approval), got false",
    ]);
    expect(
      gitLabProtectionProblems({ ...base, codeOwners: { project: "acme/platform", owners: [] } }),
    ).toEqual(["codeOwners.owners: expected at least one owner, got none"]);
  });
});

describe("the program's own push", () => {
  test("lets only the program's user push to the platform project's branch, where no one else may", async () => {
    const { resources } = await record(
      (provider) =>
        new GitLabProtection(
          "protection",
          { ...base, programPush: { project: "acme/platform", userId: 5 } },
          { provider },
        ),
    );
    expect(resources.find(T.branch, "protection-acme/platform-branch").inputs).toEqual({
      resourceName: "protection-acme/platform-branch",
      project: "acme/platform",
      branch: "main",
      pushAccessLevel: "no one",
      mergeAccessLevel: "maintainer",
      allowForcePush: false,
      codeOwnerApprovalRequired: true,
      allowedToPushes: [{ userId: 5 }],
    });
    // App projects get no such exception: the program commits nothing there.
    expect(
      resources.find(T.branch, "protection-acme/web-branch").inputs["allowedToPushes"],
    ).toBeUndefined();
  });

  test("names a project that is not protected and a user id that is not one", () => {
    expect(
      gitLabProtectionProblems({ ...base, programPush: { project: "acme/other", userId: 0 } }),
    ).toEqual([
      'programPush.project: expected one of the protected projects, got "acme/other"',
      "programPush.userId: expected a GitLab user id, got 0",
    ]);
  });
});
