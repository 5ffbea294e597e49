import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { PodSecurityLevel, podSecurityLabels, standardLabels } from "./labels";

/** Hard limits of a namespace's ResourceQuota. */
export interface NamespaceQuota {
  readonly requestsCpu: string;
  readonly requestsMemory: string;
  readonly limitsCpu: string;
  readonly limitsMemory: string;
  readonly pods: number;
}

/** Container defaults (and optional maximums) of a namespace's LimitRange. */
export interface NamespaceLimitRange {
  readonly defaultRequestCpu: string;
  readonly defaultRequestMemory: string;
  readonly defaultLimitCpu: string;
  readonly defaultLimitMemory: string;
  /** The largest CPU limit one container may have. Default none. */
  readonly maxCpu?: string;
  /** The largest memory limit one container may have. Default none. */
  readonly maxMemory?: string;
}

/** Arguments of {@link PlatformNamespace}. */
export interface PlatformNamespaceArgs {
  /** Kubernetes name of the namespace (fixed, not auto-named: other tools and docs refer to it). */
  readonly name: string;
  /** `app.kubernetes.io/component` of the namespace. */
  readonly component: string;
  /** Pod Security Admission level enforced. Default `restricted`. */
  readonly podSecurity?: PodSecurityLevel;
  /** ResourceQuota; none when omitted. */
  readonly quota?: NamespaceQuota;
  /** LimitRange; none when omitted. */
  readonly limitRange?: NamespaceLimitRange;
}

/**
 * A namespace with Pod Security Admission labels, the platform's standard labels, and optionally a
 * ResourceQuota and a LimitRange (containers that don't set requests and limits get defaults, so
 * the quota can be enforced).
 */
export class PlatformNamespace extends pulumi.ComponentResource {
  /** The namespace's name, known once the Namespace exists. */
  public readonly name: pulumi.Output<string>;
  /** The Namespace object, for `dependsOn`. */
  public readonly namespace: k8s.core.v1.Namespace;

  constructor(name: string, args: PlatformNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:cluster:PlatformNamespace", name, {}, opts);
    const labels = standardLabels(args.component);
    this.namespace = new k8s.core.v1.Namespace(
      name,
      {
        metadata: {
          name: args.name,
          labels: { ...labels, ...podSecurityLabels(args.podSecurity ?? "restricted") },
        },
      },
      { parent: this },
    );
    this.name = this.namespace.metadata.name;
    if (args.quota !== undefined) {
      new k8s.core.v1.ResourceQuota(
        `${name}-quota`,
        {
          metadata: { name: "platform-quota", namespace: this.name, labels },
          spec: { hard: quotaHard(args.quota) },
        },
        { parent: this },
      );
    }
    if (args.limitRange !== undefined) {
      new k8s.core.v1.LimitRange(
        `${name}-limits`,
        {
          metadata: { name: "platform-limits", namespace: this.name, labels },
          spec: { limits: [limitRangeItem(args.limitRange)] },
        },
        { parent: this },
      );
    }
    this.registerOutputs({ name: this.name });
  }
}

/** The ResourceQuota `spec.hard` for `quota`. */
export function quotaHard(quota: NamespaceQuota): Record<string, string> {
  return {
    "requests.cpu": quota.requestsCpu,
    "requests.memory": quota.requestsMemory,
    "limits.cpu": quota.limitsCpu,
    "limits.memory": quota.limitsMemory,
    pods: String(quota.pods),
  };
}

/** The LimitRange item for containers. */
export function limitRangeItem(l: NamespaceLimitRange): k8s.types.input.core.v1.LimitRangeItem {
  return {
    type: "Container",
    defaultRequest: { cpu: l.defaultRequestCpu, memory: l.defaultRequestMemory },
    default: { cpu: l.defaultLimitCpu, memory: l.defaultLimitMemory },
    ...(l.maxCpu === undefined && l.maxMemory === undefined
      ? {}
      : {
          max: {
            ...(l.maxCpu === undefined ? {} : { cpu: l.maxCpu }),
            ...(l.maxMemory === undefined ? {} : { memory: l.maxMemory }),
          },
        }),
  };
}
