import { type CelInput, run } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import {
  AppExposure,
  admissionBindingSpec,
  admissionPolicyName,
  admissionPolicySpecs,
  allowedHostExpression,
  hostAllowedBy,
} from "../../components/app-admission";
import { AppNamespace, AppNamespaceArgs } from "../../components/app-namespace";
import { record } from "../harness/component";

/**
 * The guards of an app namespace: the exact ValidatingAdmissionPolicies (one on Ingresses, one on
 * Services) and their bindings, and what their CEL admits and refuses. The expressions are evaluated with @bufbuild/cel (standard CEL
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

type Spec = {
  matchConstraints: { resourceRules: { resources: string[] }[] };
  validations: Validation[];
};

/** The namespace's policy specs that match `resource`, as the API server picks them. */
function matching(exposure: AppExposure, resource: "ingresses" | "services"): Spec[] {
  return (Object.values(admissionPolicySpecs(NS, exposure)) as Spec[]).filter((spec) =>
    spec.matchConstraints.resourceRules.some((r) => r.resources.includes(resource)),
  );
}

/**
 * The messages of the validations `object` fails in the policies matching `resource`, in order;
 * empty when admitted. Only `object` is bound: a policy matches one kind, so its CEL has no
 * reason to read `request` (an expression that did would fail here).
 */
function denials(
  exposure: AppExposure,
  resource: "ingresses" | "services",
  object: unknown,
): string[] {
  const vars = { object: cel(object) };
  return matching(exposure, resource).flatMap((spec) =>
    spec.validations.flatMap((v) => {
      const ok = run(v.expression, vars, { funcs: strings });
      if (typeof ok !== "boolean") {
        throw new Error(`${v.expression} gave ${String(ok)}`);
      }
      return ok
        ? []
        : [String(run(v.messageExpression ?? `'${v.message ?? ""}'`, vars, { funcs: strings }))];
    }),
  );
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

describe("the policies and their bindings", () => {
  test("names: per namespace and guard, cluster-unique as the namespace is", () => {
    expect(admissionPolicyName("web-review-42", "ingress")).toBe(
      "web-review-42.ingress-guard.gitlab-cd-platform",
    );
    expect(admissionPolicyName("web-review-42", "service")).toBe(
      "web-review-42.service-guard.gitlab-cd-platform",
    );
  });

  test("each matches creates and updates of one kind, failing closed", () => {
    const specs = admissionPolicySpecs(NS, HOSTS);
    expect(Object.keys(specs)).toEqual(["ingress", "service"]);
    const matched = (apiGroup: string, resource: string) => ({
      matchPolicy: "Equivalent",
      resourceRules: [
        {
          apiGroups: [apiGroup],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: [resource],
        },
      ],
    });
    expect(specs.ingress?.failurePolicy).toBe("Fail");
    expect(specs.ingress?.matchConstraints).toEqual(matched("networking.k8s.io", "ingresses"));
    expect(specs.service?.failurePolicy).toBe("Fail");
    expect(specs.service?.matchConstraints).toEqual(matched("", "services"));
  });

  test("the exact validations", () => {
    const allowed = (v: string) =>
      `(${v} in ['web.example.com', '*.review.example.com'] || ${v}.matches('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\\\.(review\\\\.example\\\\.com)$'))`;
    const specs = admissionPolicySpecs(NS, HOSTS);
    expect(specs.ingress?.validations).toEqual([
      {
        expression: "!has(object.spec.defaultBackend)",
        message: `${MAY}; spec.defaultBackend is not allowed: it serves every host no rule names`,
        reason: "Forbidden",
      },
      {
        expression: `!has(object.spec.rules) || object.spec.rules.all(r, has(r.host) && ${allowed("r.host")})`,
        messageExpression: `'${MAY}; got spec.rules[].host ' + object.spec.rules.map(r, has(r.host) ? r.host : '(none: every host)').filter(h, !${allowed("h")}).join(', ')`,
        message: `${MAY} in spec.rules[].host, each rule naming one`,
        reason: "Forbidden",
      },
      {
        expression: `!has(object.spec.tls) || object.spec.tls.all(t, !has(t.hosts) || t.hosts.all(h, ${allowed("h")}))`,
        messageExpression: `'${MAY}; got spec.tls[].hosts ' + object.spec.tls.filter(t, has(t.hosts)).map(t, t.hosts.filter(h, !${allowed("h")}).join(', ')).filter(s, s != '').join(', ')`,
        message: `${MAY} in spec.tls[].hosts`,
        reason: "Forbidden",
      },
    ]);
    expect(specs.service?.validations).toEqual([
      {
        expression: "!has(object.spec.type) || !(object.spec.type in ['LoadBalancer', 'NodePort'])",
        messageExpression: `'${INSIDE}: expected type ClusterIP, got ' + object.spec.type`,
        message: `${INSIDE}: expected type ClusterIP`,
        reason: "Forbidden",
      },
      {
        expression: "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
        messageExpression: `'${INSIDE}: expected no spec.externalIPs, got ' + object.spec.externalIPs.join(', ')`,
        message: `${INSIDE}: expected no spec.externalIPs`,
        reason: "Forbidden",
      },
    ]);
  });

  test("allowing external Services drops the service guard, not the ingress guard", () => {
    const specs = admissionPolicySpecs(NS, { ...HOSTS, allowExternalServices: true });
    expect(Object.keys(specs)).toEqual(["ingress"]);
    expect(specs.ingress).toEqual(admissionPolicySpecs(NS, HOSTS).ingress);
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

  test("a Service is judged by the service guard alone, an Ingress by the ingress guard alone", () => {
    // Ingresses may route no host here, yet a Service passes: the ingress guard does not match it.
    expect(matching({ ingressHosts: [] }, "services")).toHaveLength(1);
    expect(denials({ ingressHosts: [] }, "services", service({}))).toEqual([]);
    expect(matching(HOSTS, "ingresses")).toHaveLength(1);
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

describe("AppNamespace registers the guards", () => {
  const args = (overrides: Partial<AppNamespaceArgs> = {}): AppNamespaceArgs => ({
    app: "web",
    namespace: NS,
    method: "flux",
    deployer: { kind: "flux" },
    ...overrides,
  });
  const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
  const BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";

  const labels = {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/part-of": "gitlab-cd-platform",
    "app.kubernetes.io/component": "admission",
    "app.kubernetes.io/instance": "web",
  };

  test("a policy and a binding per guard, named after the namespace, schema-valid", async () => {
    const { resources } = await record(
      (provider) => new AppNamespace("web", args({ exposure: HOSTS }), { provider }),
    );
    const specs = admissionPolicySpecs(NS, HOSTS);
    for (const guard of ["ingress", "service"] as const) {
      const name = `web-prod.${guard}-guard.gitlab-cd-platform`;
      expect(resources.find(VAP, `web-${guard}-guard`).inputs).toEqual({
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name, labels },
        spec: specs[guard],
      });
      expect(resources.find(BINDING, `web-${guard}-guard`).inputs).toEqual({
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name, labels },
        spec: admissionBindingSpec(NS, name),
      });
    }
    expect(resources.ofType(VAP)).toHaveLength(2);
    expect(resources.ofType(BINDING)).toHaveLength(2);
  });

  test("only the ingress guard where external Services are allowed", async () => {
    const exposure = { ...HOSTS, allowExternalServices: true };
    const { resources } = await record(
      (provider) => new AppNamespace("web", args({ exposure }), { provider }),
    );
    expect(resources.ofType(VAP).map((r) => r.name)).toEqual(["web-ingress-guard"]);
    expect(resources.ofType(BINDING).map((r) => r.name)).toEqual(["web-ingress-guard"]);
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
