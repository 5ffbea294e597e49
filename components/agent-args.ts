/**
 * The checks {@link GitLabAgent} runs on its arguments before registering anything. Pure.
 */
import { AGENT_ACCESS_AS, AgentConfigInput, agentConfig } from "./agent-config";
import { ContainerResources } from "./container-resources";
import {
  AGENTK_IMAGE_TAG,
  CHART_VERSION,
  DNS_LABEL,
  GITLAB_PATH,
  KAS_SCHEMES,
  QUANTITY,
  isUrlWithScheme,
} from "./formats";

/** Helm release names are at most 53 characters; ours is `gitlab-agent-<name>`. */
const MAX_AGENT_NAME = 53 - "gitlab-agent-".length;
/** GitLab's limit per agent for `ci_access` projects and for groups. */
const MAX_AUTHORIZED = 500;

/** The arguments {@link validateAgentArgs} checks. */
export interface AgentArgsToValidate extends AgentConfigInput {
  readonly chartVersion: string;
  readonly kasAddress: string;
  readonly replicas: number;
  readonly rotation: string;
  readonly branch: string;
  readonly resources: ContainerResources;
  readonly imageTag?: string | undefined;
}

/** Every problem with the arguments, `path: reason` each; empty when valid. */
export function validateAgentArgs(a: AgentArgsToValidate): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, path: string, reason: string) => {
    if (!ok) {
      problems.push(`${path}: ${reason}`);
    }
  };
  const got = (v: unknown) => `got ${JSON.stringify(v)}`;
  check(
    DNS_LABEL.test(a.agentName) && a.agentName.length <= MAX_AGENT_NAME,
    "name",
    `expected a DNS label of at most ${MAX_AGENT_NAME} characters (the Helm release ` +
      `gitlab-agent-<name> must fit Helm's 53), ${got(a.agentName)}`,
  );
  check(
    isProjectPath(a.configProject),
    "projectPath",
    `expected a project path such as group/project, ${got(a.configProject)}`,
  );
  check(
    (AGENT_ACCESS_AS as readonly string[]).includes(a.accessAs),
    "accessAs",
    `expected "impersonate", "ci_job" or "agent", ${got(a.accessAs)}`,
  );
  check(
    CHART_VERSION.test(a.chartVersion),
    "chartVersion",
    `expected a version such as 2.6.2, ${got(a.chartVersion)}`,
  );
  check(
    a.imageTag === undefined || AGENTK_IMAGE_TAG.test(a.imageTag),
    "imageTag",
    `expected an agentk image tag such as v18.6.0 or v18.6.0@sha256:<64 hex>, ${got(a.imageTag)}`,
  );
  check(
    isUrlWithScheme(a.kasAddress, KAS_SCHEMES),
    "kasAddress",
    `expected a wss://, ws://, grpcs:// or grpc:// URL, ${got(a.kasAddress)}`,
  );
  check(
    Number.isInteger(a.replicas) && a.replicas >= 1,
    "replicas",
    `expected a positive integer, ${got(a.replicas)}`,
  );
  check(a.rotation.trim() !== "", "rotation", `expected a non-empty marker, ${got(a.rotation)}`);
  check(a.branch.trim() !== "", "branch", `expected a branch name, ${got(a.branch)}`);
  for (const key of ["cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit"] as const) {
    const value = a.resources[key];
    check(
      QUANTITY.test(value),
      `resources.${key}`,
      `expected a Kubernetes quantity, ${got(value)}`,
    );
  }
  const seen = new Map<string, number>();
  const projectOwner = new Map<string, number>();
  a.apps.forEach((app, i) => {
    check(
      DNS_LABEL.test(app.name),
      `apps[${i}].name`,
      `expected a DNS-1123 label, ${got(app.name)}`,
    );
    check(
      DNS_LABEL.test(app.namespace),
      `apps[${i}].namespace`,
      `expected a DNS-1123 label, ${got(app.namespace)}`,
    );
    check(
      isProjectPath(app.project),
      `apps[${i}].project`,
      `expected a project path such as group/project, ${got(app.project)}`,
    );
    const twin = seen.get(app.name);
    check(
      twin === undefined,
      `apps[${i}].name`,
      `${JSON.stringify(app.name)} is also apps[${twin}]`,
    );
    seen.set(app.name, seen.get(app.name) ?? i);
    const owner = projectOwner.get(app.project);
    // A project gets one ci_access entry, so it can impersonate only one app's user.
    check(
      a.accessAs !== "impersonate" || owner === undefined,
      `apps[${i}].project`,
      `${JSON.stringify(app.project)} is also the project of apps[${owner}]; with accessAs ` +
        `"impersonate" a project impersonates exactly one app's user`,
    );
    projectOwner.set(app.project, owner ?? i);
  });
  a.projects.forEach((p, i) =>
    check(
      isProjectPath(p),
      `projects[${i}]`,
      `expected a project path such as group/project, ${got(p)}`,
    ),
  );
  a.groups.forEach((g, i) =>
    check(
      GITLAB_PATH.test(g),
      `groups[${i}]`,
      `expected a group path such as group/subgroup, ${got(g)}`,
    ),
  );
  if (problems.length === 0) {
    const config = agentConfig(a).ci_access;
    const projects = config.projects?.length ?? 0;
    const groups = config.groups?.length ?? 0;
    check(
      projects <= MAX_AUTHORIZED,
      "projects",
      `GitLab authorizes at most 500 projects per agent, got ${projects}`,
    );
    check(
      groups <= MAX_AUTHORIZED,
      "groups",
      `GitLab authorizes at most 500 groups per agent, got ${groups}`,
    );
  }
  return problems;
}

function isProjectPath(path: string): boolean {
  return GITLAB_PATH.test(path) && path.includes("/");
}
