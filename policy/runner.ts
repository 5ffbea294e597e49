import { ResourceValidation, StackValidation } from "@pulumi/policy";
import { parse } from "smol-toml";
import { TYPES, forEachKnown, isObject, objectName, resourceEnvironment } from "./kinds";

/**
 * The GitLab Runner's policies, read from its Helm release: the chart values and the
 * `runners.config` template (config.toml) that components/runner-values.ts renders. Job pods are
 * arbitrary code from every pipeline the runner serves, so what they may do is the runner's
 * security boundary.
 */

/** Whether a Helm release installs the gitlab-runner chart (`gitlab-runner`, `<repo>/gitlab-runner`, an OCI URL). */
export function isRunnerRelease(type: string, props: Record<string, unknown>): boolean {
  const chart = props["chart"];
  return (
    type === TYPES.helmRelease &&
    typeof chart === "string" &&
    (chart === "gitlab-runner" || chart.endsWith("/gitlab-runner"))
  );
}

/** `[[runners]]` of the release's config.toml, or the problem reading it. */
function runnerTables(values: Record<string, unknown>): {
  tables: Record<string, unknown>[];
  problem?: string;
} {
  const runners = isObject(values["runners"]) ? values["runners"] : {};
  const config = runners["config"];
  if (typeof config !== "string") {
    return { tables: [] };
  }
  try {
    const parsed = parse(config) as Record<string, unknown>;
    const list = Array.isArray(parsed["runners"]) ? parsed["runners"] : [];
    return { tables: list.filter(isObject) };
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0] ?? "";
    return {
      tables: [],
      problem: `values.runners.config: expected the runner's config.toml, got text that is not TOML (${reason})`,
    };
  }
}

/** Paths under `table` where `privileged = true`, e.g. `build_container_security_context.privileged`. */
function privilegedPaths(table: Record<string, unknown>, prefix: string): string[] {
  return Object.entries(table).flatMap(([key, value]) => {
    const path = `${prefix}.${key}`;
    if (key === "privileged" && value === true) {
      return [path];
    }
    return isObject(value) ? privilegedPaths(value, path) : [];
  });
}

/**
 * Where the runner's values let job containers run privileged, one `path: expected X, got Y`
 * line each: `privileged = true` anywhere in a `[runners.kubernetes]` table of config.toml
 * (the executor's own setting or a container security context), or the chart's legacy
 * `runners.privileged`.
 */
export function privilegedRunnerProblems(values: unknown): string[] {
  const v = isObject(values) ? values : {};
  const problems: string[] = [];
  const runners = isObject(v["runners"]) ? v["runners"] : {};
  if (runners["privileged"] === true) {
    problems.push("values.runners.privileged: expected false or nothing in production, got true");
  }
  const { tables, problem } = runnerTables(v);
  if (problem !== undefined) {
    problems.push(problem);
  }
  tables.forEach((table, i) => {
    const kubernetes = table["kubernetes"];
    if (isObject(kubernetes)) {
      for (const path of privilegedPaths(kubernetes, `runners[${i}].kubernetes`)) {
        problems.push(`values.runners.config: ${path}: expected false in production, got true`);
      }
    }
  });
  return problems;
}

/** Refuses a privileged runner in production. */
export const runnerNotPrivileged: ResourceValidation = (args, report) => {
  if (!isRunnerRelease(args.type, args.props) || resourceEnvironment(args) !== "production") {
    return;
  }
  for (const problem of privilegedRunnerProblems(args.props["values"])) {
    report(problem);
  }
};

function listOrNothing(value: unknown): string {
  return value === undefined || value === null ? "nothing" : JSON.stringify(value);
}

/**
 * Where the runner's chart values give the executor more than a namespaced, explicit Role:
 * `rbac.clusterWideAccess` (a ClusterRole), `rbac.create` without rules, and rules whose
 * resources or verbs are missing, empty or `*` (the chart reads a missing or empty list as `*`)
 * or whose API groups include `*`.
 */
export function runnerRbacProblems(values: unknown): string[] {
  const v = isObject(values) ? values : {};
  const rbac = isObject(v["rbac"]) ? v["rbac"] : {};
  const problems: string[] = [];
  if (rbac["clusterWideAccess"] === true) {
    problems.push(
      "values.rbac.clusterWideAccess: expected false (a Role in the runner's namespace), got true",
    );
  }
  if (rbac["create"] !== true) {
    return problems;
  }
  const rules = rbac["rules"];
  if (!Array.isArray(rules) || rules.length === 0) {
    problems.push(
      `values.rbac.rules: expected the executor's rules, listed (the chart fills in its own otherwise), got ${listOrNothing(rules)}`,
    );
    return problems;
  }
  rules.forEach((rule: unknown, i) => {
    const r = isObject(rule) ? rule : {};
    for (const field of ["resources", "verbs"] as const) {
      const list = r[field];
      if (!Array.isArray(list) || list.length === 0 || list.includes("*")) {
        problems.push(
          `values.rbac.rules[${i}].${field}: expected named ${field} (the chart reads none as "*"), got ${listOrNothing(list)}`,
        );
      }
    }
    const groups = r["apiGroups"];
    if (Array.isArray(groups) && groups.includes("*")) {
      problems.push(
        `values.rbac.rules[${i}].apiGroups: expected named API groups, got ${JSON.stringify(groups)}`,
      );
    }
  });
  return problems;
}

/** The namespaces a runner release's job pods run in: the release's and config.toml's. */
export function runnerJobNamespaces(props: Record<string, unknown>): string[] {
  const namespaces = new Set<string>();
  if (typeof props["namespace"] === "string") {
    namespaces.add(props["namespace"]);
  }
  const values = isObject(props["values"]) ? props["values"] : {};
  for (const table of runnerTables(values).tables) {
    const kubernetes = isObject(table["kubernetes"]) ? table["kubernetes"] : {};
    if (typeof kubernetes["namespace"] === "string") {
      namespaces.add(kubernetes["namespace"]);
    }
  }
  return [...namespaces];
}

/**
 * How a binding subject reaches job pods in `namespaces`, or undefined when it does not: any
 * ServiceAccount there (job pods run as one), the groups of all or those ServiceAccounts, every
 * authenticated identity.
 */
export function jobPodSubject(subject: unknown, namespaces: readonly string[]): string | undefined {
  if (!isObject(subject)) {
    return undefined;
  }
  const kind = subject["kind"];
  const name = typeof subject["name"] === "string" ? subject["name"] : "";
  if (kind === "ServiceAccount" && namespaces.includes(String(subject["namespace"]))) {
    return `ServiceAccount ${String(subject["namespace"])}/${name}`;
  }
  if (kind === "User" && namespaces.some((ns) => name.startsWith(`system:serviceaccount:${ns}:`))) {
    return `User ${name}`;
  }
  const groups = [
    "system:authenticated",
    "system:serviceaccounts",
    ...namespaces.map((ns) => `system:serviceaccounts:${ns}`),
  ];
  if (kind === "Group" && groups.includes(name)) {
    return `Group ${name}`;
  }
  return undefined;
}

/**
 * The runner's executor RBAC stays namespaced: its release asks for a Role with explicit rules,
 * and no ClusterRoleBinding of the stack binds an identity job pods can use.
 */
export const runnerRbacNamespaced: StackValidation = (args, report) => {
  const releases = args.resources.filter((r) => isRunnerRelease(r.type, r.props));
  const namespaces: string[] = [];
  forEachKnown(releases, (release) => {
    for (const problem of runnerRbacProblems(release.props["values"])) {
      report(problem, release.urn);
    }
    namespaces.push(...runnerJobNamespaces(release.props));
  });
  if (namespaces.length === 0) {
    return;
  }
  const bindings = args.resources.filter((r) => r.type === TYPES.clusterRoleBinding);
  forEachKnown(bindings, (binding) => {
    const subjects = binding.props["subjects"];
    const roleRef = isObject(binding.props["roleRef"]) ? binding.props["roleRef"] : {};
    (Array.isArray(subjects) ? subjects : []).forEach((subject: unknown, i) => {
      const reached = jobPodSubject(subject, namespaces);
      if (reached !== undefined) {
        report(
          `subjects[${i}]: expected no cluster-wide grant to identities of the runner's job pods (namespace ${namespaces.join(", ")}), got ${reached} bound to ClusterRole ${JSON.stringify(roleRef["name"])} by ClusterRoleBinding ${JSON.stringify(objectName(binding.props, binding.name))}`,
          binding.urn,
        );
      }
    });
  });
};
