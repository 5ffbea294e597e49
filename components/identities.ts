/**
 * Names that several components must agree on: the Kubernetes identities the GitLab agent
 * impersonates and the agent context CI jobs select. One definition here, so the agent's
 * `config.yaml` and the RoleBindings in app namespaces can never drift apart.
 */

/** The kube context GitLab offers CI jobs for an agent: `<agent project path>:<agent name>`. */
export function agentKubeContext(agentProjectPath: string, agentName: string): string {
  return `${agentProjectPath}:${agentName}`;
}

/**
 * The user the agent impersonates for CI jobs of `app` when `access_as` is `impersonate`. Bound to
 * the app's deployer Role in the app's namespace only.
 */
export function impersonatedAppUser(agentName: string, app: string): string {
  return `gitlab-agent:${agentName}:app:${app}`;
}

/**
 * The group the agent puts every CI job in when `access_as` is `ci_job` (GitLab's documented
 * group for CI job identities). Every authorized project's jobs carry it: never bind it.
 */
export const CI_JOB_GROUP = "gitlab:ci_job";

/**
 * The group GitLab gives the CI jobs of one project when `access_as` is `ci_job`:
 * `gitlab:project:<numeric project id>` ("Impersonate the CI/CD job", GitLab's agent docs). Bound
 * to that project's app only, so another project's pipeline cannot deploy it.
 */
export function ciJobProjectGroup(projectId: number): string {
  if (!Number.isInteger(projectId) || projectId < 1) {
    throw new Error(`ciJobProjectGroup: expected a numeric project id, got ${projectId}`);
  }
  return `gitlab:project:${projectId}`;
}
