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
