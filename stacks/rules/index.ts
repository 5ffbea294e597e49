import { agentRules } from "./agent";
import { codeOwnersRules } from "./codeowners";
import { fluxRules } from "./flux";
import { appRules } from "./apps";
import {
  approvalsNeedProtection,
  environmentMatchesStack,
  environmentNameValid,
  environmentRules,
} from "./environments";
import {
  environmentScopeValid,
  gitlabRules,
  groupPathForGroupDeployToken,
  groupPathForGroupRunner,
  groupPathForGroupVariables,
  groupPathWithGroupId,
  publishedCredentialsProtected,
} from "./gitlab";
import {
  appLimitRangeConsistent,
  limitRangeRequestsWithinLimits,
  namespaceRules,
  namespacesDistinct,
} from "./namespaces";
import {
  appTokenReachesImage,
  expiryInFuture,
  projectTokenReachesImages,
  registryRules,
  sharedTokenAllowed,
} from "./registry";
import { RuleEntry } from "./rule";
import { policyRules } from "./policy";
import { protectionRules } from "./protection";
import { runnerRules } from "./runner";
import { variableRules } from "./variables";

/**
 * The cross-field config rules, one module per area (the key paths they report). Each area lists
 * its rules; {@link RULES} is every rule in the order problems are reported, which interleaves a
 * few areas (the order the checks had before they were split, so messages stay the same).
 */

export type { ItemRule, ItemRules, Rule, RuleEntry } from "./rule";
export { flattenRules, runRules, selectRules } from "./rule";

/** Each area's rules, by area. */
export const RULES_BY_AREA: Readonly<Record<string, readonly RuleEntry[]>> = {
  environments: environmentRules,
  gitlab: gitlabRules,
  namespaces: namespaceRules,
  agent: agentRules,
  registry: registryRules,
  runner: runnerRules,
  flux: fluxRules,
  variables: variableRules,
  apps: appRules,
  protection: protectionRules,
  codeOwners: codeOwnersRules,
  policy: policyRules,
};

/** Every rule, in report order. */
export const RULES: readonly RuleEntry[] = [
  environmentMatchesStack,
  groupPathForGroupRunner,
  groupPathForGroupDeployToken,
  groupPathForGroupVariables,
  groupPathWithGroupId,
  environmentScopeValid,
  environmentNameValid,
  approvalsNeedProtection,
  namespacesDistinct,
  ...agentRules,
  projectTokenReachesImages,
  appTokenReachesImage,
  sharedTokenAllowed,
  publishedCredentialsProtected,
  ...runnerRules,
  ...fluxRules,
  limitRangeRequestsWithinLimits,
  appLimitRangeConsistent,
  expiryInFuture,
  ...variableRules,
  ...appRules,
  ...protectionRules,
  ...codeOwnersRules,
  ...policyRules,
];
