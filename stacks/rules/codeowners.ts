import { problem } from "../errors";
import { Rule } from "./rule";

/** Rules about `agent.codeOwners`: the platform project's `.gitlab/CODEOWNERS`. */

/**
 * The platform project has one CODEOWNERS, shared by every stack that commits an agent config
 * there: only the stack that manages the projects' protection commits it.
 */
export const needManagedProtection: Rule = {
  name: "codeOwners.needManagedProtection",
  paths: ["agent.codeOwners"],
  check: (config, raw) =>
    config.agent.codeOwners.length > 0 && !config.protection.manage
      ? [
          problem(
            ["agent", "codeOwners"],
            "expected only in the stack that manages protection (protection.manage: true): the platform project has one CODEOWNERS, which that stack commits",
            raw,
          ),
        ]
      : [],
};

/** Without code-owner approval on the default branch, GitLab shows the owners but merges without them. */
export const needApproval: Rule = {
  name: "codeOwners.needApproval",
  paths: ["protection.defaultBranch.codeOwnerApprovalRequired"],
  check: (config, raw) =>
    config.agent.codeOwners.length > 0 &&
    config.protection.manage &&
    !config.protection.defaultBranch.codeOwnerApprovalRequired
      ? [
          problem(
            ["protection", "defaultBranch", "codeOwnerApprovalRequired"],
            "expected true with agent.codeOwners (without it GitLab lists the owners but merges changes to .gitlab/agents/ without their approval)",
            raw,
          ),
        ]
      : [],
};

/** The rules of this area. */
export const codeOwnersRules: readonly Rule[] = [needManagedProtection, needApproval];
