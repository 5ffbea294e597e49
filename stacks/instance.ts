import {
  type InstanceFacts,
  type InstanceQuery,
  type Version,
  atLeast,
  parseVersion,
} from "../components/gitlab/instance";
import { CODE_OWNERS_PATH, EARLIER_CODE_OWNERS_PATHS } from "../components/agent-config";
import { agentkVersionTag } from "../components/formats";
import { ConfigError } from "./errors";
import { EnvironmentConfig, InstanceSettings, PlatformConfig } from "./model";

/**
 * The second half of a stack's configuration: what only the GitLab instance can tell (its
 * version, KAS address and version, the numeric ids of the projects and groups the stack names),
 * applied to the validated config. Pure: the facts are read by `components/gitlab/instance.ts`.
 */

/** GitLab versions that honour what the program writes, with the GitLab docs' version history. */
export const GITLAB_FEATURES = {
  /** `ci_access` `environments` (GitLab 15.7). */
  ciAccessEnvironments: [15, 7],
  /** `ci_access` `protected_branches_only`: GA in 17.10 (17.3-17.9 only behind an off-by-default flag). */
  protectedBranchesOnly: [17, 10],
  /** `masked_and_hidden` CI/CD variables (GitLab 17.4). */
  hiddenVariables: [17, 4],
  /** Protected container tag rules: list 18.7, create 18.8, update and delete 18.9. */
  containerTagRules: [18, 9],
} as const satisfies Record<string, readonly [number, number]>;

/** The projects and groups whose ids the stack needs, each with the key path that names it. */
export function instanceQuery(config: EnvironmentConfig): InstanceQuery {
  return {
    projects: [
      { path: config.gitlab.projectPath, at: "gitlab.projectPath" },
      ...(config.features.apps
        ? config.apps.map((a, i) => ({ path: a.project, at: `apps[${i}].project` }))
        : []),
    ],
    groups:
      config.gitlab.groupPath === undefined
        ? []
        : [{ path: config.gitlab.groupPath, at: "gitlab.groupPath" }],
    // The user the platform project's protected default branch lets push.
    ...(pushesAsProgram(config) ? { user: { at: "protection.defaultBranch.programPush" } } : {}),
    // A CODEOWNERS GitLab reads before the platform's would make it ignored.
    ...(commitsCodeOwners(config)
      ? {
          files: [
            {
              project: config.gitlab.projectPath,
              paths: [...EARLIER_CODE_OWNERS_PATHS],
              at: "agent.codeOwners",
            },
          ],
        }
      : {}),
  };
}

/** Whether this stack lets its own user push to the platform project's protected branch. */
function pushesAsProgram(config: EnvironmentConfig): boolean {
  return config.protection.manage && config.protection.defaultBranch.programPush;
}

/** Whether this stack commits the platform project's CODEOWNERS (see index.ts). */
function commitsCodeOwners(config: EnvironmentConfig): boolean {
  return config.protection.manage && config.agent.codeOwners.length > 0;
}

const supports = (v: Version, [major, minor]: readonly [number, number]) =>
  atLeast(v, major, minor);

/** `v18.6.1` for KAS `18.6.1`: agentk images are tagged with a `v`. */
export function agentkTagFor(kas: Version): string {
  return `v${kas.major}.${kas.minor}.${kas.patch}`;
}

/**
 * The stack's config completed with the instance's facts, or a {@link ConfigError} listing every
 * mismatch: a configured id that is not the path's, the agent with KAS disabled, an agentk tag
 * outside GitLab's supported window of the KAS version, protections the instance is too old to
 * honour.
 */
export function withInstance(config: EnvironmentConfig, facts: InstanceFacts): PlatformConfig {
  const problems: string[] = [];
  const url = facts.url;
  const version = parseVersion(facts.metadata.version) ?? { major: 0, minor: 0, patch: 0 };
  const ids = (paths: Readonly<Record<string, number>>, path: string | undefined) =>
    path === undefined ? undefined : paths[path];

  const projectId = ids(facts.projectIds, config.gitlab.projectPath);
  const groupId = ids(facts.groupIds, config.gitlab.groupPath);
  if (config.gitlab.projectId !== undefined && config.gitlab.projectId !== projectId) {
    problems.push(
      `gitlab.projectId: expected ${projectId} (the id of ${config.gitlab.projectPath} at ${url}), got ${config.gitlab.projectId}`,
    );
  }
  if (config.gitlab.groupId !== undefined && config.gitlab.groupId !== groupId) {
    problems.push(
      `gitlab.groupId: expected ${groupId} (the id of ${config.gitlab.groupPath} at ${url}), got ${config.gitlab.groupId}`,
    );
  }

  const kas = facts.metadata.kas;
  const kasVersion = parseVersion(kas.version);
  const kasAddress = config.agent.kasAddress ?? kas.externalUrl ?? "";
  const imageTag =
    config.agent.imageTag ?? (kasVersion === undefined ? "" : agentkTagFor(kasVersion));
  if (config.features.agent && !kas.enabled) {
    // One message: without KAS nothing else about the agent matters.
    problems.push(
      `features.agent: expected the GitLab agent server (KAS) enabled on ${url} for the agent ` +
        "(GET /metadata says kas.enabled: false); enable KAS on the instance, or set features.agent: false",
    );
  } else if (config.features.agent) {
    if (kasAddress === "") {
      problems.push(
        `agent.kasAddress: expected the KAS address: GitLab at ${url} does not report one ` +
          "(GET /metadata kas.externalUrl is null), got nothing",
      );
    }
    problems.push(...imageTagProblems(config.agent.imageTag, kas.version, kasVersion, url));
    problems.push(...ciAccessProblems(config, version, facts.metadata.version, url));
  }

  const [ctMajor, ctMinor] = GITLAB_FEATURES.containerTagRules;
  const fluxApps = config.features.flux && config.apps.some((a) => a.method === "flux");
  if (config.protection.environmentTags && fluxApps && !supports(version, [ctMajor, ctMinor])) {
    problems.push(
      `protection.environmentTags: expected GitLab ${ctMajor}.${ctMinor} or newer at ${url} for ` +
        `protected container tag rules, got GitLab ${facts.metadata.version}; without them any ` +
        `pipeline that can push to an app's registry could re-tag an artifact as ` +
        `"${config.environment}" (set protection.environmentTags: false to accept that)`,
    );
  }

  if (commitsCodeOwners(config)) {
    const project = config.gitlab.projectPath;
    for (const path of facts.existingFiles?.[project] ?? []) {
      problems.push(
        `agent.codeOwners: expected no ${path} in ${project} (GitLab reads the first of ` +
          `${[...EARLIER_CODE_OWNERS_PATHS, CODE_OWNERS_PATH].join(", ")}, so the platform's ` +
          `${CODE_OWNERS_PATH} would be ignored), got one on branch ` +
          `"${facts.defaultBranches[project] ?? ""}": move its rules into ${CODE_OWNERS_PATH} ` +
          `(add "codeOwners" to gitlab.adoptExisting to take that file over) and delete it`,
      );
    }
  }

  if (pushesAsProgram(config) && !facts.metadata.enterprise) {
    problems.push(
      `protection.defaultBranch.programPush: expected GitLab Premium (an EE instance) at ${url}, ` +
        `where a protected branch can let one user push, got GitLab ${facts.metadata.version} ` +
        `(CE keeps only role levels); set protection.defaultBranch.pushAccessLevel "maintainer" ` +
        "and programPush false",
    );
  }

  const instance: InstanceSettings = {
    url,
    version: facts.metadata.version,
    enterprise: facts.metadata.enterprise,
    kasVersion: kas.version ?? undefined,
    projectIds: facts.projectIds,
    defaultBranches: facts.defaultBranches,
    groupIds: facts.groupIds,
    hiddenVariables: supports(version, GITLAB_FEATURES.hiddenVariables),
    ...(facts.tokenUser === undefined ? {} : { tokenUser: facts.tokenUser }),
  };
  if (problems.length > 0) {
    throw new ConfigError(config.stack, problems);
  }
  return Object.freeze({
    ...config,
    gitlab: Object.freeze({ ...config.gitlab, projectId, groupId }),
    agent: Object.freeze({ ...config.agent, kasAddress, imageTag }),
    instance: Object.freeze(instance),
  });
}

function imageTagProblems(
  tag: string | undefined,
  kasText: string | null,
  kas: Version | undefined,
  url: string,
): string[] {
  if (tag === undefined) {
    return kas === undefined
      ? [
          `agent.imageTag: expected an agentk image tag: GitLab at ${url} does not report its ` +
            "KAS version (GET /metadata kas.version is null), got nothing",
        ]
      : [];
  }
  // The window is about the version: a digest after the tag pins the image, not the version.
  const agentk = parseVersion(agentkVersionTag(tag));
  if (kas === undefined || agentk === undefined) {
    return [];
  }
  const inWindow = agentk.major === kas.major && Math.abs(agentk.minor - kas.minor) <= 1;
  return inWindow
    ? []
    : [
        `agent.imageTag: expected an agentk version within one minor version of KAS ${kasText} ` +
          `at ${url} (GitLab supports agentk at KAS's minor version and one minor either side), ` +
          `got "${tag}"`,
      ];
}

function ciAccessProblems(
  config: EnvironmentConfig,
  version: Version,
  versionText: string,
  url: string,
): string[] {
  const problems: string[] = [];
  const [pbMajor, pbMinor] = GITLAB_FEATURES.protectedBranchesOnly;
  if (config.agent.protectedBranchesOnly && !supports(version, [pbMajor, pbMinor])) {
    problems.push(
      `agent.protectedBranchesOnly: expected GitLab ${pbMajor}.${pbMinor} or newer at ${url} to ` +
        `honour ci_access protected_branches_only (older versions ignore it, so any branch ` +
        `could deploy), got GitLab ${versionText}`,
    );
  }
  const [envMajor, envMinor] = GITLAB_FEATURES.ciAccessEnvironments;
  if (config.agent.restrictToEnvironment && !supports(version, [envMajor, envMinor])) {
    problems.push(
      `agent.restrictToEnvironment: expected GitLab ${envMajor}.${envMinor} or newer at ${url} to ` +
        `honour ci_access environments, got GitLab ${versionText}`,
    );
  }
  return problems;
}
