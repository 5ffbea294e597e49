import * as k8s from "@pulumi/kubernetes";
import { LOWERCASE_HOSTNAME } from "./formats";
import { PART_OF } from "./labels";

/**
 * What a tenant may expose from its app namespace, enforced by the API server for everyone who
 * writes there (the app's deployer, Flux's applier, the review component, Pulumi itself):
 * ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1, GA in Kubernetes 1.30) and their
 * bindings, all cluster-scoped, per app namespace: the ingress guard, on Ingresses, and the
 * service guard, on Services (unless the app may expose Services itself).
 *
 * Without them, anyone who may create an Ingress or a Service in one app namespace can take over
 * traffic meant for another: an Ingress naming another app's host (or none, or a default
 * backend, which catch every host no rule names), or a LoadBalancer, NodePort or `externalIPs`
 * Service that bypasses the ingress controller and the NetworkPolicies in front of it.
 *
 * One policy per kind: the API server type-checks every expression of a policy against every
 * kind it matches, so a policy matching both would fill its `status.typeChecking` with warnings
 * about the other kind's fields (`undefined field 'type'` on an Ingress), among which a real
 * mistake would go unnoticed.
 */

/** What one app namespace may expose. */
export interface AppExposure {
  /**
   * Hosts Ingresses in the namespace may name in `rules[].host` and `tls[].hosts`: exact
   * lowercase host names, or `*.<domain>` for any single DNS label under `<domain>` (review
   * apps at `<branch slug>.<domain>`). Empty: no Ingress may route any host.
   */
  readonly ingressHosts: readonly string[];
  /** Services of type LoadBalancer or NodePort, and `externalIPs`, are allowed. Default `false`. */
  readonly allowExternalServices?: boolean;
}

/** The kinds an app namespace's policies guard, one policy (and binding) each. */
export const ADMISSION_GUARDS = ["ingress", "service"] as const;
/** One of {@link ADMISSION_GUARDS}. */
export type AdmissionGuard = (typeof ADMISSION_GUARDS)[number];

/**
 * A policy's (and its binding's) name: `<namespace>.ingress-guard.gitlab-cd-platform` or
 * `<namespace>.service-guard.gitlab-cd-platform`. They are cluster-scoped; the namespace is what
 * makes them unique, as it is for the Namespace itself (review stacks' namespaces carry the
 * stack's name, `<app>-<stack>`).
 */
export function admissionPolicyName(namespace: string, guard: AdmissionGuard): string {
  return `${namespace}.${guard}-guard.${PART_OF}`;
}

/** `*.example.com`: any one DNS label under example.com. */
const WILDCARD = /^\*\.(.+)$/;

/** An entry of {@link AppExposure.ingressHosts}: a lowercase host name, or `*.` and one. */
export const WILDCARD_OR_HOSTNAME = new RegExp(
  `^(\\*\\.)?${LOWERCASE_HOSTNAME.source.replace(/^\^/, "")}`,
);

/**
 * Whether `pattern` (an entry of {@link AppExposure.ingressHosts}) admits the host `host`: the
 * same name, or one label under a wildcard's domain.
 */
export function hostAllowedBy(pattern: string, host: string): boolean {
  if (pattern === host) {
    return true;
  }
  const domain = WILDCARD.exec(pattern)?.[1];
  return domain !== undefined && new RegExp(wildcardPattern([domain])).test(host);
}

/** A CEL string literal (single-quoted; the hosts and names here hold no quote or backslash). */
function celString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** A CEL list of string literals. */
function celList(values: readonly string[]): string {
  return `[${values.map(celString).join(", ")}]`;
}

/** The RE2 pattern of one DNS label followed by any of `domains`, for CEL's `matches`. */
export function wildcardPattern(domains: readonly string[]): string {
  const escaped = domains.map((d) => d.replace(/\./g, "\\."));
  return `^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.(${escaped.join("|")})$`;
}

/**
 * A CEL expression, true when the string `v` is a host `hosts` allow: one of them exactly (a
 * wildcard entry included, so an Ingress may name `*.<domain>` itself), or one label under a
 * wildcard's domain. `false` when `hosts` is empty.
 */
export function allowedHostExpression(v: string, hosts: readonly string[]): string {
  const domains = hosts.flatMap((h) => WILDCARD.exec(h)?.[1] ?? []);
  const terms = [
    ...(hosts.length > 0 ? [`${v} in ${celList(hosts)}`] : []),
    ...(domains.length > 0 ? [`${v}.matches(${celString(wildcardPattern(domains))})`] : []),
  ];
  // Always one operand: callers negate it, and CEL's `!` binds tighter than `in`, so
  // `!h in [...]` would negate `h` (the API server refuses it: no overload for `in` on
  // (bool, list), found by the end-to-end suite; the JavaScript evaluator accepted it).
  return terms.length === 0 ? "false" : `(${terms.join(" || ")})`;
}

/** What the messages say is allowed. */
function allowedText(hosts: readonly string[]): string {
  return hosts.length === 0
    ? "no host (the app's config names none: apps[].ingress.host, apps[].allowedHosts)"
    : `only ${hosts.join(", ")} (apps[].ingress.host, apps[].allowedHosts)`;
}

type Validation = k8s.types.input.admissionregistration.v1.Validation;
type PolicySpec = k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec;

/** The ingress guard's validations, in the order the API server reports them. */
export function ingressValidations(namespace: string, exposure: AppExposure): Validation[] {
  const hosts = exposure.ingressHosts;
  const allowed = (v: string) => allowedHostExpression(v, hosts);
  const may = `Ingresses in namespace ${namespace} may route ${allowedText(hosts)}`;
  return [
    {
      expression: "!has(object.spec.defaultBackend)",
      message: `${may}; spec.defaultBackend is not allowed: it serves every host no rule names`,
      reason: "Forbidden",
    },
    {
      // A rule without a host matches every host.
      expression: `!has(object.spec.rules) || object.spec.rules.all(r, has(r.host) && ${allowed("r.host")})`,
      messageExpression: `${celString(`${may}; got spec.rules[].host `)} + object.spec.rules.map(r, has(r.host) ? r.host : '(none: every host)').filter(h, !${allowed("h")}).join(', ')`,
      message: `${may} in spec.rules[].host, each rule naming one`,
      reason: "Forbidden",
    },
    {
      expression: `!has(object.spec.tls) || object.spec.tls.all(t, !has(t.hosts) || t.hosts.all(h, ${allowed("h")}))`,
      messageExpression: `${celString(`${may}; got spec.tls[].hosts `)} + object.spec.tls.filter(t, has(t.hosts)).map(t, t.hosts.filter(h, !${allowed("h")}).join(', ')).filter(s, s != '').join(', ')`,
      message: `${may} in spec.tls[].hosts`,
      reason: "Forbidden",
    },
  ];
}

/** The service guard's validations, in the order the API server reports them. */
export function serviceValidations(namespace: string): Validation[] {
  const why = `Services in namespace ${namespace} stay inside the cluster (apps[].allowExternalServices is false)`;
  return [
    {
      expression: "!has(object.spec.type) || !(object.spec.type in ['LoadBalancer', 'NodePort'])",
      messageExpression: `${celString(`${why}: expected type ClusterIP, got `)} + object.spec.type`,
      message: `${why}: expected type ClusterIP`,
      reason: "Forbidden",
    },
    {
      expression: "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
      messageExpression: `${celString(`${why}: expected no spec.externalIPs, got `)} + object.spec.externalIPs.join(', ')`,
      message: `${why}: expected no spec.externalIPs`,
      reason: "Forbidden",
    },
  ];
}

/** A policy's spec: creates and updates of one v1 resource, failing closed, and `validations`. */
function guardSpec(apiGroup: string, resource: string, validations: Validation[]): PolicySpec {
  return {
    // An expression that cannot be evaluated denies: the guard never fails open.
    failurePolicy: "Fail",
    matchConstraints: {
      // Other versions of the resource are converted to v1 and checked (matchPolicy Equivalent).
      matchPolicy: "Equivalent",
      resourceRules: [
        {
          apiGroups: [apiGroup],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: [resource],
        },
      ],
    },
    validations,
  };
}

/**
 * The specs of the namespace's policies, by guard: the ingress guard always (an app without hosts
 * may route none), the service guard unless {@link AppExposure.allowExternalServices}.
 */
export function admissionPolicySpecs(
  namespace: string,
  exposure: AppExposure,
): Partial<Record<AdmissionGuard, PolicySpec>> {
  return {
    ingress: guardSpec("networking.k8s.io", "ingresses", ingressValidations(namespace, exposure)),
    ...(exposure.allowExternalServices === true
      ? {}
      : { service: guardSpec("", "services", serviceValidations(namespace)) }),
  };
}

/** A binding's spec: its policy, denying, in exactly the app's namespace. */
export function admissionBindingSpec(
  namespace: string,
  policyName: k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec["policyName"],
): k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec {
  return {
    policyName,
    validationActions: ["Deny"],
    matchResources: {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
    },
  };
}

/** Every problem with `exposure`, as `[key path, problem]`; empty when valid. */
export function appExposureProblems(exposure: AppExposure): [string, string][] {
  return exposure.ingressHosts.flatMap((host, i): [string, string][] =>
    LOWERCASE_HOSTNAME.test(WILDCARD.exec(host)?.[1] ?? host)
      ? []
      : [
          [
            `exposure.ingressHosts[${i}]`,
            `expected a lowercase host name or *.<domain>, got ${JSON.stringify(host)}`,
          ],
        ],
  );
}
