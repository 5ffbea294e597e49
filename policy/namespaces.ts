import { PolicyResource, ResourceValidation, StackValidation } from "@pulumi/policy";
import { PART_OF } from "../components/labels";
import { TYPES, forEachKnown, isObject, metadataOf, resourceEnvironment } from "./kinds";

/**
 * Namespaces: each one enforces a Pod Security level, and each app namespace (label
 * `app.kubernetes.io/component: app`, see components/app-namespace.ts) denies all traffic its
 * NetworkPolicies do not allow.
 */

/** The Pod Security Admission label that enforces a level. */
export const ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

const LEVELS: readonly string[] = ["restricted", "baseline", "privileged"];

/** Every Namespace enforces restricted, baseline or (outside production) privileged. */
export const namespacesPodSecurity: ResourceValidation = (args, report) => {
  if (args.type !== TYPES.namespace) {
    return;
  }
  const level = metadataOf(args.props).labels[ENFORCE_LABEL];
  const at = `metadata.labels[${JSON.stringify(ENFORCE_LABEL)}]`;
  if (typeof level !== "string" || !LEVELS.includes(level)) {
    report(
      `${at}: expected "restricted", "baseline" or "privileged", got ${level === undefined ? "nothing" : JSON.stringify(level)}`,
    );
  } else if (level === "privileged" && resourceEnvironment(args) === "production") {
    report(`${at}: expected "restricted" or "baseline" in production, got "privileged"`);
  }
};

/** Whether a Namespace is one of the platform's app namespaces. */
export function isAppNamespace(props: Record<string, unknown>): boolean {
  const labels = metadataOf(props).labels;
  return (
    labels["app.kubernetes.io/part-of"] === PART_OF &&
    labels["app.kubernetes.io/component"] === "app"
  );
}

/**
 * Whether a NetworkPolicy is a default deny: it selects every pod of its namespace (an empty
 * `podSelector`) and covers both directions (`policyTypes` with Ingress and Egress). Its rules,
 * if any, are the allowances.
 */
export function isDefaultDeny(props: Record<string, unknown>): boolean {
  const spec = isObject(props["spec"]) ? props["spec"] : {};
  const selector = spec["podSelector"];
  const empty = (v: unknown) =>
    v === undefined ||
    (Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0);
  const selectsAll =
    isObject(selector) && empty(selector["matchLabels"]) && empty(selector["matchExpressions"]);
  const types = Array.isArray(spec["policyTypes"]) ? spec["policyTypes"] : [];
  return selectsAll && types.includes("Ingress") && types.includes("Egress");
}

/** Every app namespace has a default-deny NetworkPolicy. */
export const appNamespacesDefaultDeny: StackValidation = (args, report) => {
  const denying = new Set<string>();
  forEachKnown(
    args.resources.filter((r) => r.type === TYPES.networkPolicy),
    (r: PolicyResource) => {
      const namespace = metadataOf(r.props).namespace;
      if (namespace !== undefined && isDefaultDeny(r.props)) {
        denying.add(namespace);
      }
    },
  );
  forEachKnown(
    args.resources.filter((r) => r.type === TYPES.namespace),
    (ns: PolicyResource) => {
      const name = metadataOf(ns.props).name ?? ns.name;
      if (isAppNamespace(ns.props) && !denying.has(name)) {
        report(
          `namespace ${JSON.stringify(name)}: expected a NetworkPolicy selecting every pod (podSelector: {}) with policyTypes Ingress and Egress, got none`,
          ns.urn,
        );
      }
    },
  );
};
