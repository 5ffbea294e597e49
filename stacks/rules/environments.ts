import { validateEnvironmentName } from "../../components/gitlab/project-environment";
import { validateEnvironmentScope } from "../../components/gitlab/variables";
import { problem } from "../errors";
import { Rule } from "./rule";

/** Rules about `environment` (which one the stack is) and `environments.*` (GitLab's). */

/** A stack named dev, staging or production is that environment. */
export const environmentMatchesStack: Rule = {
  name: "environments.environmentMatchesStack",
  paths: ["environment"],
  check: (config, raw) => {
    const named = ["dev", "staging", "production"].find((env) => env === config.stack);
    return named !== undefined && raw.environment !== named
      ? [`environment: expected "${named}" for stack "${config.stack}", got "${raw.environment}"`]
      : [];
  },
};

/**
 * One concrete environment per app project: a wildcard scope (review/*) is no environment name,
 * review pipelines create their own. A name derived from an invalid scope is reported once, at
 * gitlab.environmentScope.
 */
export const environmentNameValid: Rule = {
  name: "environments.environmentNameValid",
  paths: ["environments.name"],
  check: (config, raw) => {
    const derivedFromBadScope =
      raw.environments?.name === undefined &&
      validateEnvironmentScope(config.gitlab.environmentScope) !== undefined;
    const nameProblem =
      config.features.environments && !derivedFromBadScope
        ? validateEnvironmentName(config.environments.name)
        : undefined;
    return nameProblem === undefined ? [] : [`environments.name: ${nameProblem}`];
  },
};

/** Approvals apply to protected environments only. */
export const approvalsNeedProtection: Rule = {
  name: "environments.approvalsNeedProtection",
  paths: ["environments.requiredApprovals"],
  check: (config, raw) =>
    config.environments.requiredApprovals > 0 && !config.environments.protected
      ? [
          problem(
            ["environments", "requiredApprovals"],
            "expected 0 unless environments.protected is true",
            raw,
          ),
        ]
      : [],
};

/** The rules of this area. */
export const environmentRules: readonly Rule[] = [
  environmentMatchesStack,
  environmentNameValid,
  approvalsNeedProtection,
];
