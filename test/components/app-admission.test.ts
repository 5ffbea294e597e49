import { type CelInput, run } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import {
  AppExposure,
  admissionBindingSpec,
  admissionPolicyName,
  admissionPolicySpec,
  allowedHostExpression,
  hostAllowedBy,
} from "../../components/app-admission";
import { AppNamespace, AppNamespaceArgs } from "../../components/app-namespace";
import { record } from "../harness/component";

/**
 * The tenant guard of an app namespace: the exact ValidatingAdmissionPolicy and binding, and what
 * their CEL admits and refuses. The expressions are evaluated with @bufbuild/cel (standard CEL
 * plus the strings extension Kubernetes also enables, for `join`) over objects shaped like the
 * API server's: absent fields are absent, so a missing `has()` fails here as it fails there.
 * Kubernetes type-checks against the OpenAPI schemas and bounds the cost, which this does not:
 * the e2e suite's real API server is where the objects are accepted and enforced.
 */

const NS = "web-prod";
const HOSTS: AppExposure = { ingressHosts: ["web.example.com", "*.review.example.com"] };
type Validation = { expression: string; messageExpression?: string; message?: string };

/** JSON as CEL sees an object: maps, lists, strings, booleans (no ints needed here). */
function cel(value: unknown): CelInput {
  if (Array.isArray(value)) {
    return value.map(cel);
  }
  if (value !== null && typeof value === "object") {
    return new Map(Object.entries(value).map(([k, v]) => [k, cel(v)]));
  }
  return value as CelInput;
}

function bindings(resource: "ingresses" | "services", object: unknown) {
  return {
    request: cel({ resource: { group: "", version: "v1", resource } }),
    object: cel(object),
  };
}

/** The messages of the validations `object` fails, in order; empty when admitted. */
function denials(
  exposure: AppExposure,
  resource: "ingresses" | "services",
  object: unknown,
): string[] {
  const vars = bindings(resource, object);
  return (admissionPolicySpec(NS, exposure).validations as Validation[]).flatMap((v) => {
    const ok = run(v.expression, vars, { funcs: strings });
    if (typeof ok !== "boolean") {
      throw new Error(`${v.expression} gave ${String(ok)}`);
    }
    return ok
      ? []
      : [String(run(v.messageExpression ?? `'${v.message ?? ""}'`, vars, { funcs: strings }))];
  });
}

const ingress = (spec: Record<string, unknown>) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name: "web", namespace: NS },
  spec,
});
const rule = (host?: string) => ({
  ...(host === undefined ? {} : { host }),
  http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web" } } }] },
});
const service = (spec: Record<string, unknown>) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: NS },
  spec: { selector: { app: "web" }, ports: [{ port: 80 }], ...spec },
});

const MAY =
  "Ingresses in namespace web-prod may route only web.example.com, *.review.example.com (apps[].ingress.host, apps[].allowedHosts)";
const NONE =
  "Ingresses in namespace web-prod may route no host (the app's config names none: apps[].ingress.host, apps[].allowedHosts)";
const INSIDE =
  "Services in namespace web-prod stay inside the cluster (apps[].allowExternalServices is false)";

describe("the policy and its binding", () => {
  test("names: per namespace, cluster-unique as the namespace is", () => {
    expect(admissionPolicyName("web-review-42")).toBe(
      "web-review-42.tenant-guard.gitlab-cd-platform",
    );
  });

  test("matches Ingress and Service creates and updates, failing closed", () => {
    const spec = admissionPolicySpec(NS, HOSTS);
    expect(spec.failurePolicy).toBe("Fail");
    expect(spec.matchConstraints).toEqual({
      matchPolicy: "Equivalent",
      resourceRules: [
        {
          apiGroups: ["networking.k8s.io"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["ingresses"],
        },
        {
          apiGroups: [""],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["services"],
        },
      ],
    });
  });

  test("the exact validations", () => {
    const allowed = (v: string) =>
      `(${v} in ['web.example.com', '*.review.example.com'] || ${v}.matches('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\\\.(review\\\\.example\\\\.com)$'))`;
    expect(admissionPolicySpec(NS, HOSTS).validations).toEqual([
      {
        expression: "request.resource.resource != 'ingresses' || !has(object.spec.defaultBackend)",
        message: `${MAY}; spec.defaultBackend is not allowed: it serves every host no rule names`,
        reason: "Forbidden",
      },
      {
        expression: `request.resource.resource != 'ingresses' || !has(object.spec.rules) || object.spec.rules.all(r, has(r.host) && ${allowed("r.host")})`,
        messageExpression: `'${MAY}; got spec.rules[].host ' + object.spec.rules.map(r, has(r.host) ? r.host : '(none: every host)').filter(h, !${allowed("h")}).join(', ')`,
        message: `${MAY} in spec.rules[].host, each rule naming one`,
        reason: "Forbidden",
      },
      {
        expression: `request.resource.resource != 'ingresses' || !has(object.spec.tls) || object.spec.tls.all(t, !has(t.hosts) || t.hosts.all(h, ${allowed("h")}))`,
        messageExpression: `'${MAY}; got spec.tls[].hosts ' + object.spec.tls.filter(t, has(t.hosts)).map(t, t.hosts.filter(h, !${allowed("h")}).join(', ')).filter(s, s != '').join(', ')`,
        message: `${MAY} in spec.tls[].hosts`,
        reason: "Forbidden",
      },
      {
        expression:
          "request.resource.resource != 'services' || !has(object.spec.type) || !(object.spec.type in ['LoadBalancer', 'NodePort'])",
        messageExpression: `'${INSIDE}: expected type ClusterIP, got ' + object.spec.type`,
        message: `${INSIDE}: expected type ClusterIP`,
        reason: "Forbidden",
      },
      {
        expression:
          "request.resource.resource != 'services' || !has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
        messageExpression: `'${INSIDE}: expected no spec.externalIPs, got ' + object.spec.externalIPs.join(', ')`,
        message: `${INSIDE}: expected no spec.externalIPs`,
        reason: "Forbidden",
      },
    ]);
  });

  test("allowing external Services drops their rule and validations, not the Ingress ones", () => {
    const spec = admissionPolicySpec(NS, { ...HOSTS, allowExternalServices: true });
    expect(spec.matchConstraints).toEqual({
      matchPolicy: "Equivalent",
      resourceRules: [
        {
          apiGroups: ["networking.k8s.io"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["ingresses"],
        },
      ],
    });
    expect((spec.validations as Validation[]).map((v) => v.message)).toEqual([
      `${MAY}; spec.defaultBackend is not allowed: it serves every host no rule names`,
      `${MAY} in spec.rules[].host, each rule naming one`,
      `${MAY} in spec.tls[].hosts`,
    ]);
  });

  test("the binding denies in exactly the app's namespace", () => {
    expect(admissionBindingSpec(NS, "p")).toEqual({
      policyName: "p",
      validationActions: ["Deny"],
      matchResources: {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "web-prod" } },
      },
    });
  });

  test("host expressions: exact names, wildcards, nothing", () => {
    expect(allowedHostExpression("h", [])).toBe("false");
    // One operand even for one term: `!` before it must negate the membership, not `h`.
    expect(allowedHostExpression("h", ["a.example.com"])).toBe("(h in ['a.example.com'])");
    expect(allowedHostExpression("h", ["*.a.com", "*.b.org"])).toBe(
      "(h in ['*.a.com', '*.b.org'] || h.matches('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\\\.(a\\\\.com|b\\\\.org)$'))",
    );
    expect(hostAllowedBy("*.a.com", "x.a.com")).toBe(true);
    expect(hostAllowedBy("*.a.com", "x.y.a.com")).toBe(false);
    expect(hostAllowedBy("*.a.com", "a.com")).toBe(false);
    expect(hostAllowedBy("x.a.com", "x.a.com")).toBe(true);
    expect(hostAllowedBy("x.a.com", "*.a.com")).toBe(false);
  });
});

describe("what the CEL admits", () => {
  test.each([
    [
      "the configured host with TLS",
      {
        rules: [rule("web.example.com")],
        tls: [{ hosts: ["web.example.com"], secretName: "web-tls" }],
      },
    ],
    ["a review app under the wildcard", { rules: [rule("mr-7-fix.review.example.com")] }],
    ["the wildcard host itself", { rules: [rule("*.review.example.com")] }],
    ["no rules and no default backend (routes nothing)", {}],
    [
      "a TLS entry without hosts",
      { rules: [rule("web.example.com")], tls: [{ secretName: "web-tls" }] },
    ],
  ])("Ingress: %s", (_title, spec) => {
    expect(denials(HOSTS, "ingresses", ingress(spec))).toEqual([]);
  });

  test.each([
    ["ClusterIP", { type: "ClusterIP" }],
    ["no type (ClusterIP by default)", {}],
    ["headless", { clusterIP: "None" }],
    ["an empty externalIPs", { externalIPs: [] }],
    ["ExternalName", { type: "ExternalName", externalName: "db.example.com" }],
  ])("Service: %s", (_title, spec) => {
    expect(denials(HOSTS, "services", service(spec))).toEqual([]);
  });

  test("external Services where the app's config allows them", () => {
    const open = { ...HOSTS, allowExternalServices: true };
    expect(
      denials(open, "services", service({ type: "LoadBalancer", externalIPs: ["203.0.113.9"] })),
    ).toEqual([]);
  });

  test("an Ingress does not trip the Service checks, nor a Service the Ingress ones", () => {
    // A Service has no spec.rules: the Ingress checks must not touch it (and the reverse).
    expect(denials({ ingressHosts: [] }, "services", service({}))).toEqual([]);
    expect(denials(HOSTS, "ingresses", ingress({ rules: [rule("web.example.com")] }))).toEqual([]);
  });
});

describe("what the CEL refuses, and the messages", () => {
  test("another app's host, and a rule without a host (every host)", () => {
    expect(
      denials(
        HOSTS,
        "ingresses",
        ingress({ rules: [rule("web.example.com"), rule("api.example.com"), rule()] }),
      ),
    ).toEqual([`${MAY}; got spec.rules[].host api.example.com, (none: every host)`]);
  });

  test("wildcards admit one label only, under their own domain", () => {
    expect(
      denials(
        HOSTS,
        "ingresses",
        ingress({
          rules: [
            rule("a.b.review.example.com"),
            rule("review.example.com"),
            rule("x.review.example.com.evil.org"),
            rule("*.example.com"),
          ],
        }),
      ),
    ).toEqual([
      `${MAY}; got spec.rules[].host a.b.review.example.com, review.example.com, x.review.example.com.evil.org, *.example.com`,
    ]);
  });

  test("a TLS host the app does not own", () => {
    expect(
      denials(
        HOSTS,
        "ingresses",
        ingress({
          rules: [rule("web.example.com")],
          tls: [{ hosts: ["web.example.com", "api.example.com"] }, { hosts: ["pay.example.com"] }],
        }),
      ),
    ).toEqual([`${MAY}; got spec.tls[].hosts api.example.com, pay.example.com`]);
  });

  test("a default backend", () => {
    expect(
      denials(HOSTS, "ingresses", ingress({ defaultBackend: { service: { name: "web" } } })),
    ).toEqual([`${MAY}; spec.defaultBackend is not allowed: it serves every host no rule names`]);
  });

  test("no configured host: every Ingress host is refused", () => {
    expect(
      denials({ ingressHosts: [] }, "ingresses", ingress({ rules: [rule("web.example.com")] })),
    ).toEqual([`${NONE}; got spec.rules[].host web.example.com`]);
  });

  test.each([
    [
      "LoadBalancer",
      { type: "LoadBalancer" },
      [`${INSIDE}: expected type ClusterIP, got LoadBalancer`],
    ],
    ["NodePort", { type: "NodePort" }, [`${INSIDE}: expected type ClusterIP, got NodePort`]],
    [
      "externalIPs on a ClusterIP Service",
      { type: "ClusterIP", externalIPs: ["203.0.113.9", "203.0.113.10"] },
      [`${INSIDE}: expected no spec.externalIPs, got 203.0.113.9, 203.0.113.10`],
    ],
    [
      "both",
      { type: "NodePort", externalIPs: ["203.0.113.9"] },
      [
        `${INSIDE}: expected type ClusterIP, got NodePort`,
        `${INSIDE}: expected no spec.externalIPs, got 203.0.113.9`,
      ],
    ],
  ])("Service: %s", (_title, spec, expected) => {
    expect(denials(HOSTS, "services", service(spec))).toEqual(expected);
  });
});

describe("AppNamespace registers the guard", () => {
  const args = (overrides: Partial<AppNamespaceArgs> = {}): AppNamespaceArgs => ({
    app: "web",
    namespace: NS,
    method: "flux",
    deployer: { kind: "flux" },
    ...overrides,
  });
  const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
  const BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";

  test("a policy and a binding named after the namespace, schema-valid", async () => {
    const { resources } = await record(
      (provider) => new AppNamespace("web", args({ exposure: HOSTS }), { provider }),
    );
    const labels = {
      "app.kubernetes.io/managed-by": "pulumi",
      "app.kubernetes.io/part-of": "gitlab-cd-platform",
      "app.kubernetes.io/component": "admission",
      "app.kubernetes.io/instance": "web",
    };
    expect(resources.find(VAP, "web-admission").inputs).toEqual({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: "web-prod.tenant-guard.gitlab-cd-platform", labels },
      spec: admissionPolicySpec(NS, HOSTS),
    });
    expect(resources.find(BINDING, "web-admission").inputs).toEqual({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: "web-prod.tenant-guard.gitlab-cd-platform", labels },
      spec: admissionBindingSpec(NS, "web-prod.tenant-guard.gitlab-cd-platform"),
    });
  });

  test("none without an exposure", async () => {
    const { resources } = await record((provider) => new AppNamespace("web", args(), { provider }));
    expect(resources.ofType(VAP)).toEqual([]);
    expect(resources.ofType(BINDING)).toEqual([]);
  });

  test("a malformed host is refused before anything is registered", () => {
    expect(
      () =>
        new AppNamespace("web", args({ exposure: { ingressHosts: ["Web.example.com", "*."] } })),
    ).toThrow(
      [
        'AppNamespace "web": exposure.ingressHosts[0]: expected a lowercase host name or *.<domain>, got "Web.example.com"',
        'AppNamespace "web": exposure.ingressHosts[1]: expected a lowercase host name or *.<domain>, got "*."',
      ].join("\n"),
    );
  });
});
