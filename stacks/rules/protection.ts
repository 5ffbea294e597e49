import { problem } from "../errors";
import { Rule } from "./rule";

/** Rules about `protection.*`: branches, release tags and the container tags Flux follows. */

/** Production's default branch takes no force pushes and no direct pushes from Developers. */
export const productionBranchLocked: Rule = {
  name: "protection.productionBranchLocked",
  paths: ["protection.defaultBranch.allowForcePush", "protection.defaultBranch.pushAccessLevel"],
  check: (config, raw) => {
    const b = config.protection.defaultBranch;
    if (config.environment !== "production" || !config.protection.manage) {
      return [];
    }
    return [
      ...(b.allowForcePush
        ? [
            problem(
              ["protection", "defaultBranch", "allowForcePush"],
              "expected false in production (a force push rewrites what was reviewed)",
              raw,
            ),
          ]
        : []),
      ...(b.pushAccessLevel === "developer"
        ? [
            problem(
              ["protection", "defaultBranch", "pushAccessLevel"],
              'expected "no one" or "maintainer" in production (changes arrive through reviewed merge requests)',
              raw,
            ),
          ]
        : []),
    ];
  },
};

/**
 * Protected container tags admit Maintainers at the least, so the deploy jobs that move the tag
 * must be Maintainers' too: a protected environment that only Maintainers may deploy.
 */
export const environmentTagsNeedMaintainerDeploys: Rule = {
  name: "protection.environmentTagsNeedMaintainerDeploys",
  paths: ["protection.environmentTags"],
  check: (config, raw) =>
    config.protection.environmentTags &&
    config.features.flux &&
    !(config.environments.protected && config.environments.deployAccessLevel === "maintainer")
      ? [
          problem(
            ["protection", "environmentTags"],
            'expected false unless environments.protected is true with deployAccessLevel "maintainer" (only Maintainers may move a protected container tag, so deploy jobs run by Developers could not promote)',
            raw,
          ),
        ]
      : [],
};

/**
 * Whether this stack commits to the platform project's default branch: the agents'
 * `config.yaml` (features.agent) and, where it manages protection, `.gitlab/CODEOWNERS`.
 */
export function commitsToPlatformProject(config: {
  readonly features: { readonly agent: boolean };
  readonly protection: { readonly manage: boolean };
  readonly agent: { readonly codeOwners: readonly string[] };
}): boolean {
  return config.features.agent || (config.protection.manage && config.agent.codeOwners.length > 0);
}

/**
 * Where no one may push, the program's own commits need its user let in: GitLab's Files API
 * refuses a commit to a protected branch the token's user may not push to, Maintainer or not
 * (app/services/commits/create_service.rb `validate_permissions!`: HTTP 400 "You are not
 * allowed to push into this branch").
 */
export const programCanCommit: Rule = {
  name: "protection.programCanCommit",
  paths: ["protection.defaultBranch.programPush", "protection.defaultBranch.pushAccessLevel"],
  check: (config, raw) => {
    const b = config.protection.defaultBranch;
    return config.protection.manage &&
      b.pushAccessLevel === "no one" &&
      !b.programPush &&
      commitsToPlatformProject(config)
      ? [
          problem(
            ["protection", "defaultBranch", "programPush"],
            `expected true while pushAccessLevel is "no one" and this stack commits to the platform project's default branch (the agents' config.yaml, .gitlab/CODEOWNERS): GitLab would refuse those commits (or set pushAccessLevel "maintainer")`,
            raw,
          ),
        ]
      : [];
  },
};

/** The rules of this area. */
export const protectionRules: readonly Rule[] = [
  productionBranchLocked,
  programCanCommit,
  environmentTagsNeedMaintainerDeploys,
];
