import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { chartSource } from "./helm-source";
import {
  AgentAccessAs,
  AgentApp,
  agentConfig,
  agentConfigPath,
  renderAgentConfig,
} from "./agent-config";
import { validateAgentArgs } from "./agent-args";
import {
  agentLeaseName,
  agentRoleRules,
  impersonatedUsers,
  impersonationRules,
} from "./agent-rbac";
import {
  AGENT_CHART,
  AGENT_CHART_REPO,
  DEFAULT_AGENT_RESOURCES,
  agentHelmValues,
  agentResourceName,
  agentTokenSecretName,
} from "./agent-values";
import { ContainerResources } from "./container-resources";
import { ClusterAgent, ClusterAgentToken, RepositoryFile } from "./gitlab";
import { agentKubeContext } from "./identities";
import { standardLabels } from "./labels";

/** Arguments of {@link GitLabAgent}; structurally what the stack's agent and app settings hold. */
export interface GitLabAgentArgs {
  /** The managed namespace agentk runs in (with its token Secret, ServiceAccount and Role). */
  readonly namespace: pulumi.Input<string>;
  /** Full path of the project that holds the agent's configuration (`.gitlab/agents/<name>`). */
  readonly projectPath: string;
  /** Agent name, a DNS label of at most 40 characters (the Helm release is `gitlab-agent-<name>`). */
  readonly name: string;
  /** Pinned gitlab-agent chart version (https://charts.gitlab.io), e.g. `2.6.2`. */
  /**
   * Where the chart comes from: an https:// chart repository (a mirror), an oci:// registry path,
   * or a local chart directory. Default the chart's public repository.
   */
  readonly chartRepository?: string;
  readonly chartVersion: string;
  /** KAS URL agentk connects to, e.g. `wss://kas.gitlab.com`. */
  readonly kasAddress: string;
  /** agentk replicas (they elect a leader through a Lease). */
  readonly replicas: number;
  /**
   * Token rotation marker. Changing it replaces the agent token (the new one is created before
   * the old one is revoked), updates the token Secret in place and rolls the agent pods.
   */
  readonly rotation: string;
  /**
   * agentk image tag (e.g. `v18.6.0`), optionally pinned by digest (`v18.6.0@sha256:<64 hex>`).
   * Default: the chart's appVersion. GitLab supports agentk only within one minor version of its
   * KAS (the platform passes the instance's KAS version).
   */
  readonly imageTag?: string;
  /** Branch the configuration file is committed to; GitLab reads the default branch. Default `main`. */
  readonly branch?: string;
  /**
   * agentk container requests and limits. Default {@link DEFAULT_AGENT_RESOURCES}: requests
   * 50m CPU / 128Mi, limits 500m CPU / 256Mi.
   */
  readonly resources?: ContainerResources;
  /** The identity CI jobs act as in the cluster (see `agentConfig`). */
  readonly accessAs: AgentAccessAs;
  /** Application projects and the namespace each deploys to. */
  readonly apps: readonly AgentApp[];
  /** More project paths to authorize (see `agentConfig` for what they may do per mode). */
  readonly projects: readonly string[];
  /** Group paths to authorize (their subgroups and projects too). */
  readonly groups: readonly string[];
  /**
   * Only pipelines on protected branches and tags may use the agent (`protected_branches_only`
   * in every `ci_access` entry; GitLab 17.10+). Default `false`.
   */
  readonly protectedBranchesOnly?: boolean;
  /**
   * Only jobs that declare one of these environments may use the agent (`environments` in every
   * `ci_access` entry; GitLab 15.7+). Default none: any job of an authorized project.
   */
  readonly environments?: readonly string[];
}

/**
 * The GitLab agent for Kubernetes: the agent registered in GitLab with its `config.yaml`
 * committed, a token kept in a Secret, and agentk installed from the gitlab-agent chart with our
 * own least-privilege RBAC instead of the chart's cluster-admin binding.
 */
export class GitLabAgent extends pulumi.ComponentResource {
  /** GitLab's id of the agent (for `ProjectEnvironment.clusterAgentId`). */
  public readonly agentId: pulumi.Output<number>;
  /** The kube context CI jobs select: `<projectPath>:<name>`. */
  public readonly kubeContext: string;
  /** The Secret holding the agent token (a fixed name: `gitlab-agent-<name>-token`). */
  public readonly tokenSecretName: string;
  /**
   * agentk's ServiceAccount (a fixed name: `gitlab-agent-<name>`); app namespaces bind it in
   * `agent` mode. Plain, so bindings can be composed without waiting; RBAC does not require the
   * subject to exist first.
   */
  public readonly serviceAccountName: string;
  /** The ServiceAccount's namespace. */
  public readonly serviceAccountNamespace: pulumi.Output<string>;
  /** The configuration file's path in `projectPath`. */
  public readonly configPath: string;

  constructor(name: string, args: GitLabAgentArgs, opts?: pulumi.ComponentResourceOptions) {
    const agentName = args.name;
    const branch = args.branch ?? "main";
    const resources = args.resources ?? DEFAULT_AGENT_RESOURCES;
    const configInput = {
      agentName,
      configProject: args.projectPath,
      accessAs: args.accessAs,
      apps: args.apps,
      projects: args.projects,
      groups: args.groups,
      protectedBranchesOnly: args.protectedBranchesOnly ?? false,
      environments: args.environments ?? [],
    };
    const problems = validateAgentArgs({ ...args, ...configInput, branch, resources });
    if (problems.length > 0) {
      // Before anything is registered, the component included.
      throw new Error(problems.map((p) => `GitLabAgent "${name}": ${p}`).join("\n"));
    }
    super("platform:agent:GitLabAgent", name, {}, opts);
    const labels = standardLabels("gitlab-agent", agentName);
    const objectName = agentResourceName(agentName);
    this.configPath = agentConfigPath(agentName);
    this.kubeContext = agentKubeContext(args.projectPath, agentName);

    // GitLab side: the agent, its configuration and its token.
    const agent = new ClusterAgent(
      name,
      { project: args.projectPath, name: agentName },
      { parent: this },
    );
    new RepositoryFile(
      `${name}-config`,
      {
        project: args.projectPath,
        branch,
        filePath: this.configPath,
        content: renderAgentConfig(agentConfig(configInput)),
        encoding: "text",
        commitMessage: `GitLab agent ${agentName}: configuration managed by Pulumi`,
      },
      { parent: this },
    );
    // Tokens cannot be edited: ClusterAgentToken's provider replaces the token on any change, so
    // the rotation marker in the description rotates it (new token first, then the old revoked).
    const token = new ClusterAgentToken(
      `${name}-token`,
      {
        project: args.projectPath,
        agentId: agent.agentId,
        name: `${agentName}-pulumi`,
        description: `Managed by Pulumi; rotation ${args.rotation}`,
      },
      { parent: this },
    );

    // Cluster side: the token Secret, agentk's ServiceAccount and least-privilege RBAC.
    const secret = new k8s.core.v1.Secret(
      `${name}-token`,
      {
        metadata: { name: agentTokenSecretName(agentName), namespace: args.namespace, labels },
        type: "Opaque",
        // Key `token`: the chart mounts the Secret at /etc/agentk/secrets (--token-file=.../token).
        stringData: { token: pulumi.secret(token.token) },
      },
      { parent: this },
    );
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      name,
      {
        metadata: { name: objectName, namespace: args.namespace, labels },
        // The chart projects a short-lived token into the pod itself.
        automountServiceAccountToken: false,
      },
      { parent: this },
    );
    const subject: k8s.types.input.rbac.v1.Subject = {
      kind: "ServiceAccount",
      name: serviceAccount.metadata.name,
      namespace: serviceAccount.metadata.namespace,
    };
    const role = new k8s.rbac.v1.Role(
      name,
      {
        metadata: { name: objectName, namespace: args.namespace, labels },
        rules: agentRoleRules(agent.agentId.apply(agentLeaseName)),
      },
      { parent: this },
    );
    const bindings: pulumi.Resource[] = [
      new k8s.rbac.v1.RoleBinding(
        name,
        {
          metadata: { name: objectName, namespace: args.namespace, labels },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "Role",
            name: role.metadata.name,
          },
          subjects: [subject],
        },
        { parent: this },
      ),
    ];
    const rules = impersonationRules(
      args.accessAs,
      impersonatedUsers(agentName, args.accessAs, args.apps),
    );
    if (rules.length > 0) {
      // Cluster-scoped names: the namespace keeps two stacks' agents in one cluster apart.
      const clusterName = pulumi.interpolate`${args.namespace}:${objectName}:impersonate`;
      const clusterRole = new k8s.rbac.v1.ClusterRole(
        `${name}-impersonate`,
        { metadata: { name: clusterName, labels }, rules },
        { parent: this },
      );
      bindings.push(
        new k8s.rbac.v1.ClusterRoleBinding(
          `${name}-impersonate`,
          {
            metadata: { name: clusterName, labels },
            roleRef: {
              apiGroup: "rbac.authorization.k8s.io",
              kind: "ClusterRole",
              name: clusterRole.metadata.name,
            },
            subjects: [subject],
          },
          { parent: this },
        ),
      );
    }

    // agentk from the pinned chart; the token reaches it only through the Secret.
    new k8s.helm.v3.Release(
      name,
      {
        name: objectName,
        ...chartSource(AGENT_CHART, args.chartRepository ?? AGENT_CHART_REPO),
        version: args.chartVersion,
        namespace: args.namespace,
        values: agentHelmValues({
          replicas: args.replicas,
          kasAddress: args.kasAddress,
          tokenSecretName: agentTokenSecretName(agentName),
          serviceAccountName: objectName,
          resources,
          tokenId: token.tokenId.apply(String),
          rotation: args.rotation,
          imageTag: args.imageTag,
        }),
        // Wait until the agent pods are ready.
        skipAwait: false,
        timeout: 300,
      },
      { parent: this, dependsOn: [secret, serviceAccount, ...bindings] },
    );

    this.agentId = agent.agentId;
    this.tokenSecretName = agentTokenSecretName(agentName);
    this.serviceAccountName = objectName;
    this.serviceAccountNamespace = serviceAccount.metadata.namespace;
    this.registerOutputs({
      agentId: this.agentId,
      kubeContext: this.kubeContext,
      tokenSecretName: this.tokenSecretName,
      serviceAccountName: this.serviceAccountName,
      serviceAccountNamespace: this.serviceAccountNamespace,
      configPath: this.configPath,
    });
  }
}
