/**
 * The GitLab agent's least-privilege RBAC, replacing the chart's cluster-admin binding: what agentk
 * needs in its own namespace, and the cluster-wide impersonation each access mode needs. Pure:
 * {@link GitLabAgent} creates the Role and ClusterRole from these rules.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { AgentAccessAs, AgentApp } from "./agent-config";
import { impersonatedAppUser } from "./identities";

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

/**
 * agentk's leader-election Lease: `agent-<agent id>-lock` in its own namespace (agentk's
 * `leaseLeaderElector`, cmd/agentk in gitlab-org/cluster-integration/gitlab-agent, 16.x-18.x).
 */
export function agentLeaseName(agentId: number | string): string {
  return `agent-${agentId}-lock`;
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
