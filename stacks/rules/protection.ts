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

/** The rules of this area. */
export const protectionRules: readonly Rule[] = [
  productionBranchLocked,
  environmentTagsNeedMaintainerDeploys,
];
