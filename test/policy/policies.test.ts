import { DEPLOYER_RULES } from "../../components/app-namespace";
import type { ContainerResources } from "../../components/container-resources";
import { deploymentSpec, serviceSpec } from "../../components/app-deployment";
import {
  FluxApp,
  FluxBootstrapArgs,
  fluxApplierRules,
  gitlabKeylessIdentity,
  ociRepositorySpec,
} from "../../components/flux-bootstrap";
import { podSecurityLabels, standardLabels } from "../../components/labels";
import {
  RUNNER_RBAC_RULES,
  runnerChartValues,
  runnerConfigToml,
} from "../../components/runner-values";
import { TYPES } from "../../policy/kinds";
import { ALLOW_EXTERNAL_SERVICE_ANNOTATION } from "../../policy/workloads";
import { TestResource, UNKNOWN_STRING, validateResource, validateStack } from "./harness";

/**
 * Each policy with resources that pass and resources that fail, built where possible by the
 * components' own pure builders (so a passing case is what the program really declares).
 */

const small: ContainerResources = {
  cpuRequest: "100m",
  cpuLimit: "500m",
  memoryRequest: "128Mi",
  memoryLimit: "256Mi",
};

/** The runner's chart values as GitLabRunner renders them, privileged or not. */
function runnerValues(privileged: boolean): Record<string, unknown> {
  const config = runnerConfigToml({
    namespace: "gitlab-managed-apps",
    jobImage: "alpine:3.22.2",
    privileged,
    pollTimeout: 180,
    resources: { build: small, helper: small, service: small },
    nodeSelector: {},
    tolerations: [],
  });
  return JSON.parse(
    JSON.stringify(
      runnerChartValues({
        gitlabUrl: "https://gitlab.example.com",
        concurrent: 4,
        checkInterval: 30,
        tokenSecretName: "gitlab-runner-token",
        config,
        manager: small,
        runnerId: "101",
        rotation: "1",
        metrics: true,
        podLabels: {},
      }),
    ),
  ) as Record<string, unknown>;
}

function runnerRelease(values: Record<string, unknown>, name = "runner-release"): TestResource {
  return {
    type: TYPES.helmRelease,
    name,
    props: {
      name: "gitlab-runner",
      chart: "gitlab-runner",
      version: "0.89.0",
      namespace: "gitlab-managed-apps",
      values,
    },
  };
}

describe("runner-not-privileged", () => {
  test("the runner as the program renders it passes in production", async () => {
    expect(
      await validateResource("runner-not-privileged", runnerRelease(runnerValues(false)), {
        environment: "production",
      }),
    ).toEqual({ messages: [], urns: [] });
  });

  test("a privileged runner is refused in production", async () => {
    const outcome = await validateResource(
      "runner-not-privileged",
      runnerRelease(runnerValues(true)),
      { environment: "production" },
    );
    expect(outcome.messages).toEqual([
      "values.runners.config: runners[0].kubernetes.privileged: expected false in production, got true",
    ]);
  });

  test("and allowed elsewhere", async () => {
    for (const environment of ["dev", "staging", "review"] as const) {
      const outcome = await validateResource(
        "runner-not-privileged",
        runnerRelease(runnerValues(true)),
        { environment },
      );
      expect([environment, outcome.messages]).toEqual([environment, []]);
    }
  });

  test("without the config file, a stack named production or any unknown name counts as production", async () => {
    for (const stack of ["production", "review-17"]) {
      const outcome = await validateResource(
        "runner-not-privileged",
        runnerRelease(runnerValues(true)),
        { stack },
      );
      expect(outcome.messages).toHaveLength(1);
    }
    const dev = await validateResource("runner-not-privileged", runnerRelease(runnerValues(true)), {
      stack: "dev",
    });
    expect(dev.messages).toEqual([]);
  });

  test("privileged container contexts in config.toml and the chart's legacy key count too", async () => {
    const values = {
      runners: {
        privileged: true,
        config: [
          "[[runners]]",
          "[runners.kubernetes]",
          'namespace = "ci"',
          "[runners.kubernetes.build_container_security_context]",
          "privileged = true",
          "[[runners]]",
          "[runners.kubernetes.service_container_security_context]",
          "privileged = true",
        ].join("\n"),
      },
    };
    const outcome = await validateResource("runner-not-privileged", runnerRelease(values), {
      environment: "production",
    });
    expect(outcome.messages).toEqual([
      "values.runners.privileged: expected false or nothing in production, got true",
      "values.runners.config: runners[0].kubernetes.build_container_security_context.privileged: expected false in production, got true",
      "values.runners.config: runners[1].kubernetes.service_container_security_context.privileged: expected false in production, got true",
    ]);
  });

  test("a config.toml that does not parse is reported, not passed", async () => {
    const outcome = await validateResource(
      "runner-not-privileged",
      runnerRelease({ runners: { config: "[[runners]\nprivileged = true" } }),
      { environment: "production" },
    );
    expect(outcome.messages).toHaveLength(1);
    expect(outcome.messages[0]).toMatch(
      /^values\.runners\.config: expected the runner's config\.toml, got text that is not TOML \(.+\)$/,
    );
  });

  test("other charts are not the runner", async () => {
    const flux = {
      ...runnerRelease(runnerValues(true)),
      props: { chart: "flux2", values: runnerValues(true) },
    };
    expect(
      (await validateResource("runner-not-privileged", flux, { environment: "production" }))
        .messages,
    ).toEqual([]);
  });

  test("a config.toml not known during a preview: Pulumi's advisory can't-run note, no violation", async () => {
    const outcome = await validateResource(
      "runner-not-privileged",
      runnerRelease({ runners: { config: UNKNOWN_STRING } }),
      { environment: "production" },
    );
    expect(outcome).toEqual({
      messages: [],
      urns: [],
      unknown: "string value at .values.runners.config can't be known during preview",
    });
  });
});

describe("runner-rbac-namespaced", () => {
  const binding = (name: string, subjects: unknown[], role = "view"): TestResource => ({
    type: TYPES.clusterRoleBinding,
    name,
    props: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects,
    },
  });

  test("the runner's Role as the program asks for it, and bindings for others, pass", async () => {
    expect(
      await validateStack("runner-rbac-namespaced", [
        runnerRelease(runnerValues(false)),
        binding("flux-view", [{ kind: "ServiceAccount", name: "flux", namespace: "flux-system" }]),
      ]),
    ).toEqual({ messages: [], urns: [] });
    expect((runnerValues(false)["rbac"] as { rules: unknown }).rules).toEqual(RUNNER_RBAC_RULES);
  });

  test("cluster-wide access and rules the chart would widen to * are refused", async () => {
    const values = {
      rbac: {
        create: true,
        clusterWideAccess: true,
        rules: [
          { apiGroups: [""], resources: ["pods"] },
          { apiGroups: ["*"], resources: ["*"], verbs: ["get"] },
          { resources: [], verbs: ["*"] },
        ],
      },
    };
    const outcome = await validateStack("runner-rbac-namespaced", [runnerRelease(values)]);
    expect(outcome.messages).toEqual([
      "values.rbac.clusterWideAccess: expected false (a Role in the runner's namespace), got true",
      'values.rbac.rules[0].verbs: expected named verbs (the chart reads none as "*"), got nothing',
      'values.rbac.rules[1].resources: expected named resources (the chart reads none as "*"), got ["*"]',
      'values.rbac.rules[1].apiGroups: expected named API groups, got ["*"]',
      'values.rbac.rules[2].resources: expected named resources (the chart reads none as "*"), got []',
      'values.rbac.rules[2].verbs: expected named verbs (the chart reads none as "*"), got ["*"]',
    ]);
    expect(outcome.urns).toEqual(
      Array(6).fill(`urn:pulumi:test::platform::${TYPES.helmRelease}::runner-release`),
    );
  });

  test("rbac.create without rules leaves the Role to the chart", async () => {
    const outcome = await validateStack("runner-rbac-namespaced", [
      runnerRelease({ rbac: { create: true, rules: [] } }),
    ]);
    expect(outcome.messages).toEqual([
      "values.rbac.rules: expected the executor's rules, listed (the chart fills in its own otherwise), got []",
    ]);
  });

  test("no ClusterRoleBinding may reach job pods of the runner's namespaces", async () => {
    const values = runnerValues(false);
    const crb = binding(
      "ci-wide",
      [
        { kind: "ServiceAccount", name: "default", namespace: "gitlab-managed-apps" },
        { kind: "ServiceAccount", name: "flux", namespace: "flux-system" },
        { kind: "Group", name: "system:serviceaccounts:gitlab-managed-apps" },
        { kind: "Group", name: "system:authenticated" },
        { kind: "User", name: "system:serviceaccount:gitlab-managed-apps:builder" },
      ],
      "edit",
    );
    const outcome = await validateStack("runner-rbac-namespaced", [runnerRelease(values), crb]);
    const tail = 'bound to ClusterRole "edit" by ClusterRoleBinding "ci-wide"';
    const expected =
      "expected no cluster-wide grant to identities of the runner's job pods (namespace gitlab-managed-apps), got";
    expect(outcome.messages).toEqual([
      `subjects[0]: ${expected} ServiceAccount gitlab-managed-apps/default ${tail}`,
      `subjects[2]: ${expected} Group system:serviceaccounts:gitlab-managed-apps ${tail}`,
      `subjects[3]: ${expected} Group system:authenticated ${tail}`,
      `subjects[4]: ${expected} User system:serviceaccount:gitlab-managed-apps:builder ${tail}`,
    ]);
    expect(new Set(outcome.urns)).toEqual(
      new Set([`urn:pulumi:test::platform::${TYPES.clusterRoleBinding}::ci-wide`]),
    );
  });

  test("config.toml's job namespace counts as well as the release's", async () => {
    const values = {
      runners: { config: '[[runners]]\n[runners.kubernetes]\nnamespace = "ci-jobs"\n' },
    };
    const crb = binding("jobs", [
      { kind: "ServiceAccount", name: "default", namespace: "ci-jobs" },
    ]);
    const outcome = await validateStack("runner-rbac-namespaced", [runnerRelease(values), crb]);
    expect(outcome.messages).toEqual([
      'subjects[0]: expected no cluster-wide grant to identities of the runner\'s job pods (namespace gitlab-managed-apps, ci-jobs), got ServiceAccount ci-jobs/default bound to ClusterRole "view" by ClusterRoleBinding "jobs"',
    ]);
  });

  test("without a runner there are no job pods to protect", async () => {
    const crb = binding("all", [{ kind: "Group", name: "system:authenticated" }]);
    expect((await validateStack("runner-rbac-namespaced", [crb])).messages).toEqual([]);
  });
});

describe("credential-variables-masked-protected", () => {
  const variable = (
    props: Record<string, unknown>,
    type: string = TYPES.projectVariable,
  ): TestResource => ({
    type,
    props: { project: "acme/web", environmentScope: "staging", variableType: "env_var", ...props },
  });

  test("what the platform publishes and plain config variables pass in staging and production", async () => {
    for (const environment of ["staging", "production"] as const) {
      for (const props of [
        { key: "KUBE_TOKEN", masked: true, protected: true },
        { key: "KUBECONFIG", masked: false, protected: true, variableType: "file" },
        { key: "KUBE_NAMESPACE", masked: false, protected: false },
        { key: "LOG_LEVEL", masked: false, protected: false },
      ]) {
        const outcome = await validateResource(
          "credential-variables-masked-protected",
          variable(props),
          { environment },
        );
        expect([environment, props.key, outcome.messages]).toEqual([environment, props.key, []]);
      }
    }
  });

  test("an unprotected deployer token is refused in staging", async () => {
    const outcome = await validateResource(
      "credential-variables-masked-protected",
      variable({ key: "KUBE_TOKEN", masked: true, protected: false }),
      { environment: "staging" },
    );
    expect(outcome.messages).toEqual([
      'KUBE_TOKEN (environment scope "staging"): protected: expected true for a credential in staging (the deployer token the platform publishes), got false',
    ]);
  });

  test.each([
    [
      { key: "DB_PASSWORD", masked: false, protected: false, environmentScope: "*" },
      [
        'DB_PASSWORD (environment scope "*"): masked: expected true for a credential in production (its key names a credential), got false',
        'DB_PASSWORD (environment scope "*"): protected: expected true for a credential in production (its key names a credential), got false',
      ],
    ],
    [
      { key: "SENTRY_DSN", masked: true },
      [
        'SENTRY_DSN (environment scope "staging"): protected: expected true for a credential in production (its value is masked), got nothing',
      ],
    ],
    [
      { key: "DOCKER_AUTH_CONFIG", masked: false, protected: true },
      [
        'DOCKER_AUTH_CONFIG (environment scope "staging"): masked: expected true for a credential in production (its key names a credential), got false',
      ],
    ],
  ])("production refuses %j", async (props, messages) => {
    const outcome = await validateResource(
      "credential-variables-masked-protected",
      variable(props),
      {
        environment: "production",
      },
    );
    expect(outcome.messages).toEqual(messages);
  });

  test("group variables, hidden ones too", async () => {
    const outcome = await validateResource(
      "credential-variables-masked-protected",
      variable(
        { group: "acme", key: "REGISTRY_KEY", hidden: true, masked: true, protected: false },
        TYPES.groupVariable,
      ),
      { environment: "staging" },
    );
    expect(outcome.messages).toEqual([
      'REGISTRY_KEY (environment scope "staging"): protected: expected true for a credential in staging (its value is hidden), got false',
    ]);
  });

  test("dev and review stacks may publish unprotected credentials (review apps deploy from branches)", async () => {
    for (const environment of ["dev", "review"] as const) {
      const outcome = await validateResource(
        "credential-variables-masked-protected",
        variable({ key: "KUBE_TOKEN", masked: true, protected: false }),
        { environment },
      );
      expect(outcome.messages).toEqual([]);
    }
  });
});

describe("no-plaintext-credentials", () => {
  const TOKEN = "glrt-t3_AbCdEfGhIjKlMnOpQr";
  const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJl";

  test("variables and token-issuing resources keep the credential in a secret output", async () => {
    const variable: TestResource = {
      type: TYPES.projectVariable,
      props: { key: "KUBE_TOKEN", value: JWT, masked: true, protected: true },
      opts: { additionalSecretOutputs: ["value"] },
    };
    expect((await validateResource("no-plaintext-credentials", variable)).messages).toEqual([]);
    const plain = await validateResource("no-plaintext-credentials", { ...variable, opts: {} });
    expect(plain.messages).toEqual([
      'value: expected a secret output (additionalSecretOutputs: ["value"]), got a plaintext one: the state would hold the credential unencrypted',
    ]);
    for (const type of [
      TYPES.userRunner,
      TYPES.clusterAgentToken,
      TYPES.projectDeployToken,
      TYPES.groupDeployToken,
    ]) {
      const issued = await validateResource("no-plaintext-credentials", {
        type,
        props: { description: "runner" },
      });
      expect([type, issued.messages]).toEqual([
        type,
        [
          'token: expected a secret output (additionalSecretOutputs: ["token"]), got a plaintext one: the state would hold the credential unencrypted',
        ],
      ]);
      const secret = await validateResource("no-plaintext-credentials", {
        type,
        props: { description: "runner" },
        opts: { additionalSecretOutputs: ["token"] },
      });
      expect(secret.messages).toEqual([]);
    }
  });

  test("the dynamic resources' provider is not checked: its inputs are the stack's config, secrets included", async () => {
    // What the real engine registers for the GitLab resources, with the (secret) token unwrapped.
    const provider: TestResource = {
      type: TYPES.dynamicProvider,
      props: { "gitlab:baseUrl": "https://gitlab.example.com", "gitlab:token": `glpat-${TOKEN}` },
    };
    expect((await validateResource("no-plaintext-credentials", provider)).messages).toEqual([]);
    const kubernetes = await validateResource("no-plaintext-credentials", {
      ...provider,
      type: "pulumi:providers:kubernetes",
    });
    expect(kubernetes.messages).toEqual([
      '["gitlab:token"]: expected no credential in a plaintext input, got a GitLab token: keep it in a Secret and pass the Secret\'s name',
    ]);
  });

  test("a Secret's data holds credentials; its metadata may not", async () => {
    const secret: TestResource = {
      type: TYPES.secret,
      props: {
        metadata: { name: "gitlab-runner-token", annotations: { "example.com/token": TOKEN } },
        stringData: { "runner-token": TOKEN },
        data: { token: Buffer.from(JWT).toString("base64"), jwt: JWT },
      },
    };
    expect((await validateResource("no-plaintext-credentials", secret)).messages).toEqual([
      'metadata.annotations["example.com/token"]: expected no credential in a plaintext input, got a GitLab token: keep it in a Secret and pass the Secret\'s name',
    ]);
  });

  test("tokens, JWTs and private keys in Helm values and ConfigMaps are refused", async () => {
    const release: TestResource = {
      type: TYPES.helmRelease,
      props: {
        chart: "gitlab-agent",
        values: {
          config: { token: "glagent-AbCdEfGhIjKlMnOp" },
          extraEnv: [{ name: "GITLAB_TOKEN", value: "glpat-AbCdEfGhIjKlMnOp" }],
          runners: { config: `[[runners]]\ntoken = "${TOKEN}"` },
        },
      },
    };
    expect((await validateResource("no-plaintext-credentials", release)).messages).toEqual([
      "values.config.token: expected no credential in a plaintext input, got a GitLab token: keep it in a Secret and pass the Secret's name",
      "values.extraEnv[0].value: expected no credential in a plaintext input, got a GitLab token: keep it in a Secret and pass the Secret's name",
      "values.runners.config: expected no credential in a plaintext input, got a GitLab token: keep it in a Secret and pass the Secret's name",
    ]);
    const configMap: TestResource = {
      type: "kubernetes:core/v1:ConfigMap",
      props: {
        data: {
          "kubeconfig.yaml": `users:\n- user:\n    token: ${JWT}\n`,
          "tls.key": "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----",
        },
      },
    };
    expect((await validateResource("no-plaintext-credentials", configMap)).messages).toEqual([
      'data["kubeconfig.yaml"]: expected no credential in a plaintext input, got a JSON Web Token: keep it in a Secret and pass the Secret\'s name',
      'data["tls.key"]: expected no credential in a plaintext input, got a PEM private key: keep it in a Secret and pass the Secret\'s name',
    ]);
  });

  test("prose about tokens and the runner's own values are not credentials", async () => {
    const release = runnerRelease(runnerValues(false));
    expect((await validateResource("no-plaintext-credentials", release)).messages).toEqual([]);
    const note: TestResource = {
      type: TYPES.helmRelease,
      props: {
        chart: "x",
        values: { note: "the runner authentication token (glrt-…) lives in a Secret" },
      },
    };
    expect((await validateResource("no-plaintext-credentials", note)).messages).toEqual([]);
  });

  test("values unknown during a preview are skipped, what is known is still checked", async () => {
    const outcome = await validateResource("no-plaintext-credentials", {
      type: TYPES.helmRelease,
      props: { chart: "x", values: { a: UNKNOWN_STRING, b: TOKEN } },
    });
    expect(outcome).toEqual({
      messages: [
        "values.b: expected no credential in a plaintext input, got a GitLab token: keep it in a Secret and pass the Secret's name",
      ],
      urns: [undefined],
      unknown: "string value at .values.a can't be known during preview",
    });
  });
});

describe("containers-restricted and containers-requests-limits", () => {
  const web = deploymentSpec({
    app: "web",
    environment: "production",
    serviceAccountName: "web",
    image: { repository: "registry.example.com/acme/web", tag: "1.0.0" },
    port: 8080,
    replicas: 2,
    resources: {
      cpuRequest: "100m",
      cpuLimit: "500m",
      memoryRequest: "128Mi",
      memoryLimit: "256Mi",
    },
  });

  test("the Deployment AppDeployment declares passes both", async () => {
    const deployment: TestResource = { type: TYPES.deployment, props: { spec: web } };
    expect((await validateResource("containers-restricted", deployment)).messages).toEqual([]);
    expect((await validateResource("containers-requests-limits", deployment)).messages).toEqual([]);
  });

  test("a bare container in a Deployment, CronJob or Pod is named by its full path", async () => {
    const container = { name: "job", image: "alpine:3.22.2" };
    const cases: [string, Record<string, unknown>, string][] = [
      [
        TYPES.deployment,
        { spec: { template: { spec: { containers: [container] } } } },
        "spec.template.spec",
      ],
      [
        TYPES.statefulSet,
        { spec: { template: { spec: { containers: [container] } } } },
        "spec.template.spec",
      ],
      [
        TYPES.daemonSet,
        { spec: { template: { spec: { containers: [container] } } } },
        "spec.template.spec",
      ],
      [
        TYPES.job,
        { spec: { template: { spec: { containers: [container] } } } },
        "spec.template.spec",
      ],
      [
        TYPES.cronJob,
        { spec: { jobTemplate: { spec: { template: { spec: { containers: [container] } } } } } },
        "spec.jobTemplate.spec.template.spec",
      ],
      [TYPES.pod, { spec: { containers: [container] } }, "spec"],
    ];
    for (const [type, props, path] of cases) {
      const restricted = await validateResource("containers-restricted", { type, props });
      expect([type, restricted.messages]).toEqual([
        type,
        [
          `${path}.containers[0] (job): securityContext.runAsNonRoot: expected true in the container's or the pod's securityContext, got nothing`,
          `${path}.containers[0] (job): securityContext.seccompProfile.type: expected "RuntimeDefault" in the container's or the pod's securityContext, got nothing`,
          `${path}.containers[0] (job): securityContext.allowPrivilegeEscalation: expected false, got nothing`,
          `${path}.containers[0] (job): securityContext.capabilities.drop: expected a list with "ALL", got nothing`,
        ],
      ]);
      const resources = await validateResource("containers-requests-limits", { type, props });
      expect([type, resources.messages]).toEqual([
        type,
        ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"].map(
          (field) =>
            `${path}.containers[0] (job): resources.${field}: expected a quantity, got nothing`,
        ),
      ]);
    }
  });

  test("other kinds carry no pod spec", async () => {
    const service: TestResource = { type: TYPES.service, props: { spec: serviceSpec("web") } };
    expect((await validateResource("containers-restricted", service)).messages).toEqual([]);
  });
});

describe("no-cluster-admin-binding", () => {
  const binding = (type: string, roleRef: Record<string, string>): TestResource => ({
    type,
    props: {
      metadata: { name: "b", namespace: "acme-web" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", ...roleRef },
      subjects: [
        { kind: "ServiceAccount", name: "web-deployer", namespace: "acme-web" },
        { kind: "Group", name: "gitlab:project:2001" },
      ],
    },
  });

  test("bindings to cluster-admin are refused, cluster-wide or in a namespace", async () => {
    for (const type of [TYPES.clusterRoleBinding, TYPES.roleBinding]) {
      const outcome = await validateResource(
        "no-cluster-admin-binding",
        binding(type, { kind: "ClusterRole", name: "cluster-admin" }),
      );
      expect([type, outcome.messages]).toEqual([
        type,
        [
          'roleRef: expected a role narrower than ClusterRole "cluster-admin", got ClusterRole "cluster-admin" (for ServiceAccount acme-web/web-deployer, Group gitlab:project:2001)',
        ],
      ]);
    }
  });

  test("bindings to the deployer Role or another ClusterRole pass", async () => {
    for (const roleRef of [
      { kind: "Role", name: "deployer" },
      { kind: "ClusterRole", name: "view" },
      { kind: "Role", name: "cluster-admin" },
    ]) {
      const outcome = await validateResource(
        "no-cluster-admin-binding",
        binding(TYPES.roleBinding, roleRef),
      );
      expect([roleRef, outcome.messages]).toEqual([roleRef, []]);
    }
  });
});

describe("no-wildcard-rbac", () => {
  test("the platform's Roles pass; * verbs on named resources or named verbs on * pass", async () => {
    for (const rules of [
      [...DEPLOYER_RULES],
      fluxApplierRules(),
      [{ apiGroups: [""], resources: ["pods"], verbs: ["*"] }],
      [{ apiGroups: [""], resources: ["*"], verbs: ["get", "list"] }],
    ]) {
      const outcome = await validateResource("no-wildcard-rbac", {
        type: TYPES.role,
        props: { rules },
      });
      expect(outcome.messages).toEqual([]);
    }
  });

  test('"*" verbs on "*" resources are refused in Roles and ClusterRoles', async () => {
    for (const type of [TYPES.role, TYPES.clusterRole]) {
      const outcome = await validateResource("no-wildcard-rbac", {
        type,
        props: {
          rules: [
            { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
            { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
            { resources: ["*"], verbs: ["*"] },
          ],
        },
      });
      expect(outcome.messages).toEqual([
        'rules[1]: expected named verbs or named resources, got "*" verbs on "*" resources (API groups ["*"])',
        'rules[2]: expected named verbs or named resources, got "*" verbs on "*" resources (API groups [])',
      ]);
    }
  });
});

describe("no-external-services", () => {
  const service = (spec: object, annotations?: Record<string, string>): TestResource => ({
    type: TYPES.service,
    props: { metadata: { name: "web", namespace: "acme-web", annotations }, spec },
  });
  const allowed = `(or the annotation ${ALLOW_EXTERNAL_SERVICE_ANNOTATION}: "true", which the program sets when the app's config allows an external Service)`;

  test("the app's ClusterIP Service passes", async () => {
    expect(
      (await validateResource("no-external-services", service(serviceSpec("web")))).messages,
    ).toEqual([]);
  });

  test("LoadBalancer, NodePort and externalIPs are refused", async () => {
    const lb = await validateResource("no-external-services", service({ type: "LoadBalancer" }));
    expect(lb.messages).toEqual([`spec.type: expected ClusterIP ${allowed}, got "LoadBalancer"`]);
    const np = await validateResource(
      "no-external-services",
      service(
        { type: "NodePort", externalIPs: ["203.0.113.7"] },
        { [ALLOW_EXTERNAL_SERVICE_ANNOTATION]: "yes" },
      ),
    );
    expect(np.messages).toEqual([
      `spec.type: expected ClusterIP ${allowed}, got "NodePort"`,
      `spec.externalIPs: expected none ${allowed}, got ["203.0.113.7"]`,
    ]);
  });

  test('the annotation "true" allows them', async () => {
    expect(ALLOW_EXTERNAL_SERVICE_ANNOTATION).toBe("gitlab-cd-platform/allow-external-service");
    const outcome = await validateResource(
      "no-external-services",
      service({ type: "LoadBalancer" }, { [ALLOW_EXTERNAL_SERVICE_ANNOTATION]: "true" }),
    );
    expect(outcome.messages).toEqual([]);
  });
});

describe("helm-charts-pinned", () => {
  const release = (
    props: Record<string, unknown>,
    type: string = TYPES.helmRelease,
  ): TestResource => ({
    type,
    props: { chart: "gitlab-agent", ...props },
  });

  test("exact versions pass, and local chart directories need none", async () => {
    for (const props of [
      { version: "2.6.2" },
      { version: "1.0.0-rc.1" },
      { chart: "./charts/web" },
    ]) {
      const outcome = await validateResource("helm-charts-pinned", release(props));
      expect([props, outcome.messages]).toEqual([props, []]);
    }
  });

  test.each([
    [
      {},
      'version: expected an exact chart version such as "1.2.3" for chart "gitlab-agent", got nothing',
    ],
    [
      { version: "" },
      'version: expected an exact chart version such as "1.2.3" for chart "gitlab-agent", got nothing',
    ],
    [
      { version: "^2.6" },
      'version: expected an exact chart version such as "1.2.3" for chart "gitlab-agent", got "^2.6"',
    ],
    [
      { version: "2.x" },
      'version: expected an exact chart version such as "1.2.3" for chart "gitlab-agent", got "2.x"',
    ],
  ])("a Release with %j is refused", async (props, message) => {
    expect((await validateResource("helm-charts-pinned", release(props))).messages).toEqual([
      message,
    ]);
  });

  test("helm.sh/v4 Charts too", async () => {
    const outcome = await validateResource(
      "helm-charts-pinned",
      release({ chart: "oci://ghcr.io/acme/charts/web", version: ">=1.0.0" }, TYPES.helmChart),
    );
    expect(outcome.messages).toEqual([
      'version: expected an exact chart version such as "1.2.3" for chart "oci://ghcr.io/acme/charts/web", got ">=1.0.0"',
    ]);
  });
});

describe("flux-sources-pinned and flux-production-digest", () => {
  const OCI = "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository";
  const GIT = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository";
  const DIGEST = `sha256:${"ab".repeat(32)}`;
  const fluxArgs = (environment: string): FluxBootstrapArgs => ({
    chartVersion: "2.18.3",
    interval: "1m",
    environment,
    apps: [],
  });
  /** The OCIRepository FluxBootstrap declares for an app in `environment`. */
  const appSource = (environment: string): TestResource => ({
    type: OCI,
    props: {
      spec: ociRepositorySpec(
        {
          name: "web",
          namespace: "acme-web",
          artifactUrl: "oci://registry.example.com/acme/web/manifests",
        },
        fluxArgs(environment),
      ),
    },
  });

  test("the program's sources follow the environment's tag: pinned", async () => {
    expect((await validateResource("flux-sources-pinned", appSource("staging"))).messages).toEqual(
      [],
    );
  });

  test("sources without a pin are refused", async () => {
    const oci = await validateResource("flux-sources-pinned", {
      type: OCI,
      props: { spec: { url: "oci://x" } },
    });
    expect(oci.messages).toEqual([
      'spec.ref: expected a tag, semver or digest, got nothing (Flux would follow "latest")',
    ]);
    const branch = await validateResource("flux-sources-pinned", {
      type: GIT,
      props: { spec: { ref: { branch: "main" } } },
    });
    expect(branch.messages).toEqual([
      'spec.ref: expected a tag, semver or commit, got the moving ref "main"',
    ]);
    const none = await validateResource("flux-sources-pinned", { type: GIT, props: { spec: {} } });
    expect(none.messages).toEqual([
      "spec.ref: expected a tag, semver or commit, got nothing (Flux would follow the default branch)",
    ]);
    const commit = await validateResource("flux-sources-pinned", {
      type: GIT,
      props: { spec: { ref: { branch: "main", commit: "0123abc" } } },
    });
    expect(commit.messages).toEqual([]);
  });

  test("production's tag-following source is what flux-production-digest reports", async () => {
    const outcome = await validateResource("flux-production-digest", appSource("production"), {
      environment: "production",
    });
    expect(outcome.messages).toEqual([
      'spec.ref.digest: expected a digest in production (whoever can push to the registry can move a tag), got tag "production"',
    ]);
    const git = await validateResource(
      "flux-production-digest",
      { type: GIT, props: { spec: { ref: { tag: "v1.2.3" } } } },
      { environment: "production" },
    );
    expect(git.messages).toEqual([
      'spec.ref.commit: expected a commit in production (whoever can push to the repository can move a branch or tag), got tag "v1.2.3"',
    ]);
  });

  test("a digest passes in production; other environments may follow tags", async () => {
    const digest = { type: OCI, props: { spec: { ref: { digest: DIGEST } } } };
    expect(
      (await validateResource("flux-production-digest", digest, { environment: "production" }))
        .messages,
    ).toEqual([]);
    expect(
      (
        await validateResource("flux-production-digest", appSource("staging"), {
          environment: "staging",
        })
      ).messages,
    ).toEqual([]);
  });
});

describe("flux-production-verified", () => {
  const OCI = "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository";
  const source = (verify: FluxApp["verify"]): TestResource => ({
    type: OCI,
    props: {
      spec: ociRepositorySpec(
        {
          name: "web",
          namespace: "acme-web",
          artifactUrl: "oci://registry.example.com/acme/web/manifests",
          digest: `sha256:${"ab".repeat(32)}`,
          ...(verify === undefined ? {} : { verify }),
        },
        { chartVersion: "2.18.3", interval: "1m", environment: "production", apps: [] },
      ),
    },
  });
  const production = { environment: "production" } as const;

  test("the program's keyless and public-key sources pass in production", async () => {
    const keyless = gitlabKeylessIdentity("https://gitlab.example.com", "acme/web", "main", ["v*"]);
    expect(
      (await validateResource("flux-production-verified", source(keyless), production)).messages,
    ).toEqual([]);
    const key = { publicKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" };
    expect(
      (await validateResource("flux-production-verified", source(key), production)).messages,
    ).toEqual([]);
  });

  test("an unverified production source is refused; other environments are not checked", async () => {
    expect(
      (await validateResource("flux-production-verified", source(undefined), production)).messages,
    ).toEqual([
      "spec.verify: expected provider cosign with a secretRef or matchOIDCIdentity in production (whoever can push to the registry could otherwise ship what Flux applies), got null",
    ]);
    const providerOnly: TestResource = {
      type: OCI,
      props: { spec: { ref: { tag: "x" }, verify: { provider: "cosign" } } },
    };
    expect(
      (await validateResource("flux-production-verified", providerOnly, production)).messages,
    ).toEqual([
      'spec.verify: expected provider cosign with a secretRef or matchOIDCIdentity in production (whoever can push to the registry could otherwise ship what Flux applies), got {"provider":"cosign"}',
    ]);
    expect(
      (
        await validateResource("flux-production-verified", source(undefined), {
          environment: "staging",
        })
      ).messages,
    ).toEqual([]);
  });
});

describe("namespaces-pod-security", () => {
  const namespace = (labels: Record<string, string>): TestResource => ({
    type: TYPES.namespace,
    props: { metadata: { name: "acme-web", labels } },
  });

  test("the platform's namespaces pass, a privileged one outside production too", async () => {
    for (const level of ["restricted", "baseline"] as const) {
      const outcome = await validateResource(
        "namespaces-pod-security",
        namespace(podSecurityLabels(level)),
        {
          environment: "production",
        },
      );
      expect(outcome.messages).toEqual([]);
    }
    const dev = await validateResource(
      "namespaces-pod-security",
      namespace(podSecurityLabels("privileged")),
      {
        environment: "dev",
      },
    );
    expect(dev.messages).toEqual([]);
  });

  test("no level, an unknown one, or privileged in production are refused", async () => {
    const none = await validateResource(
      "namespaces-pod-security",
      namespace(standardLabels("app")),
    );
    expect(none.messages).toEqual([
      'metadata.labels["pod-security.kubernetes.io/enforce"]: expected "restricted", "baseline" or "privileged", got nothing',
    ]);
    const odd = await validateResource(
      "namespaces-pod-security",
      namespace({ "pod-security.kubernetes.io/enforce": "strict" }),
    );
    expect(odd.messages).toEqual([
      'metadata.labels["pod-security.kubernetes.io/enforce"]: expected "restricted", "baseline" or "privileged", got "strict"',
    ]);
    const prod = await validateResource(
      "namespaces-pod-security",
      namespace(podSecurityLabels("privileged")),
      {
        environment: "production",
      },
    );
    expect(prod.messages).toEqual([
      'metadata.labels["pod-security.kubernetes.io/enforce"]: expected "restricted" or "baseline" in production, got "privileged"',
    ]);
  });
});

describe("app-namespaces-default-deny", () => {
  const appNamespace: TestResource = {
    type: TYPES.namespace,
    name: "app-web-namespace",
    props: {
      metadata: {
        name: "acme-web",
        labels: { ...standardLabels("app"), ...podSecurityLabels("restricted") },
      },
    },
  };
  const runnerNamespace: TestResource = {
    type: TYPES.namespace,
    name: "managed",
    props: {
      metadata: { name: "gitlab-managed-apps", labels: standardLabels("gitlab-managed-apps") },
    },
  };
  const policy = (spec: Record<string, unknown>, namespace = "acme-web"): TestResource => ({
    type: TYPES.networkPolicy,
    props: { metadata: { name: "default-deny", namespace }, spec },
  });
  const DENY = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
  const missing =
    'namespace "acme-web": expected a NetworkPolicy selecting every pod (podSelector: {}) with policyTypes Ingress and Egress, got none';

  test("an app namespace with a default deny passes; platform namespaces are not app namespaces", async () => {
    expect(
      await validateStack("app-namespaces-default-deny", [
        appNamespace,
        runnerNamespace,
        policy(DENY),
      ]),
    ).toEqual({ messages: [], urns: [] });
    expect(
      (
        await validateStack("app-namespaces-default-deny", [
          appNamespace,
          policy({
            podSelector: { matchLabels: {} },
            policyTypes: ["Egress", "Ingress"],
            ingress: [{}],
          }),
        ])
      ).messages,
    ).toEqual([]);
  });

  test.each<[string, TestResource[]]>([
    ["no NetworkPolicy", []],
    [
      "one for some pods only",
      [
        policy({
          podSelector: { matchLabels: { app: "web" } },
          policyTypes: ["Ingress", "Egress"],
        }),
      ],
    ],
    ["one for ingress only", [policy({ podSelector: {}, policyTypes: ["Ingress"] })]],
    ["a default deny in another namespace", [policy(DENY, "acme-api")]],
  ])("%s: reported against the namespace", async (_case, extra) => {
    const outcome = await validateStack("app-namespaces-default-deny", [
      appNamespace,
      runnerNamespace,
      ...extra,
    ]);
    expect(outcome.messages).toEqual([missing]);
    expect(outcome.urns).toEqual([
      `urn:pulumi:test::platform::${TYPES.namespace}::app-web-namespace`,
    ]);
  });
});
