import { execFileSync } from "child_process";
import { parse } from "yaml";
import {
  AppDeployer,
  AppNamespace,
  AppNamespaceArgs,
  DEPLOYER_RULES,
} from "../../components/app-namespace";
import {
  deployerKubeconfig,
  execCredentialScript,
  EXEC_CREDENTIAL_API_VERSION,
} from "../../components/kubeconfig";
import { CI_JOB_GROUP, impersonatedAppUser } from "../../components/identities";
import { record, waitForRegistrations } from "../harness/component";
import { installRecorder, isSecret, unwrap } from "../harness/mocks";

const quota = {
  requestsCpu: "1",
  requestsMemory: "1Gi",
  limitsCpu: "2",
  limitsMemory: "2Gi",
  pods: 10,
};
const limitRange = {
  defaultRequestCpu: "50m",
  defaultRequestMemory: "64Mi",
  defaultLimitCpu: "250m",
  defaultLimitMemory: "256Mi",
};

const direct: AppDeployer = {
  kind: "direct",
  apiServer: "https://k8s.example.com:6443",
  clusterName: "prod",
};

function args(overrides: Partial<AppNamespaceArgs> = {}): AppNamespaceArgs {
  return {
    app: "web",
    namespace: "web-prod",
    method: "direct",
    deployer: direct,
    imagePullSecret: "gitlab-registry-auth",
    ...overrides,
  };
}

const T = {
  component: "platform:apps:AppNamespace",
  platformNamespace: "platform:cluster:PlatformNamespace",
  provider: "pulumi:providers:kubernetes",
  namespace: "kubernetes:core/v1:Namespace",
  quota: "kubernetes:core/v1:ResourceQuota",
  limits: "kubernetes:core/v1:LimitRange",
  sa: "kubernetes:core/v1:ServiceAccount",
  secret: "kubernetes:core/v1:Secret",
  role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
  binding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
};

const RULES = [
  {
    apiGroups: ["apps"],
    resources: ["deployments"],
    verbs: ["get", "list", "watch", "patch", "update"],
  },
  { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
  { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
];

const deployerLabels = {
  "app.kubernetes.io/managed-by": "pulumi",
  "app.kubernetes.io/part-of": "gitlab-cd-platform",
  "app.kubernetes.io/component": "deployer",
  "app.kubernetes.io/instance": "web",
};

describe("AppNamespace, direct", () => {
  const build = () =>
    record((provider) => new AppNamespace("web", args({ quota, limitRange }), { provider }));

  test("a new rotation marker is the token Secret's replacement trigger", async () => {
    const { resources } = await record(
      (provider) =>
        new AppNamespace(
          "web",
          args({
            deployer: {
              kind: "direct",
              apiServer: "https://k8s.example.com:6443",
              clusterName: "dev",
              rotation: "2026-11",
            },
          }),
          { provider },
        ),
    );
    expect(resources.find(T.secret, "web-deployer-token").replacementTrigger).toBe("2026-11");
  });

  test("creates the namespace, both ServiceAccounts, the token Secret, the Role and its binding", async () => {
    const { resources } = await build();
    expect(resources.countByType()).toEqual({
      [T.provider]: 1,
      [T.component]: 1,
      [T.platformNamespace]: 1,
      [T.namespace]: 1,
      [T.quota]: 1,
      [T.limits]: 1,
      [T.sa]: 2,
      [T.secret]: 1,
      [T.role]: 1,
      [T.binding]: 1,
    });
    const ns = resources.find(T.namespace, "web-namespace");
    expect(ns.inputs["metadata"]).toEqual({
      name: "web-prod",
      labels: {
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": "gitlab-cd-platform",
        "app.kubernetes.io/component": "app",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      },
    });
    expect(resources.find(T.quota, "web-namespace-quota").inputs["spec"]).toEqual({
      hard: {
        "requests.cpu": "1",
        "requests.memory": "1Gi",
        "limits.cpu": "2",
        "limits.memory": "2Gi",
        pods: "10",
      },
    });
    expect(resources.find(T.limits, "web-namespace-limits").inputs["spec"]).toEqual({
      limits: [
        {
          type: "Container",
          defaultRequest: { cpu: "50m", memory: "64Mi" },
          default: { cpu: "250m", memory: "256Mi" },
        },
      ],
    });
    // Every direct child hangs under the component and uses the caller's provider.
    const component = resources.find(T.component, "web");
    for (const [type, name] of [
      [T.platformNamespace, "web-namespace"],
      [T.sa, "web-sa"],
      [T.sa, "web-deployer-sa"],
      [T.secret, "web-deployer-token"],
      [T.role, "web-deployer-role"],
      [T.binding, "web-deployer-binding"],
    ] as const) {
      expect(resources.find(type, name).parent).toBe(component.urn);
    }
    expect(resources.find(T.role, "web-deployer-role").provider).toContain(
      "pulumi:providers:kubernetes::cluster",
    );
  });

  test("runtime ServiceAccount: named after the app, no token automount, the pull secret listed", async () => {
    const { resources } = await build();
    const sa = resources.find(T.sa, "web-sa");
    expect(sa.inputs).toEqual({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name: "web",
        namespace: "web-prod",
        labels: {
          "app.kubernetes.io/managed-by": "pulumi",
          "app.kubernetes.io/part-of": "gitlab-cd-platform",
          "app.kubernetes.io/component": "app",
          "app.kubernetes.io/instance": "web",
        },
      },
      automountServiceAccountToken: false,
      imagePullSecrets: [{ name: "gitlab-registry-auth" }],
    });
    // Namespaced children wait for the Namespace.
    const ns = resources.find(T.namespace, "web-namespace");
    expect(sa.dependencies).toContain(ns.urn);
  });

  test("deployer ServiceAccount and its token Secret, created after the account", async () => {
    const { resources } = await build();
    const account = resources.find(T.sa, "web-deployer-sa");
    expect(account.inputs["metadata"]).toEqual({
      name: "web-deployer",
      namespace: "web-prod",
      labels: deployerLabels,
    });
    expect(account.inputs["automountServiceAccountToken"]).toBe(false);
    expect(account.inputs["imagePullSecrets"]).toBeUndefined();
    const secret = resources.find(T.secret, "web-deployer-token");
    expect(secret.inputs).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/service-account-token",
      metadata: {
        name: "web-deployer-token",
        namespace: "web-prod",
        labels: deployerLabels,
        annotations: { "kubernetes.io/service-account.name": "web-deployer" },
      },
    });
    expect(secret.dependencies).toContain(account.urn);
    // Rotation: the default marker, and a fixed name, so the old Secret goes first.
    expect(secret.replacementTrigger).toBe("1");
    expect(secret.deleteBeforeReplace).toBe(true);
  });

  test("review apps: the Role also lets CI create and delete Deployments, Services and Ingresses there", async () => {
    const { resources } = await record(
      (provider) => new AppNamespace("web", args({ reviewApps: true }), { provider }),
    );
    expect(resources.find(T.role, "web-deployer-role").inputs["rules"]).toEqual([
      ...RULES,
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "delete"] },
      {
        apiGroups: [""],
        resources: ["services"],
        verbs: ["get", "list", "watch", "create", "patch", "delete"],
      },
      {
        apiGroups: ["networking.k8s.io"],
        resources: ["ingresses"],
        verbs: ["get", "list", "watch", "create", "patch", "delete"],
      },
    ]);
  });

  test("Role grants exactly the rollout rules; the binding names the deployer ServiceAccount", async () => {
    const { resources } = await build();
    const role = resources.find(T.role, "web-deployer-role");
    expect(role.inputs["metadata"]).toEqual({
      name: "deployer",
      namespace: "web-prod",
      labels: deployerLabels,
    });
    expect(role.inputs["rules"]).toEqual(RULES);
    const binding = resources.find(T.binding, "web-deployer-binding");
    expect(binding.inputs["metadata"]).toEqual({
      name: "deployer",
      namespace: "web-prod",
      labels: deployerLabels,
    });
    expect(binding.inputs["roleRef"]).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "deployer",
    });
    expect(binding.inputs["subjects"]).toEqual([
      { kind: "ServiceAccount", name: "web-deployer", namespace: "web-prod" },
    ]);
    expect(binding.dependencies).toContain(role.urn);
    expect(binding.dependencies).toContain(resources.find(T.sa, "web-deployer-sa").urn);
  });

  test("kubeToken is the decoded Secret token, secret", async () => {
    const { result } = await build();
    expect(result.kubeToken).toBeDefined();
    const token = result.kubeToken as NonNullable<typeof result.kubeToken>;
    // The mocks fill data.token of the token Secret with base64("sa-token-<resource name>").
    expect(await unwrap(token)).toBe("sa-token-web-deployer-token");
    expect(await isSecret(token)).toBe(true);
  });

  test("kubeconfig: cluster with the Secret's CA, namespaced context, exec user, no token; secret", async () => {
    const { result } = await build();
    const kubeconfig = result.kubeconfig as NonNullable<typeof result.kubeconfig>;
    expect(await isSecret(kubeconfig)).toBe(true);
    const text = await unwrap(kubeconfig);
    expect(text).not.toContain("sa-token-web-deployer-token");
    expect(text).not.toContain(Buffer.from("sa-token-web-deployer-token").toString("base64"));
    expect(parse(text)).toEqual({
      apiVersion: "v1",
      kind: "Config",
      preferences: {},
      clusters: [
        {
          name: "prod",
          cluster: {
            server: "https://k8s.example.com:6443",
            // Passed through as the Secret holds it: base64 of the PEM.
            "certificate-authority-data": Buffer.from("ca-web-deployer-token").toString("base64"),
          },
        },
      ],
      users: [
        {
          name: "web-deployer",
          user: {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1",
              command: "sh",
              args: ["-c", execCredentialScript("KUBE_TOKEN")],
              interactiveMode: "Never",
            },
          },
        },
      ],
      contexts: [
        {
          name: "web-deployer@prod",
          context: { cluster: "prod", namespace: "web-prod", user: "web-deployer" },
        },
      ],
      "current-context": "web-deployer@prod",
    });
  });

  test("outputs the namespace and the runtime ServiceAccount's name", async () => {
    const { result } = await build();
    expect(await unwrap(result.namespace)).toBe("web-prod");
    expect(await unwrap(result.serviceAccountName)).toBe("web");
  });
});

describe("AppNamespace, agent", () => {
  test.each<[string, AppDeployer, Record<string, unknown>]>([
    [
      "impersonate binds the impersonated User",
      { kind: "impersonate", username: impersonatedAppUser("prod-agent", "web") },
      {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "User",
        name: "gitlab-agent:prod-agent:app:web",
      },
    ],
    [
      "ci_job binds the CI job Group",
      { kind: "ci_job", group: CI_JOB_GROUP },
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "gitlab:ci_job" },
    ],
    [
      "agent binds the agent's ServiceAccount",
      {
        kind: "agent",
        serviceAccountName: "gitlab-agent",
        serviceAccountNamespace: "gitlab-agent",
      },
      { kind: "ServiceAccount", name: "gitlab-agent", namespace: "gitlab-agent" },
    ],
  ])("%s; no deployer account, token or kubeconfig", async (_label, deployer, subject) => {
    const { resources, result } = await record(
      (provider) =>
        new AppNamespace("web", args({ method: "agent", deployer, imagePullSecret: undefined }), {
          provider,
        }),
    );
    expect(resources.countByType()).toEqual({
      [T.provider]: 1,
      [T.component]: 1,
      [T.platformNamespace]: 1,
      [T.namespace]: 1,
      [T.sa]: 1,
      [T.role]: 1,
      [T.binding]: 1,
    });
    expect(resources.find(T.role, "web-deployer-role").inputs["rules"]).toEqual(RULES);
    expect(resources.find(T.binding, "web-deployer-binding").inputs["subjects"]).toEqual([subject]);
    // Without registry auth the runtime ServiceAccount lists no pull secret.
    const sa = resources.find(T.sa, "web-sa");
    expect(sa.inputs["imagePullSecrets"]).toBeUndefined();
    expect(sa.inputs["automountServiceAccountToken"]).toBe(false);
    expect(result.kubeToken).toBeUndefined();
    expect(result.kubeconfig).toBeUndefined();
  });
});

describe("AppNamespace, flux", () => {
  test("only the namespace and the runtime ServiceAccount: no Role, no RoleBinding", async () => {
    const { resources, result } = await record(
      (provider) =>
        new AppNamespace("web", args({ method: "flux", deployer: { kind: "flux" } }), {
          provider,
        }),
    );
    expect(resources.countByType()).toEqual({
      [T.provider]: 1,
      [T.component]: 1,
      [T.platformNamespace]: 1,
      [T.namespace]: 1,
      [T.sa]: 1,
    });
    expect(resources.find(T.sa, "web-sa").inputs["imagePullSecrets"]).toEqual([
      { name: "gitlab-registry-auth" },
    ]);
    expect(result.kubeToken).toBeUndefined();
    expect(result.kubeconfig).toBeUndefined();
  });
});

describe("AppNamespace, invalid arguments", () => {
  test.each<[string, Partial<AppNamespaceArgs>, string]>([
    [
      "an app name that is no DNS label",
      { app: "Web_App" },
      'AppNamespace "web": app: expected a DNS-1123 label (a-z, 0-9 and \'-\', at most 63 characters), got "Web_App"',
    ],
    [
      "a deployer that does not fit the method",
      { method: "flux" },
      'AppNamespace "web": deployer.kind: "direct" does not fit method "flux"',
    ],
    [
      "an agent deployer for a direct app",
      { deployer: { kind: "ci_job", group: CI_JOB_GROUP } },
      'AppNamespace "web": deployer.kind: "ci_job" does not fit method "direct"',
    ],
    [
      "a plain-http API server and an empty cluster name",
      { deployer: { kind: "direct", apiServer: "http://k8s:6443", clusterName: " " } },
      'AppNamespace "web": deployer.apiServer: expected an https:// URL, got "http://k8s:6443"\n' +
        'AppNamespace "web": deployer.clusterName: must not be empty',
    ],
    [
      "an invalid namespace and pull secret name",
      { namespace: "-web", imagePullSecret: "Registry Auth" },
      'AppNamespace "web": namespace: expected a DNS-1123 label (a-z, 0-9 and \'-\', at most 63 characters), got "-web"\n' +
        'AppNamespace "web": imagePullSecret: expected a DNS-1123 subdomain, got "Registry Auth"',
    ],
  ])("rejects %s before registering anything", async (_label, overrides, message) => {
    const recording = await installRecorder("platform", "test");
    expect(() => new AppNamespace("web", args(overrides))).toThrow(new Error(message));
    await waitForRegistrations();
    expect(recording.resources).toEqual([]);
  });
});

describe("deployer kubeconfig", () => {
  test("DEPLOYER_RULES is what the Role carries", () => {
    expect(DEPLOYER_RULES).toEqual(RULES);
  });

  test("its exec script prints a v1 ExecCredential with the token from the environment", () => {
    const script = execCredentialScript("KUBE_TOKEN");
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.c2ln-_";
    const out = execFileSync("sh", ["-c", script], {
      env: { PATH: process.env["PATH"], KUBE_TOKEN: jwt },
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({
      apiVersion: EXEC_CREDENTIAL_API_VERSION,
      kind: "ExecCredential",
      status: { token: jwt },
    });
  });

  test("its exec script fails, naming the variable, when the token is not set", () => {
    let failure: { status?: number; stderr?: string } = {};
    try {
      execFileSync("sh", ["-c", execCredentialScript("KUBE_TOKEN")], {
        env: { PATH: process.env["PATH"] },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (error) {
      failure = error as { status?: number; stderr?: string };
    }
    expect(failure.status).toBe(1);
    expect(failure.stderr).toBe(
      "KUBE_TOKEN is not set (a protected variable: only protected branches and tags get it)\n",
    );
  });

  test("renders unfolded YAML that parses back to the given values", () => {
    const ca = "LS0tLS1CRUdJTi".repeat(20);
    const text = deployerKubeconfig({
      clusterName: "staging",
      server: "https://10.0.0.1",
      certificateAuthorityData: ca,
      namespace: "api",
      userName: "api-deployer",
      tokenVariable: "API_TOKEN",
    });
    expect(text).toContain(`certificate-authority-data: ${ca}\n`);
    const config = parse(text) as {
      users: { user: { exec: { args: string[] } } }[];
      contexts: unknown[];
    };
    expect(config.users[0]?.user.exec.args).toEqual(["-c", execCredentialScript("API_TOKEN")]);
    expect(config.contexts).toEqual([
      {
        name: "api-deployer@staging",
        context: { cluster: "staging", namespace: "api", user: "api-deployer" },
      },
    ]);
  });

  test("rejects a token variable that is not a shell variable name", () => {
    expect(() => execCredentialScript("KUBE-TOKEN")).toThrow(
      new Error('tokenVariable: expected a shell variable name, got "KUBE-TOKEN"'),
    );
  });
});
