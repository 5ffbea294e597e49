import * as pulumi from "@pulumi/pulumi";
import type { ContainerResources } from "../components/container-resources";
import type { GitLabAgentArgs } from "../components/gitlab-agent";
import type { EnvironmentProtection } from "../components/gitlab-environments";
import type { EnvironmentTier } from "../components/gitlab";
import type { AdoptableKind } from "../components/gitlab/resource";
import type { ProtectedRefAccessLevel } from "../components/gitlab/protected-refs";
import type { FluxBootstrapArgs } from "../components/flux-bootstrap";
import type { AppAutoscaling, AppDeploymentArgs, AppIngress } from "../components/app-deployment";
import type { AppDeployMethod, AppEgress, AppNetwork } from "../components/app-namespace";
import type { CiVariableEntry } from "../components/ci-variables";
import type { GitLabRunnerArgs, RunnerCacheArgs } from "../components/gitlab-runner";
import type { NamespaceLimitRange, NamespaceQuota } from "../components/platform-namespace";
import type { RegistryAuthArgs } from "../components/registry-auth";
import type { RunnerToleration } from "../components/runner-values";

/**
 * The validated, defaulted configuration of one stack: what `index.ts` composes from. Produced only
 * by `parseEnvironmentConfig` (pure) and `loadEnvironmentConfig` (reads the stack's config); deeply
 * frozen. Credentials are secret `Output`s from here on.
 *
 * Where a setting is passed to a component as it is, its type is the component's argument type
 * (components never import `stacks/`; the dependency runs this way only), so the two cannot drift.
 */

export { AGENT_ACCESS_AS } from "../components/agent-config";
export { DEPLOY_METHODS } from "../components/app-namespace";
export { ENVIRONMENT_TIERS } from "../components/gitlab-environments";
export type { ContainerResources, RunnerToleration };

/** The environments a stack can be. Review stacks are short-lived, one per merge request. */
export const ENVIRONMENTS = ["dev", "staging", "production", "review"] as const;
/** One of {@link ENVIRONMENTS}. */
export type Environment = (typeof ENVIRONMENTS)[number];

/** How an app reaches the cluster: one of `DEPLOY_METHODS`. */
export type DeployMethod = AppDeployMethod;

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
  readonly adoptExisting: readonly AdoptableKind[];
}

/** The namespace for GitLab-managed cluster apps (runner, agent) and runner job pods. */
export interface NamespaceSettings {
  /** Namespace name. */
  readonly name: string;
  /** ResourceQuota hard limits. */
  readonly quota: NamespaceQuota;
  /** LimitRange defaults for containers that don't set their own. */
  readonly limitRange: NamespaceLimitRange;
  /** The runner job pods' NetworkPolicy: what they may not reach besides the metadata address. */
  readonly network: { readonly clusterCidrs: readonly string[] };
}

/**
 * Bounds of every app namespace: a deployer may change replicas and resources through its
 * Deployment, so one app's pipeline must not be able to exhaust the cluster.
 */
export interface AppNamespacesSettings {
  /** ResourceQuota of each app namespace (an app may override it: `apps[].quota`). */
  readonly quota: NamespaceQuota;
  /** LimitRange of each app namespace: defaults plus the largest container allowed. */
  readonly limitRange: Required<NamespaceLimitRange>;
  /** NetworkPolicies of each app namespace: default deny, DNS, ingress from these namespaces. */
  readonly network: Omit<AppNetwork, "egress">;
}

/**
 * GitLab Runner settings: the runner's arguments that come from config, every default applied,
 * plus the reason a privileged runner must give in some environments.
 */
export interface RunnerSettings extends Required<
  Omit<
    GitLabRunnerArgs,
    | "namespace"
    | "jobNamespace"
    | "jobNetwork"
    | "gitlabUrl"
    | "projectId"
    | "groupId"
    | "cache"
    | "chartRepository"
    | "image"
  >
> {
  /** The runner manager's image; the chart's own when undefined. */
  readonly image: string | undefined;
  /**
   * Namespace of the job pods when not the managed namespace: `runner.jobs.namespace`, else
   * `<namespace.name>-jobs` for a privileged runner; undefined: jobs run in the managed namespace.
   */
  readonly jobNamespace: string | undefined;
  readonly cache: RunnerCacheArgs | undefined;
  /** Where the chart comes from; the public repository when undefined. */
  readonly chartRepository: string | undefined;
  /** Why the runner is privileged (production requires it with `privileged: true`). */
  readonly privilegedReason: string | undefined;
  /** Why the job or helper image is not pinned by digest where the environment requires it. */
  readonly unpinnedImagesReason: string | undefined;
}

/** Registry pull-secret settings: the arguments of `RegistryAuth` that come from config. */
export interface RegistryAuthSettings extends Pick<RegistryAuthArgs, "lifetimeDays"> {
  readonly secretName: string;
  /**
   * Whose deploy token fills the pull secrets: `app`, one token per app project, present only in
   * that app's namespace (a compromised namespace pulls only its own app's images); `project` or
   * `group`, one token of the platform project or of the group copied into every namespace.
   */
  readonly scope: "app" | RegistryAuthArgs["scope"];
  /** Explicit expiry (`YYYY-MM-DD`); changing it rotates the token and every pull secret. */
  readonly expiresAt: string | undefined;
}

/** One CI/CD variable from config: the `CiVariables` entry, plus whether it is a credential. */
export interface CiVariableSettings extends Omit<CiVariableEntry, "value" | "description"> {
  /** Secret. */
  readonly value: pulumi.Output<string>;
  readonly description: string | undefined;
  /** Whether the value is a credential (production requires such variables masked and protected). */
  readonly credential: boolean;
}

/** GitLab agent for Kubernetes settings: the arguments of `GitLabAgent` that come from config. */
export interface AgentSettings extends Pick<
  GitLabAgentArgs,
  "name" | "chartVersion" | "accessAs" | "projects" | "groups" | "replicas" | "rotation"
> {
  /** Namespace of agentk, apart from the runner's: job pods must not reach the agent's identity. */
  readonly namespace: string;
  /** Where the gitlab-agent chart comes from; the public repository when undefined. */
  readonly chartRepository: string | undefined;
  /** agentk image tag, maybe with a digest; undefined: the KAS version of the instance (`GET /metadata`). */
  readonly imageTag: string | undefined;
  /** Why agentk is not pinned by digest yet, where the environment requires digests. */
  readonly unpinnedImageReason: string | undefined;
  /** KAS URL agentk connects to; undefined: the instance's `kas.externalUrl`. */
  readonly kasAddress: string | undefined;
  /** Only pipelines on protected branches and tags may use the agent (`protected_branches_only`). */
  readonly protectedBranchesOnly: boolean;
  /** Only jobs deploying to the stack's environment scope may use the agent (`environments`). */
  readonly restrictToEnvironment: boolean;
  /** Who must approve changes to `.gitlab/agents/` (the platform's `.gitlab/CODEOWNERS`); none: no file. */
  readonly codeOwners: readonly string[];
}

/** The GitLab environment each app project gets for this stack. */
export interface EnvironmentsSettings {
  /** Environment name in every app project (a concrete name, not a wildcard scope). */
  readonly name: string;
  readonly tier: EnvironmentTier;
  /** Protect the environment (GitLab Premium): only `deployAccessLevel` and above may deploy. */
  readonly protected: boolean;
  readonly deployAccessLevel: EnvironmentProtection["deployAccessLevel"];
  /** Approvals a deployment needs (0 to 5), when protected. */
  readonly requiredApprovals: number;
}

/** Flux settings: the arguments of `FluxBootstrap` that come from config. */
export type FluxSettings = Required<
  Pick<FluxBootstrapArgs, "chartVersion" | "namespace" | "interval" | "images">
> & {
  /** Where the flux2 chart comes from; the public repository when undefined. */
  readonly chartRepository: string | undefined;
  /** How Flux verifies each app's artifact; none when undefined. */
  readonly verify: FluxVerifySettings | undefined;
  /** Why a Flux image is not pinned by digest yet, where the environment requires digests. */
  readonly unpinnedImagesReason: string | undefined;
};

/** Cosign verification of Flux artifacts: keyless (an OIDC issuer) or a public key. */
export type FluxVerifySettings =
  | { readonly keyless: { readonly issuer: string }; readonly publicKey?: undefined }
  | { readonly keyless?: undefined; readonly publicKey: string }
  | { readonly keyless?: undefined; readonly publicKey?: undefined };

/** One application the platform deploys. */
export interface AppSettings extends Pick<
  AppDeploymentArgs,
  "image" | "port" | "replicas" | "resources" | "podDisruptionBudget"
> {
  /** A HorizontalPodAutoscaler between `replicas` and `maxReplicas`; none when undefined. */
  readonly autoscaling: AppAutoscaling | undefined;
  readonly name: string;
  readonly namespace: string;
  /** GitLab project path of the app's repository. */
  readonly project: string;
  readonly method: DeployMethod;
  readonly ingress: AppIngress | undefined;
  /** The ResourceQuota of the app's namespace (`appNamespaces.quota` unless the app overrides it). */
  readonly quota: NamespaceQuota;
  /** `direct` apps: rotation marker of the deployer token; a new value issues a new token. */
  readonly tokenRotation: string;
  /** What the app's pods may reach besides DNS (everything else is denied). */
  readonly egress: readonly AppEgress[];
  /** A tag promoted by its digest (`image.promote`), resolved at preview time. */
  readonly promote: string | undefined;
  /** More hosts Ingresses in its namespace may route besides `ingress.host` (`*.<domain>` too). */
  readonly allowedHosts: readonly string[];
  /** LoadBalancer, NodePort and `externalIPs` Services are allowed in its namespace. */
  readonly allowExternalServices: boolean;
}

/** Protection of branches, release tags and the container tags Flux follows. */
export interface ProtectionSettings {
  /** Whether this stack manages default-branch and release-tag protection (one stack should). */
  readonly manage: boolean;
  readonly defaultBranch: {
    readonly pushAccessLevel: ProtectedRefAccessLevel;
    readonly mergeAccessLevel: "developer" | "maintainer";
    readonly allowForcePush: boolean;
    readonly codeOwnerApprovalRequired: boolean;
    /** The token's user may push to the platform project's default branch (`allowed_to_push`). */
    readonly programPush: boolean;
  };
  readonly releaseTags: {
    readonly patterns: readonly string[];
    readonly createAccessLevel: ProtectedRefAccessLevel;
  };
  /** Protect the container tag `<environment>` in every flux app's project. */
  readonly environmentTags: boolean;
}

/** Registry credentials for resolving promoted tags. */
export interface PromotionSettings {
  readonly username: string;
  /** Secret. */
  readonly token: pulumi.Output<string>;
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
  readonly protection: ProtectionSettings;
  /** Registry credentials for `apps[].image.promote`; required when an app promotes. */
  readonly promotion: PromotionSettings | undefined;
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
  /** Default branch of every project the stack names (absent for an empty repository). */
  readonly defaultBranches: Readonly<Record<string, string>>;
  /** Numeric id of every group the stack names. */
  readonly groupIds: Readonly<Record<string, number>>;
  /** Whether CI/CD variables can be masked and hidden (GitLab 17.4+). */
  readonly hiddenVariables: boolean;
  /** The token's user, when `protection.defaultBranch.programPush` needs its id. */
  readonly tokenUser?: { readonly id: number; readonly username: string };
}

/** A stack's config completed with the instance's facts: what `index.ts` composes from. */
export interface PlatformConfig extends Omit<EnvironmentConfig, "agent"> {
  readonly agent: AgentSettings & { readonly kasAddress: string; readonly imageTag: string };
  readonly instance: InstanceSettings;
}
