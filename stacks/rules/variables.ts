import { PUBLISHED_KEYS } from "../../components/ci-variables";
import { validateEnvironmentScope, validateMaskedValue } from "../../components/gitlab/variables";
import { ENVIRONMENT_DEFAULTS } from "../defaults";
import { problem } from "../errors";
import { CiVariableSettings, Environment } from "../model";
import { ItemRule, Rule, RuleEntry, earlierWithSameKey, eachItem } from "./rule";

/** Rules about `ciVariables[]`: what GitLab would refuse, and credentials' protection. */

/** One variable per target, key and environment scope (GitLab refuses a second). */
export const uniqueKey: ItemRule<CiVariableSettings> = {
  name: "variables.uniqueKey",
  paths: ["ciVariables[].key"],
  check: (_v, i, all, _config, raw) => {
    const first = earlierWithSameKey(all, i, (w) => `${w.target}:${w.key}:${w.environmentScope}`);
    return first === undefined
      ? []
      : [
          problem(
            ["ciVariables", i, "key"],
            `expected a key unique per target and environmentScope (ciVariables[${first}] has it too)`,
            raw,
          ),
        ];
  },
};

/** An environment scope GitLab accepts. */
export const environmentScopeValid: ItemRule<CiVariableSettings> = {
  name: "variables.environmentScopeValid",
  paths: ["ciVariables[].environmentScope"],
  check: (v, i) => {
    const scope = validateEnvironmentScope(v.environmentScope);
    return scope === undefined ? [] : [`ciVariables[${i}].environmentScope: ${scope}`];
  },
};

/** A masked value GitLab can mask. The value is a secret: say why GitLab would refuse it, never what it is. */
export const maskable: ItemRule<CiVariableSettings> = {
  name: "variables.maskable",
  paths: ["ciVariables[].value"],
  check: (v, i, _all, _config, raw) => {
    const rawValue = raw.ciVariables?.[i]?.value;
    const unmaskable =
      v.masked && rawValue !== undefined ? validateMaskedValue(rawValue, v.raw) : undefined;
    return unmaskable === undefined
      ? []
      : [
          `ciVariables[${i}].value: expected a value GitLab can mask (${unmaskable}), got a secret value that cannot be masked`,
        ];
  },
};

const credentialRulesApply = (v: CiVariableSettings, environment: Environment) =>
  ENVIRONMENT_DEFAULTS[environment].rules.credentialsMaskedAndProtected && v.credential;

/** Where the environment requires it, credentials are masked ... */
export const credentialMasked: ItemRule<CiVariableSettings> = {
  name: "variables.credentialMasked",
  paths: ["ciVariables[].masked"],
  check: (v, i, _all, config, raw) =>
    credentialRulesApply(v, config.environment) && !v.masked
      ? [
          problem(
            ["ciVariables", i, "masked"],
            `expected true for a credential in ${config.environment}`,
            raw,
          ),
        ]
      : [],
};

/** ... and protected. */
export const credentialProtected: ItemRule<CiVariableSettings> = {
  name: "variables.credentialProtected",
  paths: ["ciVariables[].protected"],
  check: (v, i, _all, config, raw) =>
    credentialRulesApply(v, config.environment) && !v.protected
      ? [
          problem(
            ["ciVariables", i, "protected"],
            `expected true for a credential in ${config.environment}`,
            raw,
          ),
        ]
      : [],
};

/** Variables the platform publishes to app projects are not set by hand in the same place. */
export const notPublishedByPlatform: Rule = {
  name: "variables.notPublishedByPlatform",
  paths: ["ciVariables[].key"],
  check: (config, raw) => {
    const platformApp = config.apps.find(
      (a) => a.project.toLowerCase() === config.gitlab.projectPath.toLowerCase(),
    );
    if (!config.features.apps || !config.features.ciVariables || platformApp === undefined) {
      return [];
    }
    return config.ciVariables.flatMap((v, i) =>
      v.target === "project" &&
      PUBLISHED_KEYS.includes(v.key) &&
      v.environmentScope === config.gitlab.environmentScope
        ? [
            problem(
              ["ciVariables", i, "key"],
              `expected a key the platform does not publish to ${config.gitlab.projectPath} in scope "${v.environmentScope}" (app ${platformApp.name} lives there)`,
              raw,
            ),
          ]
        : [],
    );
  },
};

/** The rules of this area. */
export const variableRules: readonly RuleEntry[] = [
  eachItem("ciVariables", (config) => config.ciVariables, [
    uniqueKey,
    environmentScopeValid,
    maskable,
    credentialMasked,
    credentialProtected,
  ]),
  notPublishedByPlatform,
];
