import { pinnedByDigest } from "../../components/formats";
import { EnvironmentConfig } from "../model";
import { ENVIRONMENT_DEFAULTS } from "../defaults";
import { problem } from "../errors";
import { Rule } from "./rule";

/** Rules about `agent.*`: its access mode and whom GitLab lets it serve. */

/** `ci_job` needs the agent to impersonate any user and group; some environments refuse it. */
export const ciJobAccessAllowed: Rule = {
  name: "agent.ciJobAccessAllowed",
  paths: ["agent.accessAs"],
  check: (config, raw) =>
    config.features.agent &&
    config.agent.accessAs === "ci_job" &&
    !ENVIRONMENT_DEFAULTS[config.environment].rules.allowCiJobAccess
      ? [
          problem(
            ["agent", "accessAs"],
            `expected "impersonate"${ENVIRONMENT_DEFAULTS[config.environment].rules.allowAgentAccess ? ' or "agent"' : ""} in ${config.environment} ("ci_job" needs the agent to impersonate any user and group)`,
            raw,
          ),
        ]
      : [],
};

/**
 * `agent` mode binds every app namespace's deployer Role to the agent's one ServiceAccount, so
 * any agent app's pipeline could deploy every other: one agent app at most, and never where the
 * environment refuses it.
 */
export const agentAccessKeepsAppsApart: Rule = {
  name: "agent.agentAccessKeepsAppsApart",
  paths: ["agent.accessAs"],
  check: (config, raw) => {
    if (!config.features.agent || config.agent.accessAs !== "agent") {
      return [];
    }
    const env = config.environment;
    const agentApps = config.apps.flatMap((a, i) => (a.method === "agent" ? [i] : []));
    if (!ENVIRONMENT_DEFAULTS[env].rules.allowAgentAccess) {
      return [
        problem(
          ["agent", "accessAs"],
          `expected "impersonate"${ENVIRONMENT_DEFAULTS[env].rules.allowCiJobAccess ? ' or "ci_job"' : ""} in ${env} ("agent" gives every app's pipeline the agent's one identity)`,
          raw,
        ),
      ];
    }
    return agentApps.length > 1
      ? [
          problem(
            ["agent", "accessAs"],
            `expected "impersonate" or "ci_job" when more than one app deploys through the agent (with "agent" the pipelines of ${agentApps.map((i) => `apps[${i}]`).join(", ")} could each deploy the others)`,
            raw,
          ),
        ]
      : [];
  },
};

/** Staging and production: the agent only for protected refs and the stack's environment. */
export const refRulesEnforced: Rule = {
  name: "agent.refRulesEnforced",
  paths: ["agent.protectedBranchesOnly", "agent.restrictToEnvironment"],
  check: (config, raw) => {
    const env = config.environment;
    if (!config.features.agent || !ENVIRONMENT_DEFAULTS[env].rules.agentRefRulesEnforced) {
      return [];
    }
    return [
      ...(config.agent.protectedBranchesOnly
        ? []
        : [
            problem(
              ["agent", "protectedBranchesOnly"],
              `expected true in ${env} (otherwise a pipeline of any branch can deploy through the agent)`,
              raw,
            ),
          ]),
      ...(config.agent.restrictToEnvironment
        ? []
        : [
            problem(
              ["agent", "restrictToEnvironment"],
              `expected true in ${env} (otherwise a job that declares no environment skips its protection)`,
              raw,
            ),
          ]),
    ];
  },
};

/** The top-level group of a GitLab path, lowercased. */
const topGroup = (path: string) => path.split("/")[0]?.toLowerCase();

/**
 * GitLab authorizes only projects and groups under the agent project's top-level group: the
 * paths of `list` that are outside it, with their indexes.
 */
function outsideHome(config: EnvironmentConfig, list: readonly string[]): [string, number][] {
  const home = topGroup(config.gitlab.projectPath);
  return config.features.agent
    ? list.flatMap((path, i): [string, number][] => (topGroup(path) !== home ? [[path, i]] : []))
    : [];
}

const home = (config: EnvironmentConfig) => topGroup(config.gitlab.projectPath);

/** The entries of `agent.<list>` are under the agent project's top-level group. */
const underTopGroup = (list: "projects" | "groups", what: string): Rule => ({
  name: `agent.${list}UnderTopGroup`,
  paths: [`agent.${list}[]`],
  check: (config) =>
    outsideHome(config, config.agent[list]).map(
      ([path, i]) =>
        `agent.${list}[${i}]: expected a ${what} under "${home(config)}" (the agent project's top-level group), got "${path}"`,
    ),
});

export const projectsUnderTopGroup = underTopGroup("projects", "project");
export const groupsUnderTopGroup = underTopGroup("groups", "group");

/** Apps deployed through the agent are under the agent project's top-level group. */
export const agentAppsUnderTopGroup: Rule = {
  name: "agent.agentAppsUnderTopGroup",
  paths: ["apps[].project"],
  check: (config) =>
    outsideHome(
      config,
      config.apps.map((a) => a.project),
    )
      .filter(([, i]) => config.apps[i]?.method === "agent")
      .map(
        ([path, i]) =>
          `apps[${i}].project: expected a project under "${home(config)}" to deploy through the agent (the agent project's top-level group), got "${path}"`,
      ),
};

/** Whether agentk is pulled by digest: only a tag set with one (the default follows KAS by tag). */
const agentkPinned = (config: EnvironmentConfig) =>
  config.agent.imageTag !== undefined && pinnedByDigest(config.agent.imageTag);

/**
 * Where the environment requires it, agentk is pulled by digest: it holds the agent's token and
 * acts for every pipeline that deploys through it, so whoever could move its tag must not choose
 * what runs. Its default tag follows the instance's KAS version, so there is no default digest.
 */
export const imagePinned: Rule = {
  name: "agent.imagePinned",
  paths: ["agent.imageTag"],
  check: (config) =>
    config.features.agent &&
    ENVIRONMENT_DEFAULTS[config.environment].rules.imagesPinned &&
    config.agent.unpinnedImageReason === undefined &&
    !agentkPinned(config)
      ? [
          `agent.imageTag: expected a tag pinned by digest in ${config.environment} (v<version>@sha256:<64 hex>, agentk of a version within one minor of the instance's KAS; or say why not yet in agent.unpinnedImageReason), got ${config.agent.imageTag === undefined ? "nothing (agentk of the KAS version, by tag)" : JSON.stringify(config.agent.imageTag)}`,
        ]
      : [],
};

/** A reason for an unpinned agentk when it is pinned is a leftover. */
export const unpinnedReasonOnlyWhenUnpinned: Rule = {
  name: "agent.unpinnedReasonOnlyWhenUnpinned",
  paths: ["agent.unpinnedImageReason"],
  check: (config) =>
    config.agent.unpinnedImageReason !== undefined && agentkPinned(config)
      ? [
          `agent.unpinnedImageReason: expected only while agent.imageTag is not pinned by digest, got ${JSON.stringify(config.agent.unpinnedImageReason)}`,
        ]
      : [],
};

/** The rules of this area. */
export const agentRules: readonly Rule[] = [
  ciJobAccessAllowed,
  agentAccessKeepsAppsApart,
  refRulesEnforced,
  projectsUnderTopGroup,
  groupsUnderTopGroup,
  agentAppsUnderTopGroup,
  imagePinned,
  unpinnedReasonOnlyWhenUnpinned,
];
