import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { chartSource, chartSourceProblem } from "./helm-source";
import {
  RUNNER_SETTINGS,
  RunnerType,
  UserRunner,
  UserRunnerSettings,
  validateRunnerTarget,
} from "./gitlab";
import { standardLabels } from "./labels";
import {
  CIDR,
  RunnerCacheSettings,
  RunnerJobNetwork,
  RunnerJobPolicy,
  RunnerResources,
  RunnerToleration,
  RUNNER_RBAC_RULES,
  imageAllowed,
  jobNetworkPolicySpec,
  managerImageValues,
  runnerChartValues,
  runnerConfigToml,
} from "./runner-values";

/** `app.kubernetes.io/component` of the runner's objects. */
const COMPONENT = "gitlab-runner";
/** The chart repository (`helm repo add gitlab https://charts.gitlab.io`). */
export const CHART_REPO = "https://charts.gitlab.io";
/** The chart's name in {@link CHART_REPO}. */
export const CHART = "gitlab-runner";
/**
 * Helm release name, fixed: the chart names its Deployment, Role and ServiceAccount after it, and
 * operators look for `gitlab-runner` in the managed namespace.
 */
export const RELEASE_NAME = "gitlab-runner";
/** Secret with the runner authentication token, fixed: the chart's `runners.secret` names it. */
export const TOKEN_SECRET_NAME = "gitlab-runner-token";
/** Secret with the S3 cache keys, fixed: the chart's `runners.cache.secretName` names it. */
export const CACHE_SECRET_NAME = "gitlab-runner-cache-s3";
/**
 * The manager's ServiceAccount when job pods run in their own namespace, made by this component
 * (not the chart's `gitlab-runner`, so switching to a jobs namespace does not fight Helm over it).
 */
export const MANAGER_SERVICE_ACCOUNT = "gitlab-runner-manager";
/** The Role (and RoleBinding) of the executor in a separate jobs namespace. */
export const JOBS_ROLE_NAME = "gitlab-runner-executor";
/** The job pods' NetworkPolicy. */
export const JOBS_NETWORK_POLICY_NAME = "gitlab-runner-jobs-egress";
/** Seconds Helm waits for the runner to become ready before rolling back. */
export const RELEASE_TIMEOUT_SECONDS = 600;

/** S3-compatible distributed cache for jobs. */
export interface RunnerCacheArgs extends RunnerCacheSettings {
  /** Access key id; secret. */
  readonly accessKey: pulumi.Output<string>;
  /** Secret access key; secret. */
  readonly secretKey: pulumi.Output<string>;
}

/** Arguments of {@link GitLabRunner}. Required unless a default is stated. */
export interface GitLabRunnerArgs {
  /** The managed namespace: the Helm release's (the manager's and its token's) namespace. */
  readonly namespace: pulumi.Input<string>;
  /**
   * Where job pods run, when not in `namespace` (which it must then differ from): privileged
   * jobs get a privileged namespace of their own, away from the manager and its token. The
   * executor's Role and RoleBinding are made there, for the manager's own ServiceAccount
   * ({@link MANAGER_SERVICE_ACCOUNT}). Default `namespace`.
   */
  readonly jobNamespace?: pulumi.Input<string>;
  /** GitLab base URL, e.g. `https://gitlab.example.com`. */
  readonly gitlabUrl: string;
  /** Who the runner serves: `project` (needs `projectId`), `group` (needs `groupId`) or `instance`. */
  readonly scope: "project" | "group" | "instance";
  /** Numeric id of the project; only with scope `project`. */
  readonly projectId?: pulumi.Input<number>;
  /** Numeric id of the group; only with scope `group`. */
  readonly groupId?: pulumi.Input<number>;
  /** Shown in GitLab's runner list. */
  readonly description: string;
  /** Job tags the runner picks up. */
  readonly tags: readonly string[];
  /** Whether it also runs untagged jobs. */
  readonly runUntagged: boolean;
  /** Whether a project runner is locked to its project (not sent for group and instance runners). */
  readonly locked: boolean;
  /** `ref_protected` runs only jobs of protected branches and tags. */
  readonly accessLevel: "not_protected" | "ref_protected";
  /** Job timeout cap in seconds (at least 600). */
  readonly maximumTimeout: number;
  /** Whether the runner stops taking jobs. */
  readonly paused: boolean;
  /** gitlab-runner chart version, pinned. */
  /**
   * Where the chart comes from: an https:// chart repository (a mirror), an oci:// registry path,
   * or a local chart directory. Default the chart's public repository.
   */
  readonly chartRepository?: string;
  readonly chartVersion: string;
  /** Jobs run at once. */
  readonly concurrent: number;
  /** Seconds between job requests to GitLab. */
  readonly checkInterval: number;
  /** Seconds the runner waits for a job pod to start. */
  readonly pollTimeout: number;
  /** Image of jobs that don't name one. */
  readonly jobImage: string;
  /**
   * The runner manager's image, `<repository>:<tag>[@sha256:<digest>]` (a mirror, or the
   * chart's own pinned by digest). Default the chart's own for its version, by tag.
   */
  readonly image?: string;
  /** Whether job containers run privileged (the namespace must then allow `privileged` pods). */
  readonly privileged: boolean;
  /** Requests and limits of the manager and of job containers. */
  readonly resources: RunnerResources;
  /** Node labels job pods must match. Default none. */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Taints job pods tolerate. Default none. */
  readonly tolerations?: readonly RunnerToleration[];
  /** S3 cache; none when omitted. */
  readonly cache?: RunnerCacheArgs;
  /**
   * Rotation marker. Changing it replaces the GitLab runner (new token: the new runner is created
   * before the old one is deleted), updates the token Secret and rolls the runner manager.
   */
  readonly rotation: string;
  /** Whether the manager serves Prometheus metrics. Default `false`. */
  readonly metrics?: boolean;
  /**
   * What job pods may run and hold: ServiceAccount token, allowed images, pull policies. Default
   * `DEFAULT_JOB_POLICY`: no token, any image, the cluster's pull policy.
   */
  readonly jobs?: RunnerJobPolicy;
  /**
   * A NetworkPolicy for job pods where they run: cluster DNS and the world outside the cluster
   * only (see `jobNetworkPolicySpec`). None when omitted.
   */
  readonly jobNetwork?: RunnerJobNetwork;
}

const RUNNER_TYPES: Readonly<Record<GitLabRunnerArgs["scope"], RunnerType>> = {
  project: "project_type",
  group: "group_type",
  instance: "instance_type",
};

/**
 * A GitLab Runner with the Kubernetes executor: the runner in GitLab (`POST /user/runners`), a
 * Secret with its authentication token, and the gitlab-runner Helm chart, which registers the
 * manager with that token and runs each CI job as a pod in the managed namespace.
 */
export class GitLabRunner extends pulumi.ComponentResource {
  /** GitLab's id of the runner. */
  public readonly runnerId: pulumi.Output<number>;
  /** Name of the Secret holding the runner token. */
  public readonly tokenSecretName: pulumi.Output<string>;
  /** Name of the Helm release. */
  public readonly releaseName: pulumi.Output<string>;
  /** The Helm release, for `dependsOn`. */
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: GitLabRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    // Fail before anything is registered.
    const problems = gitLabRunnerArgsProblems(args);
    if (problems.length > 0) {
      throw new Error(problems.map((p) => `GitLabRunner "${name}": ${p}`).join("\n"));
    }
    super("platform:ci:GitLabRunner", name, {}, opts);
    const labels = standardLabels(COMPONENT);
    const project = args.scope === "project";

    const runnerSettings = {
      description: args.description,
      tagLists: [...args.tags],
      untagged: args.runUntagged,
      // GitLab locks only project runners to their project.
      locked: project ? args.locked : undefined,
      accessLevel: args.accessLevel,
      maximumTimeout: args.maximumTimeout,
      paused: args.paused,
      maintenanceNote: maintenanceNote(name, args.rotation),
    };
    const runner = new UserRunner(
      `${name}-runner`,
      {
        runnerType: RUNNER_TYPES[args.scope],
        projectId: args.projectId,
        groupId: args.groupId,
        // Created with its settings, so it never runs a job unprotected or untagged by mistake;
        // later changes go to `settings` below.
        ...runnerSettings,
      },
      {
        parent: this,
        // A new marker means a new runner and token, created before the old runner is deleted so
        // jobs keep a runner during the switch. `replacementTrigger` does the replacing (the engine
        // honours it from Pulumi 3.208; index.ts requires that). `replaceOnChanges` could not: the
        // dynamic provider's diff names no changed keys, so the note (which shows the marker in
        // GitLab's runner list) would just be updated in place.
        replacementTrigger: args.rotation,
        // Settings change through `settings`: an update here would preview the token and id as
        // unknown, and so the token Secret as replaced and the release as changed.
        ignoreChanges: [...RUNNER_SETTINGS],
      },
    );
    const settings = new UserRunnerSettings(
      `${name}-settings`,
      { runnerId: runner.runnerId, ...runnerSettings },
      { parent: this },
    );

    const tokenSecret = new k8s.core.v1.Secret(
      `${name}-token`,
      {
        metadata: { name: TOKEN_SECRET_NAME, namespace: args.namespace, labels },
        type: "Opaque",
        stringData: {
          "runner-token": pulumi.secret(runner.token),
          // Registration tokens are deprecated; the chart still mounts the key.
          "runner-registration-token": "",
        },
      },
      { parent: this },
    );

    const cache = args.cache;
    const cacheSecret =
      cache === undefined
        ? undefined
        : new k8s.core.v1.Secret(
            `${name}-cache`,
            {
              metadata: { name: CACHE_SECRET_NAME, namespace: args.namespace, labels },
              type: "Opaque",
              stringData: {
                accesskey: pulumi.secret(cache.accessKey),
                secretkey: pulumi.secret(cache.secretKey),
              },
            },
            { parent: this },
          );

    // Job pods in their own namespace: the executor's Role there, bound to the manager's account.
    const jobNamespace = args.jobNamespace;
    const executorRbac: pulumi.Resource[] = [];
    if (jobNamespace !== undefined) {
      const account = new k8s.core.v1.ServiceAccount(
        `${name}-manager`,
        { metadata: { name: MANAGER_SERVICE_ACCOUNT, namespace: args.namespace, labels } },
        { parent: this },
      );
      const role = new k8s.rbac.v1.Role(
        `${name}-executor`,
        {
          metadata: { name: JOBS_ROLE_NAME, namespace: jobNamespace, labels },
          rules: RUNNER_RBAC_RULES.map((r) => ({
            apiGroups: [...r.apiGroups],
            resources: [...r.resources],
            verbs: [...r.verbs],
          })),
        },
        { parent: this },
      );
      const binding = new k8s.rbac.v1.RoleBinding(
        `${name}-executor`,
        {
          metadata: { name: JOBS_ROLE_NAME, namespace: jobNamespace, labels },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "Role",
            name: role.metadata.name,
          },
          subjects: [
            { kind: "ServiceAccount", name: account.metadata.name, namespace: args.namespace },
          ],
        },
        { parent: this },
      );
      executorRbac.push(account, role, binding);
    }

    if (args.jobNetwork !== undefined) {
      new k8s.networking.v1.NetworkPolicy(
        `${name}-jobs-egress`,
        {
          metadata: {
            name: JOBS_NETWORK_POLICY_NAME,
            namespace: jobNamespace ?? args.namespace,
            labels,
          },
          spec: jobNetworkPolicySpec(args.jobNetwork),
        },
        { parent: this },
      );
    }

    // config.toml must hold the namespace as a literal string.
    const config = pulumi
      .output(jobNamespace ?? args.namespace)
      .apply((namespace) => runnerConfigToml(tomlSettings(args, namespace)));

    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: RELEASE_NAME,
        ...chartSource(CHART, args.chartRepository ?? CHART_REPO),
        version: args.chartVersion,
        namespace: args.namespace,
        values: runnerChartValues({
          gitlabUrl: args.gitlabUrl,
          concurrent: args.concurrent,
          checkInterval: args.checkInterval,
          tokenSecretName: TOKEN_SECRET_NAME,
          config,
          cacheSecretName: cacheSecret === undefined ? undefined : CACHE_SECRET_NAME,
          manager: args.resources.manager,
          runnerId: runner.runnerId.apply(String),
          rotation: args.rotation,
          metrics: args.metrics ?? false,
          podLabels: labels,
          ...(jobNamespace === undefined ? {} : { serviceAccountName: MANAGER_SERVICE_ACCOUNT }),
          ...(args.image === undefined ? {} : { image: args.image }),
        }),
        // Wait for the manager to be ready (registered); roll back a release that never gets there.
        atomic: true,
        cleanupOnFail: true,
        timeout: RELEASE_TIMEOUT_SECONDS,
        maxHistory: 10,
      },
      {
        parent: this,
        // The pod mounts the Secrets by name only: Helm must not start it before they exist; nor
        // before its account may create job pods.
        dependsOn: [
          settings,
          tokenSecret,
          ...(cacheSecret === undefined ? [] : [cacheSecret]),
          ...executorRbac,
        ],
      },
    );

    this.runnerId = runner.runnerId;
    this.tokenSecretName = tokenSecret.metadata.name;
    this.releaseName = this.release.name;
    this.registerOutputs({
      runnerId: this.runnerId,
      tokenSecretName: this.tokenSecretName,
      releaseName: this.releaseName,
    });
  }
}

/** The runner's maintenance note; it carries the rotation marker. */
export function maintenanceNote(name: string, rotation: string): string {
  return (
    `Managed by Pulumi (${pulumi.getProject()}/${pulumi.getStack()}, GitLabRunner ${name}); ` +
    `token rotation ${rotation}`
  );
}

/** The `config.toml` settings of `args` for job pods in `namespace`. */
function tomlSettings(
  args: GitLabRunnerArgs,
  namespace: string,
): Parameters<typeof runnerConfigToml>[0] {
  const cache = args.cache;
  return {
    namespace,
    jobImage: args.jobImage,
    privileged: args.privileged,
    pollTimeout: args.pollTimeout,
    resources: args.resources,
    nodeSelector: args.nodeSelector ?? {},
    tolerations: args.tolerations ?? [],
    jobs: args.jobs,
    cache:
      cache === undefined
        ? undefined
        : {
            serverAddress: cache.serverAddress,
            bucketName: cache.bucketName,
            bucketLocation: cache.bucketLocation,
            insecure: cache.insecure,
          },
  };
}

const SCOPES: readonly string[] = Object.keys(RUNNER_TYPES);

/**
 * What is wrong with `args`, one `path: problem` line each. The runner's own settings (tags,
 * access level, timeout) are checked by {@link UserRunner}; this covers the scope, what the
 * chart and `config.toml` need, and the target ids (with UserRunner's rule, but before anything
 * is registered).
 */
export function gitLabRunnerArgsProblems(args: GitLabRunnerArgs): string[] {
  const problems: string[] = [];
  if (!SCOPES.includes(args.scope)) {
    problems.push(`scope: expected one of ${SCOPES.join(", ")}, got ${JSON.stringify(args.scope)}`);
  } else {
    const target = validateRunnerTarget(RUNNER_TYPES[args.scope], args.projectId, args.groupId);
    if (target !== undefined) {
      problems.push(`${target[0]}: ${target[1]} (scope ${JSON.stringify(args.scope)})`);
    }
  }
  if (!/^https?:\/\/[^/\s]+/.test(args.gitlabUrl)) {
    problems.push(`gitlabUrl: expected an http(s) URL, got ${JSON.stringify(args.gitlabUrl)}`);
  }
  const source =
    args.chartRepository === undefined ? undefined : chartSourceProblem(args.chartRepository);
  if (source !== undefined) {
    problems.push(`chartRepository: ${source}`);
  }
  if (args.image !== undefined && managerImageValues(args.image) === undefined) {
    problems.push(
      `image: expected <repository>:<tag> with an optional @sha256:<digest> (the chart joins repository and tag), got ${JSON.stringify(args.image)}`,
    );
  }
  if (args.chartVersion.trim() === "") {
    problems.push("chartVersion: expected a chart version, got nothing");
  }
  if (args.rotation.trim() === "") {
    problems.push("rotation: expected a rotation marker, got nothing");
  }
  for (const key of ["concurrent", "checkInterval", "pollTimeout"] as const) {
    if (!Number.isInteger(args[key]) || args[key] < 1) {
      problems.push(`${key}: expected a whole number of at least 1, got ${args[key]}`);
    }
  }
  if (args.cache !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(args.cache.serverAddress)) {
    // The runner wants host[:port]; `insecure` chooses HTTP or HTTPS.
    problems.push(
      `cache.serverAddress: expected host[:port] without a scheme, got ${JSON.stringify(args.cache.serverAddress)}`,
    );
  }
  const jobs = args.jobs;
  if (
    jobs !== undefined &&
    jobs.allowedImages.length > 0 &&
    !imageAllowed(args.jobImage, jobs.allowedImages)
  ) {
    // Jobs that name no image run the default one: the runner would refuse them all.
    problems.push(
      `jobImage: expected an image jobs.allowedImages allows (${jobs.allowedImages.join(", ")}), got ${JSON.stringify(args.jobImage)}`,
    );
  }
  if (jobs !== undefined && jobs.allowedPullPolicies.length > 0) {
    jobs.pullPolicy.forEach((policy, i) => {
      if (!jobs.allowedPullPolicies.includes(policy)) {
        problems.push(
          `jobs.pullPolicy[${i}]: expected one of jobs.allowedPullPolicies (${jobs.allowedPullPolicies.join(", ")}), got ${JSON.stringify(policy)}`,
        );
      }
    });
  }
  (args.jobNetwork?.clusterCidrs ?? []).forEach((cidr, i) => {
    if (!CIDR.test(cidr)) {
      problems.push(
        `jobNetwork.clusterCidrs[${i}]: expected a CIDR such as 10.96.0.0/12 or fd00::/8, got ${JSON.stringify(cidr)}`,
      );
    }
  });
  try {
    // Everything of config.toml but the namespace is known now: build it once to check.
    runnerConfigToml(tomlSettings(args, "namespace"));
  } catch (err) {
    problems.push(...(err as Error).message.split("\n"));
  }
  return problems;
}
