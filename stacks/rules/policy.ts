import { policySettingsProblems } from "../../policy/levels";
import { Rule } from "./rule";

/** Rules about `policy.*`: the policy pack's levels for this stack (one definition, policy/levels.ts). */

/** Each policy named once, and production lowers no security policy. */
export const levels: Rule = {
  name: "policy.levels",
  paths: ["policy.advisory[]", "policy.mandatory[]"],
  check: (config, raw) => policySettingsProblems(config.environment, raw.policy),
};

/** The rules of this area. */
export const policyRules: readonly Rule[] = [levels];
