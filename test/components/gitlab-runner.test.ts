import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "smol-toml";
import {
  GitLabRunner,
  GitLabRunnerArgs,
  gitLabRunnerArgsProblems,
} from "../../components/gitlab-runner";
import {
  RUNNER_RBAC_RULES,
  RunnerToleration,
  imageAllowed,
  managerImageValues,
  nodeTolerationsTable,
  pinnedByDigest,
  runnerChartValues,
  runnerConfigToml,
} from "../../components/runner-values";
import { record } from "../harness/component";
import { Resources, unwrap } from "../harness/mocks";

const COMPONENT = "platform:ci:GitLabRunner";
const USER_RUNNER = "pulumi-nodejs:dynamic/gitlab:UserRunner";
const RUNNER_SETTINGS_TYPE = "pulumi-nodejs:dynamic/gitlab:UserRunnerSettings";
const SECRET = "kubernetes:core/v1:Secret";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";

const resources = {
  manager: { cpuRequest: "50m", cpuLimit: "200m", memoryRequest: "64Mi", memoryLimit: "256Mi" },
  build: { cpuRequest: "250m", cpuLimit: "1", memoryRequest: "256Mi", memoryLimit: "1Gi" },
  helper: { cpuRequest: "50m", cpuLimit: "200m", memoryRequest: "64Mi", memoryLimit: "256Mi" },
  service: { cpuRequest: "100m", cpuLimit: "500m", memoryRequest: "128Mi", memoryLimit: "512Mi" },
};

const base: GitLabRunnerArgs = {
  namespace: "gitlab-managed-apps",
  gitlabUrl: "https://gitlab.example.com",
  scope: "project",
  projectId: 42,
  description: "platform-dev",
  tags: ["kubernetes", "dev"],
  runUntagged: false,
  locked: true,
  accessLevel: "not_protected",
  maximumTimeout: 3600,
  paused: false,
  chartVersion: "0.89.0",
  concurrent: 4,
  checkInterval: 3,
  pollTimeout: 180,
  jobImage: "alpine:3.22.2",
  privileged: false,
  resources,
  rotation: "1",
};

const DIGEST = `sha256:${"d".repeat(64)}`;

const labels = {
  "app.kubernetes.io/managed-by": "pulumi",
  "app.kubernetes.io/part-of": "gitlab-cd-platform",
  "app.kubernetes.io/component": "gitlab-runner",
};

/** The `[runners.kubernetes]` table of `base` in `namespace`. */
function kubernetesTable(namespace = "gitlab-managed-apps") {
  return {
    namespace,
    image: "alpine:3.22.2",
    automount_service_account_token: false,
    privileged: false,
    allow_privilege_escalation: false,
    poll_timeout: 180,
    cpu_request: "250m",
    cpu_limit: "1",
    memory_request: "256Mi",
    memory_limit: "1Gi",
    helper_cpu_request: "50m",
    helper_cpu_limit: "200m",
    helper_memory_request: "64Mi",
    helper_memory_limit: "256Mi",
    service_cpu_request: "100m",
    service_cpu_limit: "500m",
    service_memory_request: "128Mi",
    service_memory_limit: "512Mi",
    helper_container_security_context: {
      privileged: false,
      allow_privilege_escalation: false,
      capabilities: { drop: ["ALL"] },
    },
    pod_labels: {
      "app.kubernetes.io/part-of": "gitlab-cd-platform",
      "app.kubernetes.io/component": "ci-job",
    },
  };
}

const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

const jobNetwork = {
  clusterCidrs: ["10.244.0.0/16", "10.96.0.0/12", "fd00:10:244::/56"],
  dns: { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } },
};

/** The job pods' NetworkPolicy spec for {@link jobNetwork}. */
const jobPolicySpec = {
  podSelector: {
    matchLabels: {
      "app.kubernetes.io/part-of": "gitlab-cd-platform",
      "app.kubernetes.io/component": "ci-job",
    },
  },
  policyTypes: ["Egress"],
  egress: [
    {
      to: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
          podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
        },
      ],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
    {
      to: [
        {
          ipBlock: {
            cidr: "0.0.0.0/0",
            except: ["10.244.0.0/16", "10.96.0.0/12", "169.254.169.254/32"],
          },
        },
        { ipBlock: { cidr: "::/0", except: ["fd00:10:244::/56", "fd00:ec2::254/128"] } },
      ],
    },
  ],
};

/** Records a GitLabRunner named `name`; the error message instead when the constructor throws. */
function build(args: GitLabRunnerArgs, name = "ci") {
  return record((provider) => {
    try {
      return new GitLabRunner(name, args, { provider });
    } catch (err) {
      return (err as Error).message;
    }
  });
}

async function built(args: GitLabRunnerArgs, name = "ci") {
  const { resources: recorded, result } = await build(args, name);
  if (typeof result === "string") {
    throw new Error(result);
  }
  return { resources: recorded, runner: result };
}

/** The Helm values of the recorded release, with `runners.config` parsed back from TOML. */
function chartValues(all: Resources) {
  const values = all.find(RELEASE, "ci-release").inputs["values"] as {
    runners: { config: string };
  };
  return { values, config: parse(values.runners.config) };
}

describe("GitLabRunner", () => {
  test("creates the runner in GitLab, a token Secret and the chart release that mounts it by name", async () => {
    const { resources: all, result } = await record((provider) => {
      // The namespace arrives as an Output of its resource, as index.ts passes it.
      const ns = new k8s.core.v1.Namespace(
        "managed",
        { metadata: { name: "gitlab-managed-apps" } },
        { provider },
      );
      return new GitLabRunner(
        "ci",
        { ...base, namespace: ns.metadata.name, metrics: true },
        { provider },
      );
    });
    expect(all.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      [NAMESPACE]: 1,
      [COMPONENT]: 1,
      [USER_RUNNER]: 1,
      [RUNNER_SETTINGS_TYPE]: 1,
      [SECRET]: 1,
      [RELEASE]: 1,
    });
    const component = all.find(COMPONENT, "ci");

    const runner = all.find(USER_RUNNER, "ci-runner");
    expect(runner.inputs).toEqual({
      resourceName: "ci-runner",
      runnerType: "project_type",
      projectId: 42,
      description: "platform-dev",
      tagLists: ["kubernetes", "dev"],
      untagged: false,
      locked: true,
      accessLevel: "not_protected",
      maximumTimeout: 3600,
      paused: false,
      maintenanceNote: "Managed by Pulumi (platform/test, GitLabRunner ci); token rotation 1",
    });
    expect(runner.replaceOnChanges).toEqual([]);
    // Create-before-delete: the new runner exists before the old one goes.
    expect(runner.deleteBeforeReplace).toBe(false);
    expect(runner.parent).toBe(component.urn);
    // Created with its settings; later changes go to the settings resource, so that a preview
    // never shows the runner's token (and the Secret and release built from it) as changing.
    expect(runner.ignoreChanges).toEqual([
      "description",
      "tagLists",
      "untagged",
      "locked",
      "accessLevel",
      "maximumTimeout",
      "paused",
      "maintenanceNote",
    ]);
    const settings = all.find(RUNNER_SETTINGS_TYPE, "ci-settings");
    expect(settings.inputs).toEqual({
      resourceName: "ci-settings",
      runnerId: 101,
      description: "platform-dev",
      tagLists: ["kubernetes", "dev"],
      untagged: false,
      locked: true,
      accessLevel: "not_protected",
      maximumTimeout: 3600,
      paused: false,
      maintenanceNote: "Managed by Pulumi (platform/test, GitLabRunner ci); token rotation 1",
    });
    expect(settings.parent).toBe(component.urn);
    expect(settings.dependencies).toEqual([runner.urn]);
    expect(settings.ignoreChanges).toEqual([]);

    const secret = all.find(SECRET, "ci-token");
    expect(secret.parent).toBe(component.urn);
    expect(secret.inputs["type"]).toBe("Opaque");
    expect(secret.inputs["metadata"]).toEqual({
      name: "gitlab-runner-token",
      namespace: "gitlab-managed-apps",
      labels,
    });
    expect(secret.inputs["stringData"]).toEqual({
      "runner-token": "glrt-mock-ci-runner",
      "runner-registration-token": "",
    });
    expect(secret.inputs["data"]).toBeUndefined();
    // The token makes the whole stringData secret on the wire (and in state).
    expect(secret.secretInputs).toEqual(["stringData"]);
    expect(secret.dependencies).toContain(runner.urn);

    const release = all.find(RELEASE, "ci-release");
    expect(release.parent).toBe(component.urn);
    expect(release.provider).toContain("pulumi:providers:kubernetes::cluster");
    const { values, ...options } = release.inputs;
    expect(options).toEqual({
      name: "gitlab-runner",
      chart: "gitlab-runner",
      version: "0.89.0",
      repositoryOpts: { repo: "https://charts.gitlab.io" },
      namespace: "gitlab-managed-apps",
      atomic: true,
      cleanupOnFail: true,
      timeout: 600,
      maxHistory: 10,
      // Added by the SDK itself. No skipAwait: Pulumi waits for the release to be ready.
      compat: "true",
    });
    // Helm must find the Secret (and the namespace) when it starts the pod, and the runner's
    // settings applied when the manager registers.
    expect(release.dependencies).toEqual(
      expect.arrayContaining([secret.urn, all.find(NAMESPACE, "managed").urn, settings.urn]),
    );
    // Values are stored in state: nothing secret may be in them.
    expect(release.secretInputs).toEqual([]);
    expect(JSON.stringify(values)).not.toContain("glrt-");

    const { config } = chartValues(all);
    expect(values).toEqual({
      gitlabUrl: "https://gitlab.example.com",
      concurrent: 4,
      checkInterval: 3,
      unregisterRunners: true,
      rbac: { create: true, rules: RUNNER_RBAC_RULES, clusterWideAccess: false },
      serviceAccount: { create: true },
      runners: { secret: "gitlab-runner-token", config: expect.any(String) },
      metrics: { enabled: true, portName: "metrics", port: 9252 },
      podSecurityContext: {
        runAsUser: 100,
        fsGroup: 65533,
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      },
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: false,
        runAsNonRoot: true,
        privileged: false,
        capabilities: { drop: ["ALL"] },
      },
      resources: {
        requests: { cpu: "50m", memory: "64Mi" },
        limits: { cpu: "200m", memory: "256Mi" },
      },
      podAnnotations: {
        "gitlab-cd-platform/runner-id": "101",
        "gitlab-cd-platform/token-rotation": "1",
      },
      podLabels: labels,
    });
    // No job nodeSelector or tolerations on the manager.
    expect(values).not.toHaveProperty("nodeSelector");
    expect(values).not.toHaveProperty("tolerations");
    expect(config).toEqual({ runners: [{ kubernetes: kubernetesTable() }] });

    expect(await unwrap(result.runnerId)).toBe(101);
    expect(await unwrap(result.tokenSecretName)).toBe("gitlab-runner-token");
    expect(await unwrap(result.releaseName)).toBe("gitlab-runner");
  });

  test("grants the executor exactly the namespaced permissions it needs, never a ClusterRole", () => {
    expect(RUNNER_RBAC_RULES).toEqual([
      { apiGroups: [""], resources: ["events"], verbs: ["list", "watch"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "get", "list", "watch"] },
      { apiGroups: [""], resources: ["pods/attach"], verbs: ["create", "delete", "get", "patch"] },
      { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "delete", "get", "patch"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get", "list"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["create", "delete", "get", "update"] },
      { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get"] },
      { apiGroups: [""], resources: ["services"], verbs: ["create", "get"] },
    ]);
    const values = runnerChartValues({
      gitlabUrl: "https://gitlab.example.com",
      concurrent: 1,
      checkInterval: 3,
      tokenSecretName: "t",
      config: "",
      manager: resources.manager,
      runnerId: "1",
      rotation: "1",
      metrics: false,
      podLabels: {},
    });
    expect(values.rbac).toEqual({
      create: true,
      rules: RUNNER_RBAC_RULES,
      clusterWideAccess: false,
    });
    expect(values.metrics).toEqual({ enabled: false, portName: "metrics", port: 9252 });
    expect(values.runners).toEqual({ secret: "t", config: "" });
  });

  test("with an S3 cache: the keys go into their own Secret, referenced by name, never into values or config.toml", async () => {
    const { resources: all } = await built({
      ...base,
      cache: {
        serverAddress: "minio.example.com:9000",
        bucketName: "runner-cache",
        bucketLocation: "eu-west-1",
        insecure: true,
        accessKey: pulumi.secret("AKIA-MOCK-ACCESS"),
        secretKey: pulumi.secret("mock-secret-key"),
      },
    });
    expect(all.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      [COMPONENT]: 1,
      [USER_RUNNER]: 1,
      [RUNNER_SETTINGS_TYPE]: 1,
      [SECRET]: 2,
      [RELEASE]: 1,
    });
    const cacheSecret = all.find(SECRET, "ci-cache");
    expect(cacheSecret.parent).toBe(all.find(COMPONENT, "ci").urn);
    expect(cacheSecret.inputs["type"]).toBe("Opaque");
    expect(cacheSecret.inputs["metadata"]).toEqual({
      name: "gitlab-runner-cache-s3",
      namespace: "gitlab-managed-apps",
      labels,
    });
    expect(cacheSecret.inputs["stringData"]).toEqual({
      accesskey: "AKIA-MOCK-ACCESS",
      secretkey: "mock-secret-key",
    });
    expect(cacheSecret.secretInputs).toEqual(["stringData"]);

    const release = all.find(RELEASE, "ci-release");
    expect(release.dependencies).toEqual(
      expect.arrayContaining([cacheSecret.urn, all.find(SECRET, "ci-token").urn]),
    );
    const { values, config } = chartValues(all);
    expect(values.runners).toEqual({
      secret: "gitlab-runner-token",
      config: expect.any(String),
      cache: { secretName: "gitlab-runner-cache-s3" },
    });
    expect(config).toEqual({
      runners: [
        {
          kubernetes: kubernetesTable(),
          cache: {
            Type: "s3",
            Shared: true,
            s3: {
              ServerAddress: "minio.example.com:9000",
              BucketName: "runner-cache",
              BucketLocation: "eu-west-1",
              Insecure: true,
              AuthenticationType: "access-key",
            },
          },
        },
      ],
    });
    const serialized = JSON.stringify(release.inputs);
    expect(serialized).not.toContain("AKIA-MOCK-ACCESS");
    expect(serialized).not.toContain("mock-secret-key");
    expect(release.secretInputs).toEqual([]);
  });

  test("without a cache there is no cache Secret, no cache value and no [runners.cache]", async () => {
    const { resources: all } = await built(base);
    expect(all.has(SECRET, "ci-cache")).toBe(false);
    const { values, config } = chartValues(all);
    expect(values.runners).not.toHaveProperty("cache");
    expect(config).toEqual({ runners: [{ kubernetes: kubernetesTable() }] });
  });

  test.each([
    ["group", { groupId: 7 }, { runnerType: "group_type", groupId: 7 }],
    ["instance", {}, { runnerType: "instance_type" }],
  ] as const)(
    "scope %s maps to its runner type and does not send locked",
    async (scope, ids, expected) => {
      const { resources: all } = await built({ ...base, scope, projectId: undefined, ...ids });
      const inputs = all.find(USER_RUNNER, "ci-runner").inputs;
      expect(inputs).toMatchObject(expected);
      expect(inputs).not.toHaveProperty("projectId");
      expect(inputs).not.toHaveProperty("locked");
      if (scope === "instance") {
        expect(inputs).not.toHaveProperty("groupId");
      }
      expect(all.find(RUNNER_SETTINGS_TYPE, "ci-settings").inputs).not.toHaveProperty("locked");
    },
  );

  test("a privileged runner runs build and service containers privileged; the helper stays unprivileged", async () => {
    const { resources: all } = await built({ ...base, privileged: true });
    const { config } = chartValues(all);
    expect(config).toEqual({
      runners: [
        {
          kubernetes: {
            ...kubernetesTable(),
            privileged: true,
            allow_privilege_escalation: true,
          },
        },
      ],
    });
    // The manager itself never is.
    const { values } = chartValues(all);
    expect((values as unknown as { securityContext: unknown }).securityContext).toMatchObject({
      privileged: false,
      allowPrivilegeEscalation: false,
    });
  });

  test("jobs in their own namespace: the executor's Role there, bound to the manager's own account; no chart RBAC", async () => {
    const { resources: all } = await built({ ...base, privileged: true, jobNamespace: "ci-jobs" });
    expect(all.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      [COMPONENT]: 1,
      [USER_RUNNER]: 1,
      [RUNNER_SETTINGS_TYPE]: 1,
      [SECRET]: 1,
      [SERVICE_ACCOUNT]: 1,
      [ROLE]: 1,
      [ROLE_BINDING]: 1,
      [RELEASE]: 1,
    });
    const component = all.find(COMPONENT, "ci");
    const account = all.find(SERVICE_ACCOUNT, "ci-manager");
    expect(account.parent).toBe(component.urn);
    expect(account.inputs).toEqual({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "gitlab-runner-manager", namespace: "gitlab-managed-apps", labels },
    });
    const role = all.find(ROLE, "ci-executor");
    expect(role.inputs).toEqual({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "gitlab-runner-executor", namespace: "ci-jobs", labels },
      rules: RUNNER_RBAC_RULES,
    });
    const binding = all.find(ROLE_BINDING, "ci-executor");
    expect(binding.inputs).toEqual({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "gitlab-runner-executor", namespace: "ci-jobs", labels },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "gitlab-runner-executor",
      },
      subjects: [
        { kind: "ServiceAccount", name: "gitlab-runner-manager", namespace: "gitlab-managed-apps" },
      ],
    });
    const release = all.find(RELEASE, "ci-release");
    // The manager and its token stay in the managed namespace; it may create job pods only
    // once its Role exists.
    expect(release.inputs["namespace"]).toBe("gitlab-managed-apps");
    expect(release.dependencies).toEqual(
      expect.arrayContaining([
        account.urn,
        role.urn,
        binding.urn,
        all.find(SECRET, "ci-token").urn,
      ]),
    );
    const { values, config } = chartValues(all);
    const v = values as unknown as Record<string, unknown>;
    expect(v["rbac"]).toEqual({ create: false, clusterWideAccess: false });
    expect(v["serviceAccount"]).toEqual({ create: false, name: "gitlab-runner-manager" });
    expect(config).toEqual({
      runners: [
        {
          kubernetes: {
            ...kubernetesTable("ci-jobs"),
            privileged: true,
            allow_privilege_escalation: true,
          },
        },
      ],
    });
  });

  test("job pods' NetworkPolicy: DNS and the world outside the cluster, in the namespace they run in", async () => {
    const shared = await built({ ...base, jobNetwork });
    const policy = shared.resources.find(NETWORK_POLICY, "ci-jobs-egress");
    expect(policy.parent).toBe(shared.resources.find(COMPONENT, "ci").urn);
    expect(policy.inputs).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "gitlab-runner-jobs-egress", namespace: "gitlab-managed-apps", labels },
      spec: jobPolicySpec,
    });
    const own = await built({ ...base, jobNetwork, jobNamespace: "ci-jobs" });
    expect(own.resources.find(NETWORK_POLICY, "ci-jobs-egress").inputs["metadata"]).toEqual({
      name: "gitlab-runner-jobs-egress",
      namespace: "ci-jobs",
      labels,
    });
    // IPv4 only: the IPv6 block still refuses the metadata address.
    const v4 = await built({
      ...base,
      jobNetwork: { ...jobNetwork, clusterCidrs: ["10.0.0.0/8"] },
    });
    expect(
      (v4.resources.find(NETWORK_POLICY, "ci-jobs-egress").inputs["spec"] as typeof jobPolicySpec)
        .egress[1],
    ).toEqual({
      to: [
        { ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "169.254.169.254/32"] } },
        { ipBlock: { cidr: "::/0", except: ["fd00:ec2::254/128"] } },
      ],
    });
    // Without jobNetwork, none.
    expect((await built(base)).resources.has(NETWORK_POLICY, "ci-jobs-egress")).toBe(false);
  });

  test("jobs in the managed namespace: the chart's own Role and account, nothing made here", async () => {
    const { resources: all } = await built(base);
    expect(all.has(SERVICE_ACCOUNT, "ci-manager")).toBe(false);
    expect(all.has(ROLE, "ci-executor")).toBe(false);
    expect(all.has(ROLE_BINDING, "ci-executor")).toBe(false);
  });

  test("the rotation marker replaces the runner, is in its maintenance note and on the manager pod", async () => {
    const { resources: all } = await record(
      (provider) => new GitLabRunner("ci", { ...base, rotation: "2026-02-01" }, { provider }),
    );
    // Only the GitLab runner is replaced by a new marker; the Secret and the release update.
    expect(
      all.all
        .filter((r) => r.replacementTrigger !== undefined)
        .map((r) => [r.name, r.replacementTrigger]),
    ).toEqual([["ci-runner", "2026-02-01"]]);
    const runner = all.find(USER_RUNNER, "ci-runner");
    expect(runner.deleteBeforeReplace).toBe(false);
    expect(runner.inputs["maintenanceNote"]).toBe(
      "Managed by Pulumi (platform/test, GitLabRunner ci); token rotation 2026-02-01",
    );
    expect(runner.replaceOnChanges).toEqual([]);
    // A new runner id replaces its settings resource (the provider's diff), which sets them again.
    expect(all.find(RUNNER_SETTINGS_TYPE, "ci-settings").inputs["maintenanceNote"]).toBe(
      "Managed by Pulumi (platform/test, GitLabRunner ci); token rotation 2026-02-01",
    );
    const values = all.find(RELEASE, "ci-release").inputs["values"] as {
      podAnnotations: Record<string, string>;
    };
    expect(values.podAnnotations).toEqual({
      "gitlab-cd-platform/runner-id": "101",
      "gitlab-cd-platform/token-rotation": "2026-02-01",
    });
  });

  test.each<[string, Partial<GitLabRunnerArgs>, string]>([
    [
      "scope project without projectId",
      { projectId: undefined },
      'GitLabRunner "ci": projectId: is required when runnerType is project_type (scope "project")',
    ],
    [
      "scope group with a projectId",
      { scope: "group", groupId: 7 },
      'GitLabRunner "ci": projectId: must not be set when runnerType is group_type (scope "group")',
    ],
    [
      "an unknown scope",
      { scope: "team" as GitLabRunnerArgs["scope"] },
      'GitLabRunner "ci": scope: expected one of project, group, instance, got "team"',
    ],
    [
      "a template in the job image",
      { jobImage: "alpine:{{ .Values.tag }}" },
      'GitLabRunner "ci": runners.config: expected no "{{" (the chart evaluates it as a Helm template), got image = "alpine:{{ .Values.tag }}"',
    ],
    [
      "no concurrency and a relative URL",
      { concurrent: 0, gitlabUrl: "gitlab.example.com" },
      'GitLabRunner "ci": gitlabUrl: expected an http(s) URL, got "gitlab.example.com"\n' +
        'GitLabRunner "ci": concurrent: expected a whole number of at least 1, got 0',
    ],
    [
      "an empty rotation marker",
      { rotation: " " },
      'GitLabRunner "ci": rotation: expected a rotation marker, got nothing',
    ],
    [
      "a cache endpoint with a scheme",
      {
        cache: {
          serverAddress: "https://s3.amazonaws.com",
          bucketName: "b",
          insecure: false,
          accessKey: pulumi.secret("a"),
          secretKey: pulumi.secret("s"),
        },
      },
      'GitLabRunner "ci": cache.serverAddress: expected host[:port] without a scheme, got "https://s3.amazonaws.com"',
    ],
    [
      "a cluster CIDR that is not one",
      { jobNetwork: { ...jobNetwork, clusterCidrs: ["10.96.0.0", "10.0.0.0/33"] } },
      'GitLabRunner "ci": jobNetwork.clusterCidrs[0]: expected a CIDR such as 10.96.0.0/12 or fd00::/8, got "10.96.0.0"\n' +
        'GitLabRunner "ci": jobNetwork.clusterCidrs[1]: expected a CIDR such as 10.96.0.0/12 or fd00::/8, got "10.0.0.0/33"',
    ],
    [
      "a toleration without key",
      { tolerations: [{ operator: "Equal", value: "ci" }] },
      'GitLabRunner "ci": tolerations[0].key: expected a key with operator "Equal", got nothing',
    ],
  ])("rejects %s before registering anything", async (_case, change, message) => {
    const { resources: all, result } = await build({ ...base, ...change });
    expect(result).toBe(message);
    expect(all.countByType()).toEqual({ "pulumi:providers:kubernetes": 1 });
  });

  test("job pods: the token, allowed images and pull policies come from jobs", async () => {
    const { resources: all } = await built({
      ...base,
      jobImage: "registry.example.com/ci/base:1.0",
      jobs: {
        automountServiceAccountToken: true,
        allowedImages: ["registry.example.com/**", "alpine:*"],
        pullPolicy: ["always"],
        allowedPullPolicies: ["always", "if-not-present"],
        helperImage: `registry.example.com/mirror/gitlab-runner-helper:x86_64-v19.0.0@${DIGEST}`,
      },
    });
    const { config } = chartValues(all);
    expect(config).toEqual({
      runners: [
        {
          kubernetes: {
            ...kubernetesTable(),
            image: "registry.example.com/ci/base:1.0",
            automount_service_account_token: true,
            allowed_images: ["registry.example.com/**", "alpine:*"],
            pull_policy: ["always"],
            allowed_pull_policies: ["always", "if-not-present"],
            helper_image: `registry.example.com/mirror/gitlab-runner-helper:x86_64-v19.0.0@${DIGEST}`,
          },
        },
      ],
    });
  });

  test.each<[string, Partial<GitLabRunnerArgs>, string]>([
    [
      "a default job image the allowed images refuse",
      {
        jobs: {
          automountServiceAccountToken: false,
          allowedImages: ["registry.example.com/**"],
          pullPolicy: [],
          allowedPullPolicies: [],
        },
      },
      'GitLabRunner "ci": jobImage: expected an image jobs.allowedImages allows (registry.example.com/**), got "alpine:3.22.2"',
    ],
    [
      "a pull policy the allowed pull policies refuse",
      {
        jobs: {
          automountServiceAccountToken: false,
          allowedImages: [],
          pullPolicy: ["if-not-present", "always"],
          allowedPullPolicies: ["always"],
        },
      },
      'GitLabRunner "ci": jobs.pullPolicy[0]: expected one of jobs.allowedPullPolicies (always), got "if-not-present"',
    ],
  ])("rejects %s", async (_case, change, message) => {
    const { resources: all, result } = await build({ ...base, ...change });
    expect(result).toBe(message);
    expect(all.countByType()).toEqual({ "pulumi:providers:kubernetes": 1 });
  });

  test("UserRunner's own checks surface unchanged", async () => {
    const { result } = await build({ ...base, maximumTimeout: 300, tags: ["a,b"] });
    expect(result).toBe(
      'UserRunner "ci-runner": maximumTimeout: expected whole seconds, at least 600, got 300\n' +
        "UserRunner \"ci-runner\": tagLists: tags must be non-empty and cannot contain ','",
    );
  });

  test("valid arguments have no problems", () => {
    expect(gitLabRunnerArgsProblems(base)).toEqual([]);
  });
});

describe("the runner manager's image", () => {
  const DIGEST = `sha256:${"e".repeat(64)}`;

  test("goes whole into the chart's image values, a digest riding on the tag", () => {
    expect(
      managerImageValues(`registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v19.0.0@${DIGEST}`),
    ).toEqual({
      registry: "",
      image: "registry.gitlab.com/gitlab-org/gitlab-runner",
      tag: `alpine-v19.0.0@${DIGEST}`,
    });
    expect(managerImageValues("mirror.example.com:5000/ci/gitlab-runner:alpine-v19.0.0")).toEqual({
      registry: "",
      image: "mirror.example.com:5000/ci/gitlab-runner",
      tag: "alpine-v19.0.0",
    });
    // The chart always appends ":<tag>": a reference without one cannot be expressed.
    expect(managerImageValues(`gitlab/gitlab-runner@${DIGEST}`)).toBeUndefined();
    expect(managerImageValues("Not An Image")).toBeUndefined();
  });

  test("is set on the release only when given; one without a tag is refused before registering", async () => {
    const image = `registry.example.com/mirror/gitlab-runner:alpine-v19.0.0@${DIGEST}`;
    const { resources: all } = await built({ ...base, image });
    const values = all.find(RELEASE, "ci-release").inputs["values"] as Record<string, unknown>;
    expect(values["image"]).toEqual({
      registry: "",
      image: "registry.example.com/mirror/gitlab-runner",
      tag: `alpine-v19.0.0@${DIGEST}`,
    });
    const chartDefault = (await built(base)).resources.find(RELEASE, "ci-release").inputs;
    expect(chartDefault["values"]).not.toHaveProperty("image");
    expect(gitLabRunnerArgsProblems({ ...base, image: `gitlab/gitlab-runner@${DIGEST}` })).toEqual([
      `image: expected <repository>:<tag> with an optional @sha256:<digest> (the chart joins repository and tag), got "gitlab/gitlab-runner@${DIGEST}"`,
    ]);
  });
});

describe("imageAllowed (GitLab Runner's doublestar match of allowed_images)", () => {
  test.each<[string, string, boolean]>([
    ["alpine:3.22.2", "alpine:*", true],
    ["alpine:3.22.2@sha256:" + "a".repeat(64), "alpine:*", true],
    ["alpine", "alpine:*", false],
    // `*` never crosses a "/": a Docker Hub namespace is another segment.
    ["alpine/kubectl:1.36.3", "alpine*", false],
    ["alpine/kubectl:1.36.3", "*/*:*", true],
    ["debian", "*/*:*", false],
    ["debian", "**", true],
    ["registry.example.com/acme/ci/base:1", "registry.example.com/**", true],
    ["registry.example.com/base:1", "registry.example.com/**", true],
    ["registry.example.com.evil.io/base:1", "registry.example.com/**", false],
    ["registry.example.com/x:1", "registry.example.com/*", true],
    ["registry.example.com/acme/x:1", "registry.example.com/*", false],
    ["registry.example.com/acme/ci/x:1", "registry.example.com/**/x:?", true],
    ["registry.example.com/acme/ci/x:12", "registry.example.com/**/x:?", false],
    ["alpine.3:1", "alpine?3:1", true],
    ["alpinex3:1", "alpine.3:1", false],
  ])("%s against %s: %s", (image, pattern, allowed) => {
    expect(imageAllowed(image, [pattern])).toBe(allowed);
  });

  test("no patterns allow nothing; one matching pattern is enough", () => {
    expect(imageAllowed("alpine:3", [])).toBe(false);
    expect(imageAllowed("alpine:3", ["debian:*", "alpine:*"])).toBe(true);
  });
});

describe("pinnedByDigest", () => {
  test.each<[string, boolean]>([
    [`alpine:3.22.2@${DIGEST}`, true],
    [`alpine@${DIGEST}`, true],
    ["alpine:3.22.2", false],
    [`alpine:3.22.2@sha256:${"D".repeat(64)}`, false],
    [`alpine:3.22.2@sha256:${"d".repeat(63)}`, false],
    [`alpine@${DIGEST}:latest`, false],
  ])("%s: %s", (image, pinned) => {
    expect(pinnedByDigest(image)).toBe(pinned);
  });
});

describe("runnerConfigToml", () => {
  const settings = {
    namespace: "ci-jobs",
    jobImage: "alpine:3.22.2",
    privileged: false,
    pollTimeout: 180,
    resources,
    nodeSelector: {},
    tolerations: [],
  };

  test("renders the node selector as a table, and none when empty", () => {
    expect(parse(runnerConfigToml(settings))).toEqual({
      runners: [{ kubernetes: kubernetesTable("ci-jobs") }],
    });
    const toml = runnerConfigToml({
      ...settings,
      nodeSelector: { "kubernetes.io/os": "linux", "node.example.com/pool": "ci" },
    });
    expect(parse(toml)).toEqual({
      runners: [
        {
          kubernetes: {
            ...kubernetesTable("ci-jobs"),
            node_selector: { "kubernetes.io/os": "linux", "node.example.com/pool": "ci" },
          },
        },
      ],
    });
    expect(toml).toContain('[runners.kubernetes.node_selector]\n"kubernetes.io/os" = "linux"');
  });

  test("renders tolerations as [runners.kubernetes.node_tolerations]", () => {
    const toml = runnerConfigToml({
      ...settings,
      tolerations: [{ key: "dedicated", operator: "Equal", value: "ci", effect: "NoSchedule" }],
    });
    expect(toml).toContain('[runners.kubernetes.node_tolerations]\n"dedicated=ci" = "NoSchedule"');
  });

  test.each<[string, RunnerToleration, Record<string, string>]>([
    [
      "Equal with an effect",
      { key: "dedicated", operator: "Equal", value: "ci", effect: "NoSchedule" },
      { "dedicated=ci": "NoSchedule" },
    ],
    [
      "Equal with an empty value",
      { key: "dedicated", operator: "Equal", effect: "PreferNoSchedule" },
      { "dedicated=": "PreferNoSchedule" },
    ],
    [
      "Equal for every effect",
      { key: "dedicated", operator: "Equal", value: "ci" },
      { "dedicated=ci": "" },
    ],
    [
      "Exists with a key",
      { key: "node-role.kubernetes.io/ci", operator: "Exists", effect: "NoExecute" },
      { "node-role.kubernetes.io/ci": "NoExecute" },
    ],
    ["Exists without a key: every taint", { operator: "Exists" }, { "": "" }],
  ])("toleration %s", (_case, toleration, table) => {
    expect(nodeTolerationsTable([toleration])).toEqual(table);
  });

  test("identical tolerations collapse into one entry", () => {
    const t: RunnerToleration = { key: "k", operator: "Exists", effect: "NoSchedule" };
    expect(nodeTolerationsTable([t, t])).toEqual({ k: "NoSchedule" });
  });

  test.each<[string, RunnerToleration[], string]>([
    [
      "Equal without a key",
      [{ operator: "Equal", value: "ci" }],
      'tolerations[0].key: expected a key with operator "Equal", got nothing',
    ],
    [
      "Exists with a value",
      [{ key: "k", operator: "Exists", value: "v" }],
      'tolerations[0].value: expected no value with operator "Exists", got "v"',
    ],
    [
      'an "=" in a key',
      [{ key: "a=b", operator: "Exists" }],
      'tolerations[0]: expected a key and value without "=", got {"key":"a=b","operator":"Exists"}',
    ],
    [
      "two effects for one key",
      [
        { key: "k", operator: "Exists", effect: "NoSchedule" },
        { key: "k", operator: "Exists", effect: "NoExecute" },
      ],
      'tolerations[1]: expected one effect per key and value, got "NoSchedule" and "NoExecute" for "k"',
    ],
  ])("rejects %s", (_case, tolerations, message) => {
    expect(() => nodeTolerationsTable(tolerations)).toThrow(message);
    expect(() => runnerConfigToml({ ...settings, tolerations })).toThrow(message);
  });

  test.each([true, false])("privileged %s is reflected in the build settings", (privileged) => {
    const parsed = parse(runnerConfigToml({ ...settings, privileged })) as {
      runners: { kubernetes: Record<string, unknown> }[];
    };
    const kubernetes = parsed.runners[0]?.kubernetes;
    expect(kubernetes?.["privileged"]).toBe(privileged);
    expect(kubernetes?.["allow_privilege_escalation"]).toBe(privileged);
    expect(kubernetes?.["helper_container_security_context"]).toEqual({
      privileged: false,
      allow_privilege_escalation: false,
      capabilities: { drop: ["ALL"] },
    });
  });

  test("omits BucketLocation when the cache has none", () => {
    const parsed = parse(
      runnerConfigToml({
        ...settings,
        cache: { serverAddress: "s3.amazonaws.com", bucketName: "b", insecure: false },
      }),
    ) as { runners: { cache: unknown }[] };
    expect(parsed.runners[0]?.cache).toEqual({
      Type: "s3",
      Shared: true,
      s3: {
        ServerAddress: "s3.amazonaws.com",
        BucketName: "b",
        Insecure: false,
        AuthenticationType: "access-key",
      },
    });
  });
});
