/**
 * Pure builders for the GitLab agent for Kubernetes: its `config.yaml` (`ci_access`), the
 * gitlab-agent chart's Helm values, and the least-privilege RBAC rules that replace the chart's
 * cluster-admin binding. No resources here: {@link GitLabAgent} registers them; tests call these
 * directly.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import { impersonatedAppUser } from "./identities";
import { PART_OF } from "./labels";
import { DNS_LABEL, GITLAB_PATH, QUANTITY } from "./formats";

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

/** CPU and memory requests and limits of the agentk container. */
export interface AgentResources {
  readonly cpuRequest: string;
  readonly cpuLimit: string;
  readonly memoryRequest: string;
  readonly memoryLimit: string;
}

/**
 * Default agentk resources: agentk is a small Go proxy (idle well under 64Mi). The chart derives
 * GOMAXPROCS and GOMEMLIMIT from the limits, so the limits also bound the Go runtime.
 */
export const DEFAULT_AGENT_RESOURCES: AgentResources = {
  cpuRequest: "50m",
  cpuLimit: "500m",
  memoryRequest: "128Mi",
  memoryLimit: "256Mi",
};

/** The agent chart and its repository. */
export const AGENT_CHART = "gitlab-agent";
export const AGENT_CHART_REPO = "https://charts.gitlab.io";

/**
 * The UID/GID agentk runs as. The agentk image is distroless `nonroot` (65532); setting it
 * explicitly lets `runAsNonRoot` be verified even for images whose user is not numeric.
 */
export const AGENTK_UID = 65532;

/**
 * `Extra` keys GitLab sets on `ci_job` identities ("Using GitLab CI/CD with a Kubernetes cluster",
 * https://docs.gitlab.com/user/clusters/agent/ci_cd_workflow/ — impersonate the CI/CD job). The
 * agent may impersonate exactly these `userextras`; a key GitLab adds later is refused (403) until
 * it is listed here.
 */
export const CI_JOB_EXTRA_KEYS = [
  "agent.gitlab.com/id",
  "agent.gitlab.com/config_project_id",
  "agent.gitlab.com/project_id",
  "agent.gitlab.com/ci_pipeline_id",
  "agent.gitlab.com/ci_job_id",
  "agent.gitlab.com/username",
  "agent.gitlab.com/environment_slug",
  "agent.gitlab.com/environment_tier",
] as const;

/** Name of the agent's Helm release, ServiceAccount, Role and RoleBinding. */
export function agentResourceName(agentName: string): string {
  return `gitlab-agent-${agentName}`;
}

/** Name of the Secret holding the agent token (key `token`, as the chart mounts it). */
export function agentTokenSecretName(agentName: string): string {
  return `gitlab-agent-${agentName}-token`;
}

/** Where GitLab reads the agent's configuration: `.gitlab/agents/<name>/config.yaml`. */
export function agentConfigPath(agentName: string): string {
  return `.gitlab/agents/${agentName}/config.yaml`;
}

/**
 * agentk's leader-election Lease: `agent-<agent id>-lock` in its own namespace (agentk's
 * `leaseLeaderElector`, cmd/agentk in gitlab-org/cluster-integration/gitlab-agent, 16.x-18.x).
 */
export function agentLeaseName(agentId: number | string): string {
  return `agent-${agentId}-lock`;
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

/** A `ci_access.projects[]` entry. */
export interface CiAccessProject {
  /** Full path of the project. */
  readonly id: string;
  /** Namespace of the kube context jobs get (a default, not a boundary: RBAC is). */
  readonly default_namespace?: string;
  readonly access_as: AccessAs;
}

/** A `ci_access.groups[]` entry. */
export interface CiAccessGroup {
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
 * The configuration project is listed explicitly in `impersonate` and `ci_job` modes because
 * GitLab otherwise authorizes it implicitly as the agent itself, which can impersonate; a project
 * entry takes precedence over the implicit one (GitLab's `CiAccess::Finder`: project, implicit,
 * then group authorizations, first wins per agent).
 */
export function agentConfig(input: AgentConfigInput): AgentConfigFile {
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
    });
  }
  const extra =
    input.accessAs === "agent" ? input.projects : [...input.projects, input.configProject];
  for (const project of extra) {
    if (!projects.has(project)) {
      projects.set(project, { id: project, access_as: other });
    }
  }
  const groups = [...new Set(input.groups)].map((id) => ({ id, access_as: other }));
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

/** The users the agent may impersonate: the app users in `impersonate` mode, else none. */
export function impersonatedUsers(
  agentName: string,
  accessAs: AgentAccessAs,
  apps: readonly AgentApp[],
): string[] {
  return accessAs === "impersonate" ? apps.map((a) => impersonatedAppUser(agentName, a.name)) : [];
}

/**
 * What agentk itself needs in its own namespace (agentk 16.x-18.x, cmd/agentk): leader election
 * with a client-go LeaseLock (get/create/update on its Lease, `agent-<id>-lock`), and events its
 * event recorder writes about that Lease (create, and patch for repeats). Its token is a mounted
 * file and its ServiceAccount token is projected by the chart, so no Secret access. Modules we do
 * not use (Flux integration, remote development, container scanning) find nothing and idle.
 */
export function agentRoleRules(
  leaseName: pulumi.Input<string>,
): k8s.types.input.rbac.v1.PolicyRule[] {
  return [
    // `create` cannot be restricted by name (the name is not known to RBAC before creation).
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    {
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      resourceNames: [leaseName],
      verbs: ["get", "update"],
    },
    { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  ];
}

/**
 * The cluster-wide impersonation rules (impersonation has no namespace, so this is the one
 * ClusterRole). Empty when nothing is to be impersonated: an empty `resourceNames` would mean
 * every name, so the caller must then create no ClusterRole at all.
 *
 * - `impersonate`: `users` restricted to exactly `users` (the app users).
 * - `ci_job`: GitLab impersonates `gitlab:ci_job:<job id>` in groups `gitlab:ci_job`,
 *   `gitlab:group:<id>`, `gitlab:project:<id>`, `gitlab:project_env:<id>:<slug>` and the
 *   `*_env_tier` groups, with the {@link CI_JOB_EXTRA_KEYS} extras. Job ids, group and project
 *   ids and environment slugs are not known here and RBAC has no name patterns, so `users` and
 *   `groups` cannot be restricted; the extras are restricted to GitLab's keys and no `uids` or
 *   `serviceaccounts` are allowed. Caveat: any group includes `system:masters`, so in this mode
 *   the agent's ServiceAccount is as powerful as cluster-admin; prefer `impersonate` where that
 *   matters (production).
 * - `agent`: none (jobs act as the ServiceAccount itself).
 */
export function impersonationRules(
  accessAs: AgentAccessAs,
  users: readonly string[],
): k8s.types.input.rbac.v1.PolicyRule[] {
  switch (accessAs) {
    case "impersonate":
      return users.length === 0
        ? []
        : [
            {
              apiGroups: [""],
              resources: ["users"],
              verbs: ["impersonate"],
              resourceNames: [...users],
            },
          ];
    case "ci_job":
      return [
        { apiGroups: [""], resources: ["users", "groups"], verbs: ["impersonate"] },
        {
          apiGroups: ["authentication.k8s.io"],
          resources: CI_JOB_EXTRA_KEYS.map((key) => `userextras/${key}`),
          verbs: ["impersonate"],
        },
      ];
    case "agent":
      return [];
  }
}

/** Pod annotations that roll the agent pods when the token is rotated. */
export const TOKEN_ID_ANNOTATION = `${PART_OF}/agent-token-id`;
export const ROTATION_ANNOTATION = `${PART_OF}/agent-token-rotation`;

/** What {@link agentHelmValues} needs. */
export interface AgentHelmValuesInput {
  readonly replicas: number;
  readonly kasAddress: string;
  /** The existing Secret with the token (key `token`). */
  readonly tokenSecretName: string;
  /** The ServiceAccount this program creates and binds. */
  readonly serviceAccountName: string;
  readonly resources: AgentResources;
  /** GitLab's id of the current token, as a string. */
  readonly tokenId: pulumi.Input<string>;
  readonly rotation: string;
  /** agentk image tag; the chart's appVersion when undefined. */
  readonly imageTag?: string | undefined;
}

/** Values of the gitlab-agent chart (names checked against chart 2.6.2's values.yaml). */
export type AgentHelmValues = {
  readonly image?: { readonly tag: string };
  readonly replicas: number;
  readonly rbac: { readonly create: boolean };
  readonly serviceAccount: { readonly create: boolean; readonly name: string };
  readonly config: {
    readonly kasAddress: string;
    readonly secretName: string;
    readonly operational_container_scanning: { readonly enabled: boolean };
  };
  readonly podAnnotations: Record<string, pulumi.Input<string>>;
  readonly podSecurityContext: k8s.types.input.core.v1.PodSecurityContext;
  readonly securityContext: k8s.types.input.core.v1.SecurityContext;
  readonly resources: k8s.types.input.core.v1.ResourceRequirements;
};

/**
 * The chart values. The token never appears here: `config.secretName` names the Secret the chart
 * mounts (`/etc/agentk/secrets/token`). `rbac.create: false` drops the chart's cluster-admin
 * ClusterRoleBinding; `serviceAccount.create: false` makes the pods use our ServiceAccount, which
 * our Role and ClusterRole bind. `config.operational_container_scanning.enabled: false` drops the
 * scanner's ServiceAccount and its ClusterRole (get/list on every Secret in the cluster), which we
 * do not use. With a Secret the chart cannot checksum the token, so the token id and the rotation
 * marker go into `podAnnotations` (merged with the chart's Prometheus annotations): a new token
 * rolls the pods.
 */
export function agentHelmValues(input: AgentHelmValuesInput): AgentHelmValues {
  return {
    ...(input.imageTag === undefined ? {} : { image: { tag: input.imageTag } }),
    replicas: input.replicas,
    rbac: { create: false },
    serviceAccount: { create: false, name: input.serviceAccountName },
    config: {
      kasAddress: input.kasAddress,
      secretName: input.tokenSecretName,
      operational_container_scanning: { enabled: false },
    },
    podAnnotations: {
      [TOKEN_ID_ANNOTATION]: input.tokenId,
      [ROTATION_ANNOTATION]: input.rotation,
    },
    // Pod Security "restricted"; agentk only reads mounted files, so the root filesystem can be
    // read-only (the chart's own securityContext example sets it).
    podSecurityContext: {
      runAsNonRoot: true,
      runAsUser: AGENTK_UID,
      runAsGroup: AGENTK_UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    },
    resources: {
      requests: { cpu: input.resources.cpuRequest, memory: input.resources.memoryRequest },
      limits: { cpu: input.resources.cpuLimit, memory: input.resources.memoryLimit },
    },
  };
}

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const IMAGE_TAG = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const KAS_SCHEMES = ["wss:", "ws:", "grpcs:", "grpc:"];
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
  readonly resources: AgentResources;
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
    SEMVER.test(a.chartVersion),
    "chartVersion",
    `expected a version such as 2.6.2, ${got(a.chartVersion)}`,
  );
  check(
    a.imageTag === undefined || IMAGE_TAG.test(a.imageTag),
    "imageTag",
    `expected an agentk image tag such as v18.6.0, ${got(a.imageTag)}`,
  );
  check(
    isKasAddress(a.kasAddress),
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

function isKasAddress(address: string): boolean {
  try {
    const url = new URL(address);
    return KAS_SCHEMES.includes(url.protocol) && url.hostname !== "";
  } catch {
    return false;
  }
}
