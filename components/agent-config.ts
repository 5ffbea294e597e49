/**
 * The GitLab agent's `config.yaml`: who may use the agent from CI (`ci_access`) and as which
 * identity. Pure: {@link GitLabAgent} commits the rendered file; tests call these directly. The
 * chart's values are in agent-values.ts, the RBAC that bounds these identities in agent-rbac.ts.
 */
import { stringify } from "yaml";
import { impersonatedAppUser } from "./identities";

/** The identity CI jobs of authorized projects use, as the agent's `access_as` calls them. */
export const AGENT_ACCESS_AS = ["impersonate", "ci_job", "agent"] as const;
/** One of {@link AGENT_ACCESS_AS}. */
export type AgentAccessAs = (typeof AGENT_ACCESS_AS)[number];

/** An application project the agent serves, and the namespace its CI jobs deploy to. */
export interface AgentApp {
  /** App name, a DNS label; names the impersonated user in `impersonate` mode. */
  readonly name: string;
  /** Full path of the app's GitLab project. */
  readonly project: string;
  /** Namespace the app deploys to; the project's `default_namespace` when unambiguous. */
  readonly namespace: string;
}

/** Where GitLab reads the agent's configuration: `.gitlab/agents/<name>/config.yaml`. */
export function agentConfigPath(agentName: string): string {
  return `.gitlab/agents/${agentName}/config.yaml`;
}

/**
 * Where the platform commits its CODEOWNERS: `.gitlab/CODEOWNERS`, beside the agents'
 * directories. GitLab reads the first of `CODEOWNERS`, `docs/CODEOWNERS` and `.gitlab/CODEOWNERS`
 * on the target branch (ee/lib/gitlab/code_owners.rb `FILE_PATHS`), so either of the other two
 * would make it ignored.
 */
export const CODE_OWNERS_PATH = ".gitlab/CODEOWNERS";

/** The CODEOWNERS locations GitLab reads before {@link CODE_OWNERS_PATH}, in its order. */
export const EARLIER_CODE_OWNERS_PATHS = ["CODEOWNERS", "docs/CODEOWNERS"] as const;

/** A code owner as CODEOWNERS names one: `@user`, `@group/subgroup`, `@@role`, or an email. */
export const CODE_OWNER =
  /^(@@?[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*|[^@\s]+@[^@\s]+\.[^@\s]+)$/;

/**
 * The platform's CODEOWNERS: one required section whose owners must approve merge requests that
 * change the agents' authorization files (`/.gitlab/agents/`), this file, or add a CODEOWNERS
 * that GitLab would read before it (which would silently replace these rules).
 */
export function codeOwnersFile(owners: readonly string[]): string {
  const who = owners.join(" ");
  return [
    "# Managed by Pulumi (gitlab-cd-platform, protection of the platform project). Changes to the",
    "# GitLab agents' authorization files, and to who owns them, need these owners' approval.",
    "[GitLab agents]",
    ...[
      "/.gitlab/agents/",
      `/${CODE_OWNERS_PATH}`,
      ...EARLIER_CODE_OWNERS_PATHS.map((p) => `/${p}`),
    ].map((path) => `${path} ${who}`),
    "",
  ].join("\n");
}

/**
 * The user that projects and groups other than app projects impersonate in `impersonate` mode.
 * The agent is deliberately NOT allowed to impersonate it, so their requests are refused (403):
 * authorizing them only shows the agent's context; to deploy, a project is made an app (its own
 * user, namespace and deployer Role). This also closes the configuration project's implicit
 * access, which would otherwise act as the agent's ServiceAccount.
 */
export function noAccessUser(agentName: string): string {
  return `gitlab-agent:${agentName}:no-access`;
}

/** One `access_as` of `ci_access` (exactly one key). */
export type AccessAs =
  | { readonly agent: Record<string, never> }
  | { readonly ci_job: Record<string, never> }
  | { readonly impersonate: { readonly username: string } };

/** Which pipelines of an authorized project or group may use the agent at all. */
export interface CiAccessRestrictions {
  /**
   * Only jobs of pipelines on protected branches and tags (GitLab 17.10+; earlier versions
   * ignore it). Without it any branch's job could select the context.
   */
  readonly protected_branches_only?: true;
  /**
   * Only jobs that declare one of these environments (names or wildcards such as `review/*`;
   * GitLab 15.7+). A job that declares none gets no access: it cannot skip a protected
   * environment's approvals by leaving `environment:` out.
   */
  readonly environments?: readonly string[];
}

/** A `ci_access.projects[]` entry. */
export interface CiAccessProject extends CiAccessRestrictions {
  /** Full path of the project. */
  readonly id: string;
  /** Namespace of the kube context jobs get (a default, not a boundary: RBAC is). */
  readonly default_namespace?: string;
  readonly access_as: AccessAs;
}

/** A `ci_access.groups[]` entry. */
export interface CiAccessGroup extends CiAccessRestrictions {
  /** Full path of the group; its subgroups and projects are authorized too. */
  readonly id: string;
  readonly access_as: AccessAs;
}

/** The agent's `config.yaml` as this program writes it. */
export interface AgentConfigFile {
  readonly ci_access: {
    readonly projects?: readonly CiAccessProject[];
    readonly groups?: readonly CiAccessGroup[];
  };
}

/** What {@link agentConfig} needs. */
export interface AgentConfigInput {
  readonly agentName: string;
  /** The agent's configuration project (holds `config.yaml`). */
  readonly configProject: string;
  readonly accessAs: AgentAccessAs;
  readonly apps: readonly AgentApp[];
  readonly projects: readonly string[];
  readonly groups: readonly string[];
  /** Write `protected_branches_only: true` into every entry. Default false. */
  readonly protectedBranchesOnly?: boolean;
  /** Write `environments: [...]` into every entry. Default none (any job, even without one). */
  readonly environments?: readonly string[];
}

const AGENT: AccessAs = { agent: {} };
const CI_JOB: AccessAs = { ci_job: {} };

/**
 * The `ci_access` of the agent's `config.yaml`: one entry per distinct project (app projects
 * first, then `projects`, then, outside `agent` mode, the configuration project), one per group.
 *
 * - `impersonate`: each app project impersonates {@link impersonatedAppUser} (bound to its app's
 *   deployer Role in its own namespace only); every other entry impersonates
 *   {@link noAccessUser}, which the agent may not impersonate.
 * - `ci_job`: every entry acts as the CI job (`gitlab:ci_job:<id>` in group `CI_JOB_GROUP` of
 *   identities.ts).
 * - `agent`: every entry acts as the agent's ServiceAccount.
 *
 * Every entry carries the same {@link CiAccessRestrictions}: who may use the agent is decided per
 * pipeline (protected ref, declared environment) before RBAC decides what it may do.
 *
 * The configuration project is listed explicitly in `impersonate` and `ci_job` modes because
 * GitLab otherwise authorizes it implicitly as the agent itself, which can impersonate; a project
 * entry takes precedence over the implicit one (GitLab's `CiAccess::Finder`: project, implicit,
 * then group authorizations, first wins per agent).
 */
export function agentConfig(input: AgentConfigInput): AgentConfigFile {
  const restrictions: CiAccessRestrictions = {
    ...(input.protectedBranchesOnly === true ? { protected_branches_only: true } : {}),
    ...(input.environments !== undefined && input.environments.length > 0
      ? { environments: [...input.environments] }
      : {}),
  };
  const other: AccessAs =
    input.accessAs === "impersonate"
      ? { impersonate: { username: noAccessUser(input.agentName) } }
      : input.accessAs === "ci_job"
        ? CI_JOB
        : AGENT;
  const projects = new Map<string, CiAccessProject>();
  for (const [project, apps] of appsByProject(input.apps)) {
    const namespaces = new Set(apps.map((a) => a.namespace));
    const [first] = apps;
    const accessAs: AccessAs =
      input.accessAs === "impersonate" && first !== undefined
        ? { impersonate: { username: impersonatedAppUser(input.agentName, first.name) } }
        : other;
    projects.set(project, {
      id: project,
      // Only when every app of the project deploys to the same namespace.
      ...(namespaces.size === 1 && first !== undefined
        ? { default_namespace: first.namespace }
        : {}),
      access_as: accessAs,
      ...restrictions,
    });
  }
  const extra =
    input.accessAs === "agent" ? input.projects : [...input.projects, input.configProject];
  for (const project of extra) {
    if (!projects.has(project)) {
      projects.set(project, { id: project, access_as: other, ...restrictions });
    }
  }
  const groups = [...new Set(input.groups)].map((id) => ({
    id,
    access_as: other,
    ...restrictions,
  }));
  return {
    ci_access: {
      ...(projects.size > 0 ? { projects: [...projects.values()] } : {}),
      ...(groups.length > 0 ? { groups } : {}),
    },
  };
}

/** `config` as YAML, with a header saying who owns the file. */
export function renderAgentConfig(config: AgentConfigFile): string {
  const header =
    "# Managed by Pulumi (gitlab-cd-platform): changes made here are overwritten.\n" +
    "# Access is bounded by Kubernetes RBAC, not by this file's default_namespace.\n";
  // No anchors and aliases for entries that share an `access_as`: plain YAML for every reader.
  return header + stringify(config, { aliasDuplicateObjects: false });
}

/** App projects in first-seen order, each with its apps. */
function appsByProject(apps: readonly AgentApp[]): Map<string, AgentApp[]> {
  const byProject = new Map<string, AgentApp[]>();
  for (const app of apps) {
    byProject.set(app.project, [...(byProject.get(app.project) ?? []), app]);
  }
  return byProject;
}
