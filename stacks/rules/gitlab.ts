import { validateEnvironmentScope } from "../../components/gitlab/variables";
import { problem } from "../errors";
import { ENVIRONMENT_DEFAULTS } from "../defaults";
import { Rule } from "./rule";

/** Rules about `gitlab.*`: the ids and paths GitLab's APIs need, and the published scope. */

const needsGroup = (what: string) =>
  `gitlab.groupPath: expected gitlab.groupPath to be set when ${what}, got nothing`;

/** A group runner is registered in a group. */
export const groupPathForGroupRunner: Rule = {
  name: "gitlab.groupPathForGroupRunner",
  paths: ["gitlab.groupPath"],
  check: (config) =>
    config.gitlab.groupPath === undefined &&
    config.features.runner &&
    config.runner.scope === "group"
      ? [needsGroup('runner.scope is "group"')]
      : [],
};

/** A group deploy token belongs to a group. */
export const groupPathForGroupDeployToken: Rule = {
  name: "gitlab.groupPathForGroupDeployToken",
  paths: ["gitlab.groupPath"],
  check: (config) =>
    config.gitlab.groupPath === undefined &&
    config.features.registryAuth &&
    config.registryAuth.scope === "group"
      ? [needsGroup('registryAuth.scope is "group"')]
      : [],
};

/** A group variable belongs to a group. */
export const groupPathForGroupVariables: Rule = {
  name: "gitlab.groupPathForGroupVariables",
  paths: ["gitlab.groupPath"],
  check: (config) =>
    config.gitlab.groupPath === undefined
      ? config.ciVariables.flatMap((v, i) =>
          v.target === "group" ? [needsGroup(`ciVariables[${i}].target is "group"`)] : [],
        )
      : [],
};

/** A group id names the group of `gitlab.groupPath`. */
export const groupPathWithGroupId: Rule = {
  name: "gitlab.groupPathWithGroupId",
  paths: ["gitlab.groupPath"],
  check: (config) =>
    config.gitlab.groupId !== undefined && config.gitlab.groupPath === undefined
      ? [needsGroup("gitlab.groupId is set")]
      : [],
};

/** The scope of the published variables is one GitLab accepts. */
export const environmentScopeValid: Rule = {
  name: "gitlab.environmentScopeValid",
  paths: ["gitlab.environmentScope"],
  check: (config) => {
    const scopeProblem = validateEnvironmentScope(config.gitlab.environmentScope);
    return scopeProblem === undefined ? [] : [`gitlab.environmentScope: ${scopeProblem}`];
  },
};

/** Where the environment requires it, only protected branches and tags get deployer credentials. */
export const publishedCredentialsProtected: Rule = {
  name: "gitlab.publishedCredentialsProtected",
  paths: ["gitlab.protectPublishedCredentials"],
  check: (config, raw) =>
    ENVIRONMENT_DEFAULTS[config.environment].rules.credentialsMaskedAndProtected &&
    !config.gitlab.protectPublishedCredentials
      ? [
          problem(
            ["gitlab", "protectPublishedCredentials"],
            `expected true in ${config.environment} (deployer credentials only for protected branches and tags)`,
            raw,
          ),
        ]
      : [],
};

/** The rules of this area. */
export const gitlabRules: readonly Rule[] = [
  groupPathForGroupRunner,
  groupPathForGroupDeployToken,
  groupPathForGroupVariables,
  groupPathWithGroupId,
  environmentScopeValid,
  publishedCredentialsProtected,
];
