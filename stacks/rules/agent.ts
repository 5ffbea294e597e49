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
            `expected "impersonate" or "agent" in ${config.environment} ("ci_job" needs the agent to impersonate any user and group)`,
            raw,
          ),
        ]
      : [],
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

/** `agent.projects` are under the agent project's top-level group. */
export const projectsUnderTopGroup: Rule = {
  name: "agent.projectsUnderTopGroup",
  paths: ["agent.projects[]"],
  check: (config) =>
    outsideHome(config, config.agent.projects).map(
      ([path, i]) =>
        `agent.projects[${i}]: expected a project under "${home(config)}" (the agent project's top-level group), got "${path}"`,
    ),
};

/** `agent.groups` are under the agent project's top-level group. */
export const groupsUnderTopGroup: Rule = {
  name: "agent.groupsUnderTopGroup",
  paths: ["agent.groups[]"],
  check: (config) =>
    outsideHome(config, config.agent.groups).map(
      ([path, i]) =>
        `agent.groups[${i}]: expected a group under "${home(config)}" (the agent project's top-level group), got "${path}"`,
    ),
};

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

/** The rules of this area. */
export const agentRules: readonly Rule[] = [
  ciJobAccessAllowed,
  projectsUnderTopGroup,
  groupsUnderTopGroup,
  agentAppsUnderTopGroup,
];
