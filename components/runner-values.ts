import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { stringify } from "smol-toml";
import { ContainerResources, resourceRequirements } from "./container-resources";
import { parseImageReference } from "./formats";
import { PART_OF } from "./labels";

/**
 * Pure builders for the GitLab Runner: the `config.toml` template the chart registers the runner
 * with, the gitlab-runner chart values, and the executor's RBAC rules. No resources, no I/O: the
 * component calls them and tests call them directly.
 */

/** Requests and limits of the runner manager and of the containers of every job pod. */
export interface RunnerResources {
  /** The runner manager (the chart's Deployment). */
  readonly manager: ContainerResources;
  /** The job's `build` container. */
  readonly build: ContainerResources;
  /** The job pod's `helper` container (clone, cache, artifacts). */
  readonly helper: ContainerResources;
  /** Each CI `services:` container of a job. */
  readonly service: ContainerResources;
}

/** A node taint job pods tolerate, with the fields of a Kubernetes toleration. */
export interface RunnerToleration {
  /** Taint key; with `Exists` and no key, every taint is tolerated. */
  readonly key?: string;
  /** `Equal` (key and value must match) or `Exists` (any value). */
  readonly operator: "Equal" | "Exists";
  /** Taint value; only with `Equal` (empty when omitted). */
  readonly value?: string;
  /** Taint effect; every effect when omitted. */
  readonly effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** The S3 cache settings that go into `config.toml` (credentials never do). */
export interface RunnerCacheSettings {
  /** S3 endpoint host (and port), without scheme: `s3.amazonaws.com`, `minio.example.com:9000`. */
  readonly serverAddress: string;
  /** Bucket name. */
  readonly bucketName: string;
  /** Bucket region; none when omitted. */
  readonly bucketLocation?: string;
  /** Plain HTTP to the endpoint. */
  readonly insecure: boolean;
}

/** How the runner pulls an image: `pull_policy` and `allowed_pull_policies` values. */
export const PULL_POLICIES = ["always", "if-not-present", "never"] as const;
/** One of {@link PULL_POLICIES}. */
export type PullPolicy = (typeof PULL_POLICIES)[number];

/** What job pods may run and hold. */
export interface RunnerJobPolicy {
  /**
   * Mount the job pod's ServiceAccount token (`automount_service_account_token`). Off unless a
   * job really talks to the Kubernetes API: the token is an identity in the job namespace.
   */
  readonly automountServiceAccountToken: boolean;
  /**
   * Images jobs may name (`allowed_images`): GitLab Runner's doublestar globs over the image as
   * the job writes it (`*` stays within one `/` segment, `**` spans segments). Any image when empty.
   */
  readonly allowedImages: readonly string[];
  /** Pull policies the runner uses when a job names none (`pull_policy`); the cluster's when empty. */
  readonly pullPolicy: readonly PullPolicy[];
  /** Pull policies jobs and `pullPolicy` may use (`allowed_pull_policies`); `pullPolicy` when empty. */
  readonly allowedPullPolicies: readonly PullPolicy[];
  /** The helper image of job pods (`helper_image`); the runner's own for its version when omitted. */
  readonly helperImage?: string;
}

/** Whether an image names a digest; one definition for every image the platform runs. */
export { pinnedByDigest } from "./formats";

/** Job pods' defaults where the caller gives none: no token, any image, the cluster's pulls. */
export const DEFAULT_JOB_POLICY: RunnerJobPolicy = {
  automountServiceAccountToken: false,
  allowedImages: [],
  pullPolicy: [],
  allowedPullPolicies: [],
};

/**
 * Whether `image` matches one of `patterns` the way GitLab Runner's `allowed_images` does
 * (doublestar `Match`, `/` the separator): `**` as a whole segment matches any number of
 * segments, `*` any characters but `/`, `?` one character but `/`. Patterns use no `[...]` or
 * `{a,b}` (the config schema refuses them).
 */
export function imageAllowed(image: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => segmentsMatch(pattern.split("/"), image.split("/")));
}

function segmentsMatch(pattern: readonly string[], name: readonly string[]): boolean {
  const [head, ...rest] = pattern;
  if (head === undefined) {
    return name.length === 0;
  }
  if (head === "**") {
    // Zero or more whole segments.
    return name.some((_, i) => segmentsMatch(rest, name.slice(i))) || segmentsMatch(rest, []);
  }
  const [first, ...others] = name;
  if (first === undefined) {
    return false;
  }
  const re = new RegExp(
    `^${head
      .split("")
      .map((c) =>
        c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
      )
      .join("")}$`,
  );
  return re.test(first) && segmentsMatch(rest, others);
}

/**
 * Labels every job pod carries (`pod_labels`; jobs cannot change them without
 * `pod_labels_overwrite_allowed`, which this platform never sets): the job pods' NetworkPolicy
 * selects them.
 */
export const JOB_POD_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/part-of": PART_OF,
  "app.kubernetes.io/component": "ci-job",
};

/** The cloud metadata addresses (AWS, GCP, Azure, OpenStack…; AWS's IPv6 one), never for jobs. */
export const METADATA_CIDRS = { ipv4: "169.254.169.254/32", ipv6: "fd00:ec2::254/128" } as const;

/** An IPv4 or IPv6 CIDR, e.g. `10.96.0.0/12`, `fd00::/8`. */
export const CIDR =
  /^((\d{1,3}\.){3}\d{1,3}\/(3[0-2]|[12]?\d)|[0-9a-f:]*:[0-9a-f:]*\/(12[0-8]|1[01]\d|[1-9]?\d))$/;

/** Where job pods may not connect, and where cluster DNS runs. */
export interface RunnerJobNetwork {
  /**
   * The cluster's pod and Service CIDRs (and anything else jobs must not reach), IPv4 and IPv6:
   * excepted from the outside world job pods may reach.
   */
  readonly clusterCidrs: readonly string[];
  /** Where cluster DNS runs: its namespace and its pods' labels (`k8s-app: kube-dns`). */
  readonly dns: {
    readonly namespace: string;
    readonly podLabels: Readonly<Record<string, string>>;
  };
}

/**
 * The NetworkPolicy of job pods (selected by {@link JOB_POD_LABELS}): egress only to cluster DNS
 * and to addresses outside the cluster (GitLab, the registry, package mirrors): `0.0.0.0/0` and
 * `::/0` except `clusterCidrs` and the cloud metadata address. Pods and Services of the cluster,
 * the runner manager's metrics port among them, are therefore out of reach (Services are
 * matched after their address is translated to a pod's, which the pod CIDR excepts; CNIs such as
 * Cilium never match cluster pods by ipBlock at all). Ingress is left alone: job pods serve
 * nothing, and the executor reaches them through the API server (exec, attach), not the pod
 * network.
 */
export function jobNetworkPolicySpec(
  network: RunnerJobNetwork,
): k8s.types.input.networking.v1.NetworkPolicySpec {
  const ipv6 = (cidr: string) => cidr.includes(":");
  const v4 = network.clusterCidrs.filter((c) => !ipv6(c));
  const v6 = network.clusterCidrs.filter(ipv6);
  return {
    podSelector: { matchLabels: { ...JOB_POD_LABELS } },
    policyTypes: ["Egress"],
    egress: [
      {
        to: [
          {
            namespaceSelector: {
              matchLabels: { "kubernetes.io/metadata.name": network.dns.namespace },
            },
            podSelector: { matchLabels: { ...network.dns.podLabels } },
          },
        ],
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
      {
        to: [
          { ipBlock: { cidr: "0.0.0.0/0", except: [...v4, METADATA_CIDRS.ipv4] } },
          { ipBlock: { cidr: "::/0", except: [...v6, METADATA_CIDRS.ipv6] } },
        ],
      },
    ],
  };
}

/** What the runner's `config.toml` template is built from. */
export interface RunnerTomlSettings {
  /** Namespace the Kubernetes executor creates job pods in. */
  readonly namespace: string;
  /** Image of jobs that don't name one. */
  readonly jobImage: string;
  /** Whether job containers run privileged (Docker-in-Docker). */
  readonly privileged: boolean;
  /** Seconds the runner waits for a job pod to start. */
  readonly pollTimeout: number;
  /** Requests and limits; `manager` is not used here. */
  readonly resources: Pick<RunnerResources, "build" | "helper" | "service">;
  /** Node labels job pods must match; none when empty. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Taints job pods tolerate; none when empty. */
  readonly tolerations: readonly RunnerToleration[];
  /** S3 cache; none when omitted. */
  readonly cache?: RunnerCacheSettings;
  /** What job pods may run and hold; {@link DEFAULT_JOB_POLICY} when omitted. */
  readonly jobs?: RunnerJobPolicy;
}

/**
 * `[runners.kubernetes.node_tolerations]`: `"key=value" = "Effect"` for `Equal`, `"key" =
 * "Effect"` for `Exists`, `"" = ...` tolerates every taint and an empty effect matches every
 * effect. That is how the runner parses the table (`KubernetesConfig.GetNodeTolerations`: a key
 * with `=` is `Equal`, split at `=`; without, `Exists`), documented under "Other config.toml
 * settings" of https://docs.gitlab.com/runner/executors/kubernetes/.
 */
export function nodeTolerationsTable(
  tolerations: readonly RunnerToleration[],
): Record<string, string> {
  const problems: string[] = [];
  const table: Record<string, string> = {};
  tolerations.forEach((t, i) => {
    const at = `tolerations[${i}]`;
    const key = t.key ?? "";
    const value = t.value ?? "";
    if (key.includes("=") || value.includes("=")) {
      // The runner splits the table key at "=": such a key or value would be misread.
      problems.push(`${at}: expected a key and value without "=", got ${JSON.stringify(t)}`);
      return;
    }
    if (t.operator === "Equal" && key === "") {
      problems.push(`${at}.key: expected a key with operator "Equal", got nothing`);
      return;
    }
    if (t.operator === "Exists" && t.value !== undefined) {
      problems.push(
        `${at}.value: expected no value with operator "Exists", got ${JSON.stringify(t.value)}`,
      );
      return;
    }
    const entry = t.operator === "Equal" ? `${key}=${value}` : key;
    const effect = t.effect ?? "";
    const previous = table[entry];
    if (previous !== undefined && previous !== effect) {
      // One table key holds one effect: tolerate every effect instead (omit `effect`).
      problems.push(
        `${at}: expected one effect per key and value, got ${JSON.stringify(previous)} and ${JSON.stringify(effect)} for ${JSON.stringify(entry)}`,
      );
      return;
    }
    table[entry] = effect;
  });
  if (problems.length > 0) {
    throw new Error(problems.join("\n"));
  }
  return table;
}

/** The executor's `cpu_request`… keys for one container kind (`""`, `helper_`, `service_`). */
function resourceKeys(prefix: string, r: ContainerResources): Record<string, string> {
  return {
    [`${prefix}cpu_request`]: r.cpuRequest,
    [`${prefix}cpu_limit`]: r.cpuLimit,
    [`${prefix}memory_request`]: r.memoryRequest,
    [`${prefix}memory_limit`]: r.memoryLimit,
  };
}

/**
 * The `[[runners]]` template the chart passes to `gitlab-runner register --template-config`
 * (`runners.config`). No `url`, `token`, `executor` or `name`: the chart supplies the URL, the
 * token (from `runners.secret`) and the executor (`kubernetes`) at registration, and a template
 * value would only be ignored or contradict them. Key names are those of
 * https://docs.gitlab.com/runner/executors/kubernetes/ and
 * https://docs.gitlab.com/runner/configuration/advanced-configuration/#the-runnerscache-section.
 *
 * Job pods run arbitrary images, commonly as root, so the build and service containers keep the
 * runtime's default capabilities (the namespace enforces `baseline` and warns at `restricted`).
 * The helper container runs GitLab's own helper image and needs none, so it drops them all. No
 * pod or build `run_as_*` settings (root images would fail) and no seccomp key (the runner has
 * none).
 */
export function runnerConfigToml(s: RunnerTomlSettings): string {
  const jobs = s.jobs ?? DEFAULT_JOB_POLICY;
  const kubernetes: Record<string, unknown> = {
    namespace: s.namespace,
    image: s.jobImage,
    // Job pods get no API token unless asked: a job is arbitrary code from every pipeline.
    automount_service_account_token: jobs.automountServiceAccountToken,
    ...(jobs.allowedImages.length > 0 ? { allowed_images: [...jobs.allowedImages] } : {}),
    ...(jobs.pullPolicy.length > 0 ? { pull_policy: [...jobs.pullPolicy] } : {}),
    ...(jobs.allowedPullPolicies.length > 0
      ? { allowed_pull_policies: [...jobs.allowedPullPolicies] }
      : {}),
    ...(jobs.helperImage === undefined ? {} : { helper_image: jobs.helperImage }),
    pod_labels: { ...JOB_POD_LABELS },
    privileged: s.privileged,
    // Kubernetes rejects privileged containers that forbid privilege escalation.
    allow_privilege_escalation: s.privileged,
    poll_timeout: s.pollTimeout,
    ...resourceKeys("", s.resources.build),
    ...resourceKeys("helper_", s.resources.helper),
    ...resourceKeys("service_", s.resources.service),
    ...(Object.keys(s.nodeSelector).length > 0 ? { node_selector: { ...s.nodeSelector } } : {}),
    ...(s.tolerations.length > 0 ? { node_tolerations: nodeTolerationsTable(s.tolerations) } : {}),
    helper_container_security_context: {
      privileged: false,
      allow_privilege_escalation: false,
      capabilities: { drop: ["ALL"] },
    },
  };
  const runner: Record<string, unknown> = { kubernetes };
  if (s.cache !== undefined) {
    runner["cache"] = {
      Type: "s3",
      Shared: true,
      s3: {
        ServerAddress: s.cache.serverAddress,
        BucketName: s.cache.bucketName,
        ...(s.cache.bucketLocation === undefined ? {} : { BucketLocation: s.cache.bucketLocation }),
        Insecure: s.cache.insecure,
        // Keys come from the chart's cache secret (`runners.cache.secretName`) as
        // CACHE_S3_ACCESS_KEY / CACHE_S3_SECRET_KEY, never from this file.
        AuthenticationType: "access-key",
      },
    };
  }
  const toml = stringify({ runners: [runner] });
  // The chart renders `runners.config` through Helm's `tpl`: "{{" would run as a template.
  const templated = toml.split("\n").find((line) => line.includes("{{"));
  if (templated !== undefined) {
    throw new Error(
      `runners.config: expected no "{{" (the chart evaluates it as a Helm template), got ${templated.trim()}`,
    );
  }
  return toml;
}

/** One rule of the chart's `rbac.rules`: always every field, so none falls back to `*`. */
export interface RunnerRbacRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/**
 * What the Kubernetes executor of GitLab Runner 18/19 needs in its job namespace, from "Configure
 * runner API permissions" in https://docs.gitlab.com/runner/executors/kubernetes/ (the table
 * between `k8s_api_permissions_list_start`/`_end`). Left out: `namespaces` create/delete, needed
 * only for `namespace_per_job` (and cluster-scoped anyway). Kept although feature-dependent:
 * `events` list (`print_pod_warning_events`, on by default) and watch (`FF_PRINT_POD_EVENTS`),
 * pods list/watch (the informer, 17.9+, and the default attach strategy), `pods/attach` (the
 * default non-legacy execution strategy) and `pods/log` get/list (`CI_DEBUG_SERVICES`,
 * `FF_WAIT_FOR_POD_TO_BE_REACHABLE`), because jobs can turn those on through CI variables and
 * would then fail on a missing permission. `secrets` hold per-job registry credentials,
 * `services` the DNS aliases of CI services. Every rule is namespaced: the chart makes a Role,
 * never a ClusterRole, with `rbac.clusterWideAccess: false`.
 */
export const RUNNER_RBAC_RULES: readonly RunnerRbacRule[] = [
  { apiGroups: [""], resources: ["events"], verbs: ["list", "watch"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "get", "list", "watch"] },
  { apiGroups: [""], resources: ["pods/attach"], verbs: ["create", "delete", "get", "patch"] },
  { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "delete", "get", "patch"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get", "list"] },
  { apiGroups: [""], resources: ["secrets"], verbs: ["create", "delete", "get", "update"] },
  { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get"] },
  { apiGroups: [""], resources: ["services"], verbs: ["create", "get"] },
];

/** Port of the runner's Prometheus metrics (the chart's `metrics.port`, its default). */
export const METRICS_PORT = 9252;

/** Annotation keys on the runner manager pod; a changed value rolls the Deployment. */
export const POD_ANNOTATIONS = {
  runnerId: "gitlab-cd-platform/runner-id",
  rotation: "gitlab-cd-platform/token-rotation",
} as const;

/** What the chart values are built from. */
export interface RunnerChartValuesInput {
  /** GitLab base URL the runner talks to. */
  readonly gitlabUrl: string;
  /** Jobs the runner runs at once. */
  readonly concurrent: number;
  /** Seconds between job requests to GitLab. */
  readonly checkInterval: number;
  /** Name of the Secret with `runner-token` and `runner-registration-token`. */
  readonly tokenSecretName: string;
  /** The `config.toml` template, {@link runnerConfigToml}. */
  readonly config: pulumi.Input<string>;
  /** Name of the Secret with `accesskey` and `secretkey`; no cache secret when omitted. */
  readonly cacheSecretName?: string;
  /** Requests and limits of the manager container. */
  readonly manager: ContainerResources;
  /** Runner id in GitLab, as a string; a new one (new token) rolls the manager. */
  readonly runnerId: pulumi.Input<string>;
  /** Rotation marker, also on the pod so a rotation always rolls the manager. */
  readonly rotation: string;
  /** Whether the metrics endpoint is enabled. */
  readonly metrics: boolean;
  /** Labels for the manager pod. */
  readonly podLabels: Readonly<Record<string, string>>;
  /**
   * The ServiceAccount the manager runs as, made by the caller, when job pods run in another
   * namespace: the chart then creates no RBAC (its Role would land in the manager's namespace)
   * and no ServiceAccount. Undefined: the chart makes both, for jobs in its own namespace.
   */
  readonly serviceAccountName?: string;
  /**
   * The manager's image, `<repository>:<tag>` with an optional `@sha256:<digest>`. Undefined:
   * the chart's own (`registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v<appVersion>`).
   */
  readonly image?: string;
}

/**
 * The chart's `image` values for `reference`: its template joins them as
 * `<registry>/<image>:<tag>` (registry left out when empty), so the whole repository goes in
 * `image` and a digest rides on the tag (`alpine-v19.0.0@sha256:…`). Undefined for a reference
 * without a tag, which that template cannot express.
 */
export function managerImageValues(
  reference: string,
): { registry: string; image: string; tag: string } | undefined {
  const parsed = parseImageReference(reference);
  if (parsed?.tag === undefined) {
    return undefined;
  }
  return {
    registry: "",
    image: parsed.repository,
    tag: parsed.digest === undefined ? parsed.tag : `${parsed.tag}@${parsed.digest}`,
  };
}

/** The gitlab-runner chart values this platform sets (names checked against chart 0.89.0). */
export interface RunnerChartValues {
  readonly gitlabUrl: string;
  readonly concurrent: number;
  readonly checkInterval: number;
  readonly unregisterRunners: boolean;
  readonly rbac: {
    readonly create: boolean;
    readonly rules?: readonly RunnerRbacRule[];
    readonly clusterWideAccess: boolean;
  };
  readonly serviceAccount: { readonly create: boolean; readonly name?: string };
  readonly runners: {
    readonly secret: string;
    readonly config: pulumi.Input<string>;
    readonly cache?: { readonly secretName: string };
  };
  readonly metrics: { readonly enabled: boolean; readonly portName: string; readonly port: number };
  readonly podSecurityContext: k8s.types.input.core.v1.PodSecurityContext;
  readonly securityContext: k8s.types.input.core.v1.SecurityContext;
  readonly resources: k8s.types.input.core.v1.ResourceRequirements;
  readonly podAnnotations: Record<string, pulumi.Input<string>>;
  readonly podLabels: Record<string, string>;
  readonly image?: { readonly registry: string; readonly image: string; readonly tag: string };
}

/**
 * Values for the gitlab-runner chart. The token reaches the pod only through `runners.secret`
 * (values are stored in Pulumi state); the cache keys only through `runners.cache.secretName`.
 * The manager pod meets Pod Security `restricted`: non-root uid 100 / fsGroup 65533 (the chart's
 * image user), RuntimeDefault seccomp, no privilege escalation, no capabilities. It gets no
 * nodeSelector or tolerations: those place job pods, often on dedicated or tainted build nodes,
 * while the small long-lived manager belongs on ordinary nodes.
 */
export function runnerChartValues(v: RunnerChartValuesInput): RunnerChartValues {
  return {
    gitlabUrl: v.gitlabUrl,
    concurrent: v.concurrent,
    checkInterval: v.checkInterval,
    // On uninstall, remove this runner manager from GitLab (for glrt- tokens: the manager entry,
    // not the runner, which Pulumi owns).
    unregisterRunners: true,
    ...(v.serviceAccountName === undefined
      ? {
          rbac: { create: true, rules: RUNNER_RBAC_RULES, clusterWideAccess: false },
          // With rbac.create the chart asks for serviceAccount.create to be set explicitly.
          serviceAccount: { create: true },
        }
      : {
          // Jobs run elsewhere: the Role and its binding are made there, for this account.
          rbac: { create: false, clusterWideAccess: false },
          serviceAccount: { create: false, name: v.serviceAccountName },
        }),
    runners: {
      secret: v.tokenSecretName,
      config: v.config,
      ...(v.cacheSecretName === undefined ? {} : { cache: { secretName: v.cacheSecretName } }),
    },
    metrics: { enabled: v.metrics, portName: "metrics", port: METRICS_PORT },
    podSecurityContext: {
      runAsUser: 100,
      fsGroup: 65533,
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      // The chart's default. Its entrypoint writes config.toml and registration state next to
      // the binary's home; a read-only root is not verified against chart 0.89.0's templates,
      // and Pod Security `restricted` does not require it.
      readOnlyRootFilesystem: false,
      runAsNonRoot: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    },
    resources: resourceRequirements(v.manager),
    podAnnotations: {
      [POD_ANNOTATIONS.runnerId]: v.runnerId,
      [POD_ANNOTATIONS.rotation]: v.rotation,
    },
    podLabels: { ...v.podLabels },
    ...(v.image === undefined ? {} : { image: managerImageValues(v.image) }),
  };
}
