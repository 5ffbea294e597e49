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

/** The rules of this area. */
export const agentRules: readonly Rule[] = [
  ciJobAccessAllowed,
  projectsUnderTopGroup,
  groupsUnderTopGroup,
  agentAppsUnderTopGroup,
];
