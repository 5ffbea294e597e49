import * as pulumi from "@pulumi/pulumi";

/**
 * The validated, defaulted configuration of one stack: what `index.ts` composes from. Produced only
 * by `parseEnvironmentConfig` (pure) and `loadEnvironmentConfig` (reads the stack's config); deeply
 * frozen. Credentials are secret `Output`s from here on.
 */

/** The environments a stack can be. Review stacks are short-lived, one per merge request. */
export const ENVIRONMENTS = ["dev", "staging", "production", "review"] as const;
/** One of {@link ENVIRONMENTS}. */
export type Environment = (typeof ENVIRONMENTS)[number];

/** How an app reaches the cluster. */
export const DEPLOY_METHODS = ["flux", "agent", "direct"] as const;
/** One of {@link DEPLOY_METHODS}: Flux pulls an OCI artifact, CI deploys through the GitLab agent, or CI deploys with a namespaced deployer ServiceAccount. */
export type DeployMethod = (typeof DEPLOY_METHODS)[number];

/** CPU and memory requests and limits for one container. */
export interface ContainerResources {
  /** CPU request, a Kubernetes quantity. */
  readonly cpuRequest: string;
  /** CPU limit, a Kubernetes quantity. */
  readonly cpuLimit: string;
  /** Memory request, a Kubernetes quantity. */
  readonly memoryRequest: string;
  /** Memory limit, a Kubernetes quantity. */
  readonly memoryLimit: string;
}

/** Which capabilities this stack deploys. */
export interface Features {
  /** GitLab Runner (Kubernetes executor) in the managed namespace. */
  readonly runner: boolean;
  /** Deploy token and `kubernetes.io/dockerconfigjson` pull secrets. */
  readonly registryAuth: boolean;
  /** Project/group CI/CD variables from config plus the per-environment ones the platform publishes. */
  readonly ciVariables: boolean;
  /** GitLab agent for Kubernetes. */
  readonly agent: boolean;
  /** Flux controllers and per-app OCIRepository + Kustomization. */
  readonly flux: boolean;
  /** App namespaces, ServiceAccounts and deploy RBAC for the apps in config. */
  readonly apps: boolean;
  /** GitLab environments (and, where configured, protected environments) in the app projects. */
  readonly environments: boolean;
}

/** The GitLab instance and the paths the platform serves. */
export interface GitLabSettings {
  /** GitLab base URL without `/api/v4`, e.g. `https://gitlab.com`. */
  readonly url: string;
  /** Host name of `url`. */
  readonly host: string;
  /** Full path of the platform project (holds the agent config, project runner and variables). */
  readonly projectPath: string;
  /** Numeric id of the platform project (the runner API needs ids, not paths). */
  readonly projectId: number | undefined;
  /** Full path of the group the platform serves, when group-scoped objects are used. */
  readonly groupPath: string | undefined;
  /** Numeric id of the group. */
  readonly groupId: number | undefined;
  /** Branch of the platform project the agent's config file is committed to. */
  readonly defaultBranch: string;
  /** GitLab environment scope of the variables the platform publishes to app projects. */
  readonly environmentScope: string;
  /** Whether the published deployer credentials (`KUBECONFIG`, `KUBE_TOKEN`) are protected. */
  readonly protectPublishedCredentials: boolean;
  /** Container registry host. */
  readonly registryHost: string;
  /**
   * Kinds of existing GitLab objects the stack takes over instead of failing on them (an app
   * pipeline's environment, a hand-made `KUBE_NAMESPACE`): their settings are overwritten and
   * destroy deletes them, as if the stack had created them.
   */
  readonly adoptExisting: readonly ("environments" | "variables")[];
}

/** The namespace for GitLab-managed cluster apps (runner, agent) and runner job pods. */
export interface NamespaceSettings {
  /** Namespace name. */
  readonly name: string;
  /** ResourceQuota hard limits. */
  readonly quota: {
    readonly requestsCpu: string;
    readonly requestsMemory: string;
    readonly limitsCpu: string;
    readonly limitsMemory: string;
    readonly pods: number;
  };
  /** LimitRange defaults for containers that don't set their own. */
  readonly limitRange: {
    readonly defaultRequestCpu: string;
    readonly defaultRequestMemory: string;
    readonly defaultLimitCpu: string;
    readonly defaultLimitMemory: string;
  };
}

/**
 * Bounds of every app namespace: a deployer may change replicas and resources through its
 * Deployment, so one app's pipeline must not be able to exhaust the cluster.
 */
export interface AppNamespacesSettings {
  /** ResourceQuota of each app namespace (an app may override it: `apps[].quota`). */
  readonly quota: NamespaceSettings["quota"];
  /** LimitRange of each app namespace: defaults plus the largest container allowed. */
  readonly limitRange: NamespaceSettings["limitRange"] & {
    readonly maxCpu: string;
    readonly maxMemory: string;
  };
}

/** A node taint the runner's job pods tolerate. */
export interface Toleration {
  readonly key: string | undefined;
  readonly operator: "Equal" | "Exists";
  readonly value: string | undefined;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" | undefined;
}

/** S3-compatible distributed cache for runner jobs. */
export interface RunnerS3Cache {
  readonly serverAddress: string;
  readonly bucketName: string;
  readonly bucketLocation: string | undefined;
  readonly insecure: boolean;
  /** Secret. */
  readonly accessKey: pulumi.Output<string>;
  /** Secret. */
  readonly secretKey: pulumi.Output<string>;
}

/** GitLab Runner settings. */
export interface RunnerSettings {
  readonly scope: "project" | "group" | "instance";
  readonly description: string;
  readonly tags: readonly string[];
  readonly runUntagged: boolean;
  readonly locked: boolean;
  readonly accessLevel: "not_protected" | "ref_protected";
  readonly maximumTimeout: number;
  readonly paused: boolean;
  readonly chartVersion: string;
  readonly concurrent: number;
  readonly checkInterval: number;
  readonly pollTimeout: number;
  readonly jobImage: string;
  readonly privileged: boolean;
  readonly privilegedReason: string | undefined;
  readonly resources: {
    readonly manager: ContainerResources;
    readonly build: ContainerResources;
    readonly helper: ContainerResources;
    readonly service: ContainerResources;
  };
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly Toleration[];
  readonly cache: RunnerS3Cache | undefined;
  readonly rotation: string;
  readonly metrics: boolean;
}

/** Registry pull-secret settings. */
export interface RegistryAuthSettings {
  readonly secretName: string;
  /**
   * Whose deploy token fills the pull secrets: `app`, one token per app project, present only in
   * that app's namespace (a compromised namespace pulls only its own app's images); `project` or
   * `group`, one token of the platform project or of the group copied into every namespace.
   */
  readonly scope: "app" | "project" | "group";
  /** Explicit expiry (`YYYY-MM-DD`); changing it rotates the token and every pull secret. */
  readonly expiresAt: string | undefined;
  /** When `expiresAt` is unset: days from the token's creation until it expires. */
  readonly lifetimeDays: number;
}

/** One CI/CD variable from config. */
export interface CiVariableSettings {
  readonly key: string;
  /** Secret. */
  readonly value: pulumi.Output<string>;
  readonly target: "project" | "group";
  readonly variableType: "env_var" | "file";
  readonly protected: boolean;
  readonly masked: boolean;
  readonly raw: boolean;
  readonly environmentScope: string;
  readonly description: string | undefined;
  /** Whether the value is a credential (production requires such variables masked and protected). */
  readonly credential: boolean;
}

/** The identity the GitLab agent uses for CI jobs. */
export const AGENT_ACCESS_AS = ["impersonate", "ci_job", "agent"] as const;

/** GitLab agent for Kubernetes settings. */
export interface AgentSettings {
  readonly name: string;
  /** Namespace of agentk, apart from the runner's: job pods must not reach the agent's identity. */
  readonly namespace: string;
  readonly chartVersion: string;
  /** agentk image tag; undefined: the KAS version of the instance (`GET /metadata`). */
  readonly imageTag: string | undefined;
  /** KAS URL agentk connects to; undefined: the instance's `kas.externalUrl`. */
  readonly kasAddress: string | undefined;
  readonly accessAs: (typeof AGENT_ACCESS_AS)[number];
  /** Only pipelines on protected branches and tags may use the agent (`protected_branches_only`). */
  readonly protectedBranchesOnly: boolean;
  /** Only jobs deploying to the stack's environment scope may use the agent (`environments`). */
  readonly restrictToEnvironment: boolean;
  readonly projects: readonly string[];
  readonly groups: readonly string[];
  readonly replicas: number;
  readonly rotation: string;
}

/** GitLab environment tiers. */
export const ENVIRONMENT_TIERS = [
  "production",
  "staging",
  "testing",
  "development",
  "other",
] as const;

/** The GitLab environment each app project gets for this stack. */
export interface EnvironmentsSettings {
  /** Environment name in every app project (a concrete name, not a wildcard scope). */
  readonly name: string;
  readonly tier: (typeof ENVIRONMENT_TIERS)[number];
  /** Protect the environment (GitLab Premium): only `deployAccessLevel` and above may deploy. */
  readonly protected: boolean;
  readonly deployAccessLevel: "maintainer" | "developer";
  /** Approvals a deployment needs (0 to 5), when protected. */
  readonly requiredApprovals: number;
}

/** Flux settings. */
export interface FluxSettings {
  readonly chartVersion: string;
  readonly namespace: string;
  readonly interval: string;
}

/** One application the platform deploys. */
export interface AppSettings {
  readonly name: string;
  readonly namespace: string;
  /** GitLab project path of the app's repository. */
  readonly project: string;
  readonly image: {
    readonly repository: string;
    readonly tag: string | undefined;
    readonly digest: string | undefined;
  };
  readonly port: number;
  readonly replicas: number;
  readonly resources: ContainerResources;
  readonly method: DeployMethod;
  readonly ingress:
    | {
        readonly host: string;
        readonly className: string | undefined;
        /** TLS: the certificate's Secret, and the cert-manager ClusterIssuer that fills it. */
        readonly tls:
          { readonly secretName: string; readonly clusterIssuer: string | undefined } | undefined;
      }
    | undefined;
  readonly podDisruptionBudget: boolean;
  /** The ResourceQuota of the app's namespace (`appNamespaces.quota` unless the app overrides it). */
  readonly quota: NamespaceSettings["quota"];
  /** `direct` apps: rotation marker of the deployer token; a new value issues a new token. */
  readonly tokenRotation: string;
}

/** The whole validated configuration of one stack. */
export interface EnvironmentConfig {
  readonly project: string;
  readonly stack: string;
  readonly environment: Environment;
  readonly kubeContext: string;
  /** API server URL written into the KUBECONFIG of `direct` apps; required when an app uses `direct`. */
  readonly kubeApiServer: string | undefined;
  readonly gitlab: GitLabSettings;
  readonly features: Features;
  readonly namespace: NamespaceSettings;
  readonly appNamespaces: AppNamespacesSettings;
  readonly runner: RunnerSettings;
  readonly registryAuth: RegistryAuthSettings;
  readonly ciVariables: readonly CiVariableSettings[];
  readonly agent: AgentSettings;
  readonly flux: FluxSettings;
  readonly environments: EnvironmentsSettings;
  readonly apps: readonly AppSettings[];
}

/** What the GitLab instance told the stack before anything was registered (`GET /metadata`, ids). */
export interface InstanceSettings {
  /** The instance URL. */
  readonly url: string;
  /** GitLab's version, e.g. `18.6.1-ee`. */
  readonly version: string;
  readonly enterprise: boolean;
  /** KAS's version (`18.6.1`), when KAS is enabled and GitLab knows it. */
  readonly kasVersion: string | undefined;
  /** Numeric id of every project the stack names, by full path as written. */
  readonly projectIds: Readonly<Record<string, number>>;
  /** Numeric id of every group the stack names. */
  readonly groupIds: Readonly<Record<string, number>>;
  /** Whether CI/CD variables can be masked and hidden (GitLab 17.4+). */
  readonly hiddenVariables: boolean;
}

/** A stack's config completed with the instance's facts: what `index.ts` composes from. */
export interface PlatformConfig extends Omit<EnvironmentConfig, "agent"> {
  readonly agent: AgentSettings & { readonly kasAddress: string; readonly imageTag: string };
  readonly instance: InstanceSettings;
}
