import * as policy from "@pulumi/policy";
import { PodSpecFields } from "../components/pod-security";
import { Environment } from "../stacks/model";
import { policyEnvironment } from "./levels";

/**
 * What the policies know about the resources they read: type tokens, where a workload keeps its
 * pod spec, metadata accessors, and how to live with values that are unknown during a preview.
 * Policies see resource inputs (`validateResource`) or the stack's resources (`validateStack`) as
 * plain JSON: @pulumi/policy unwraps secrets (a policy cannot tell a secret value from a plain one)
 * and, during a preview, reading a value that is not known yet throws its `UnknownValueError`,
 * which Pulumi reports as an advisory "can't run policy … during preview" (the policy runs again,
 * with every value known, when `pulumi up` registers the resource).
 */

/** Type tokens of the resources the policies check. */
export const TYPES = {
  namespace: "kubernetes:core/v1:Namespace",
  secret: "kubernetes:core/v1:Secret",
  service: "kubernetes:core/v1:Service",
  pod: "kubernetes:core/v1:Pod",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  replicaSet: "kubernetes:apps/v1:ReplicaSet",
  job: "kubernetes:batch/v1:Job",
  cronJob: "kubernetes:batch/v1:CronJob",
  role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
  clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
  clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  helmRelease: "kubernetes:helm.sh/v3:Release",
  helmChart: "kubernetes:helm.sh/v4:Chart",
  projectVariable: "pulumi-nodejs:dynamic/gitlab:ProjectVariable",
  groupVariable: "pulumi-nodejs:dynamic/gitlab:GroupVariable",
  userRunner: "pulumi-nodejs:dynamic/gitlab:UserRunner",
  clusterAgentToken: "pulumi-nodejs:dynamic/gitlab:ClusterAgentToken",
  projectDeployToken: "pulumi-nodejs:dynamic/gitlab:ProjectDeployToken",
  groupDeployToken: "pulumi-nodejs:dynamic/gitlab:GroupDeployToken",
  /** The provider of every dynamic resource (the engine's default one). */
  dynamicProvider: "pulumi:providers:pulumi-nodejs",
} as const;

/** The GitLab CI/CD variable types (components/gitlab, dynamic resources). */
export const VARIABLE_TYPES: readonly string[] = [TYPES.projectVariable, TYPES.groupVariable];

/**
 * Where each workload kind keeps its pod spec, as a property path and the steps to it. The
 * `kubernetes:…Patch` kinds are partial objects and are not checked.
 */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  [TYPES.pod]: ["spec"],
  [TYPES.deployment]: ["spec", "template", "spec"],
  [TYPES.statefulSet]: ["spec", "template", "spec"],
  [TYPES.daemonSet]: ["spec", "template", "spec"],
  [TYPES.replicaSet]: ["spec", "template", "spec"],
  [TYPES.job]: ["spec", "template", "spec"],
  [TYPES.cronJob]: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** The pod spec of a workload and its path (`spec.template.spec`), or undefined for other types. */
export function podSpecOf(
  type: string,
  props: Record<string, unknown>,
): { path: string; spec: PodSpecFields } | undefined {
  const steps = POD_SPEC_PATHS[type];
  if (steps === undefined) {
    return undefined;
  }
  let value: unknown = props;
  for (const step of steps) {
    value = isObject(value) ? value[step] : undefined;
  }
  return { path: steps.join("."), spec: isObject(value) ? (value as PodSpecFields) : {} };
}

/** Whether `value` is a plain object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The fields of `metadata` the policies read. */
export interface Metadata {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels: Readonly<Record<string, unknown>>;
  readonly annotations: Readonly<Record<string, unknown>>;
}

/** `metadata` of a Kubernetes object's props, with empty label and annotation maps by default. */
export function metadataOf(props: Record<string, unknown>): Metadata {
  const m = isObject(props["metadata"]) ? props["metadata"] : {};
  return {
    name: typeof m["name"] === "string" ? m["name"] : undefined,
    namespace: typeof m["namespace"] === "string" ? m["namespace"] : undefined,
    labels: isObject(m["labels"]) ? m["labels"] : {},
    annotations: isObject(m["annotations"]) ? m["annotations"] : {},
  };
}

/** How messages name an object: `namespace/name`, `name`, or the Pulumi name when it has none. */
export function objectName(props: Record<string, unknown>, pulumiName: string): string {
  const m = metadataOf(props);
  const name = m.name ?? pulumiName;
  return m.namespace === undefined ? name : `${m.namespace}/${name}`;
}

/** The kind of a type token: `kubernetes:apps/v1:Deployment` → `Deployment`. */
export function kindOf(type: string): string {
  return type.slice(type.lastIndexOf(":") + 1);
}

/** Whether `type` is a Flux source kind (`kubernetes:source.toolkit.fluxcd.io/<version>:<kind>`). */
export function isFluxSource(type: string, kind: "OCIRepository" | "GitRepository"): boolean {
  return type.startsWith("kubernetes:source.toolkit.fluxcd.io/") && kindOf(type) === kind;
}

/** @pulumi/policy's error for a value that is unknown during a preview. */
const UnknownValueError = (
  policy as unknown as { UnknownValueError: new (...args: never[]) => Error }
).UnknownValueError;

/** Whether `error` is @pulumi/policy's error for a value not known during a preview. */
export function isUnknownValueError(error: unknown): boolean {
  return error instanceof UnknownValueError;
}

/**
 * Runs `check` on each item, going on past items whose values are not known yet (during a
 * preview), then rethrows the first such error so that Pulumi still says the policy could not
 * check everything. Violations found on the way stay reported.
 */
export function forEachKnown<T>(items: Iterable<T>, check: (item: T) => void): void {
  let unknown: unknown;
  for (const item of items) {
    try {
      check(item);
    } catch (error) {
      if (!isUnknownValueError(error)) {
        throw error;
      }
      unknown ??= error;
    }
  }
  if (unknown !== undefined) {
    throw unknown;
  }
}

/** The policy config every policy of the pack accepts (see `policyPackConfig` in levels.ts). */
export interface PolicyConfig {
  /** The stack's `platform:environment`. */
  readonly environment?: string;
}

/** The environment a resource policy holds the resource's stack to. */
export function resourceEnvironment(args: policy.ResourceValidationArgs): Environment {
  return policyEnvironment(args.getConfig<PolicyConfig>().environment, args.urn);
}

/** The environment a stack policy holds the stack to. */
export function stackEnvironment(args: policy.StackValidationArgs): Environment {
  return policyEnvironment(args.getConfig<PolicyConfig>().environment, args.resources[0]?.urn);
}
