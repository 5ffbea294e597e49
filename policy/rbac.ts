import { ResourceValidation } from "@pulumi/policy";
import { TYPES, isObject } from "./kinds";

/**
 * RBAC that is never needed by this platform: a binding to `cluster-admin` (whoever holds the
 * subject owns the cluster) and a rule that allows every verb on every resource of its API groups.
 */

/** How messages name a binding subject: `ServiceAccount ns/name`, `User name`, `Group name`. */
export function subjectName(subject: unknown): string {
  if (!isObject(subject)) {
    return JSON.stringify(subject);
  }
  const name = String(subject["name"]);
  return subject["kind"] === "ServiceAccount" && typeof subject["namespace"] === "string"
    ? `ServiceAccount ${subject["namespace"]}/${name}`
    : `${String(subject["kind"])} ${name}`;
}

/** No RoleBinding or ClusterRoleBinding refers to the cluster-admin ClusterRole. */
export const noClusterAdminBinding: ResourceValidation = (args, report) => {
  if (args.type !== TYPES.roleBinding && args.type !== TYPES.clusterRoleBinding) {
    return;
  }
  const roleRef = isObject(args.props["roleRef"]) ? args.props["roleRef"] : {};
  if (roleRef["kind"] !== "ClusterRole" || roleRef["name"] !== "cluster-admin") {
    return;
  }
  const subjects = Array.isArray(args.props["subjects"]) ? args.props["subjects"] : [];
  const whom = subjects.length > 0 ? subjects.map(subjectName).join(", ") : "no subject";
  report(
    `roleRef: expected a role narrower than ClusterRole "cluster-admin", got ClusterRole "cluster-admin" (for ${whom})`,
  );
};

/** No Role or ClusterRole rule has `*` among both its verbs and its resources. */
export const noWildcardRbac: ResourceValidation = (args, report) => {
  if (args.type !== TYPES.role && args.type !== TYPES.clusterRole) {
    return;
  }
  const rules = Array.isArray(args.props["rules"]) ? args.props["rules"] : [];
  rules.forEach((rule: unknown, i) => {
    const r = isObject(rule) ? rule : {};
    const verbs = Array.isArray(r["verbs"]) ? r["verbs"] : [];
    const resources = Array.isArray(r["resources"]) ? r["resources"] : [];
    if (verbs.includes("*") && resources.includes("*")) {
      report(
        `rules[${i}]: expected named verbs or named resources, got "*" verbs on "*" resources (API groups ${JSON.stringify(r["apiGroups"] ?? [])})`,
      );
    }
  });
};
