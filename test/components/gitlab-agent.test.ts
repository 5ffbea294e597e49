import { parse } from "yaml";
import { AgentConfigFile, agentConfig, renderAgentConfig } from "../../components/agent-config";
import { DEFAULT_AGENT_RESOURCES, agentHelmValues } from "../../components/agent-values";
import { GitLabAgent, GitLabAgentArgs } from "../../components/gitlab-agent";
import { record } from "../harness/component";
import { Resources, unwrap } from "../harness/mocks";

const T = {
  component: "platform:agent:GitLabAgent",
  agent: "pulumi-nodejs:dynamic/gitlab:ClusterAgent",
  token: "pulumi-nodejs:dynamic/gitlab:ClusterAgentToken",
  file: "pulumi-nodejs:dynamic/gitlab:RepositoryFile",
  secret: "kubernetes:core/v1:Secret",
  sa: "kubernetes:core/v1:ServiceAccount",
  role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
  roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
  clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  release: "kubernetes:helm.sh/v3:Release",
} as const;

const apps = [
  { name: "web", project: "acme/web", namespace: "web" },
  { name: "api", project: "acme/api", namespace: "api" },
];

const base: GitLabAgentArgs = {
  namespace: "gitlab-managed-apps",
  projectPath: "acme/platform",
  name: "prod",
  chartVersion: "2.6.2",
  kasAddress: "wss://kas.gitlab.com",
  replicas: 2,
  rotation: "2025-01",
  accessAs: "impersonate",
  apps,
  projects: ["acme/tools"],
  groups: ["acme/shared"],
};

const labels = {
  "app.kubernetes.io/managed-by": "pulumi",
  "app.kubernetes.io/part-of": "gitlab-cd-platform",
  "app.kubernetes.io/component": "gitlab-agent",
  "app.kubernetes.io/instance": "prod",
};

const subject = {
  kind: "ServiceAccount",
  name: "gitlab-agent-prod",
  namespace: "gitlab-managed-apps",
};

const ownRole = [
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
  {
    apiGroups: ["coordination.k8s.io"],
    resources: ["leases"],
    resourceNames: ["agent-7-lock"],
    verbs: ["get", "update"],
  },
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
];

const common = {
  "pulumi:providers:kubernetes": 1,
  [T.component]: 1,
  [T.agent]: 1,
  [T.token]: 1,
  [T.file]: 1,
  [T.secret]: 1,
  [T.sa]: 1,
  [T.role]: 1,
  [T.roleBinding]: 1,
  [T.release]: 1,
};

function build(args: Partial<GitLabAgentArgs> = {}) {
  return record((provider) => new GitLabAgent("agent", { ...base, ...args }, { provider }));
}

function configOf(resources: Resources): unknown {
  return parse(String(resources.find(T.file, "agent-config").inputs["content"]));
}

function valuesOf(resources: Resources): Record<string, unknown> {
  return resources.find(T.release, "agent").inputs["values"] as Record<string, unknown>;
}

const impersonate = (username: string) => ({ impersonate: { username } });

describe("GitLabAgent", () => {
  test("impersonate: registers the agent, commits its config, keeps the token in a Secret and installs agentk with RBAC limited to the app users", async () => {
    const { resources, result } = await build();
    expect(resources.countByType()).toEqual({
      ...common,
      [T.clusterRole]: 1,
      [T.clusterRoleBinding]: 1,
    });

    // GitLab: agent, config file, token.
    expect(resources.find(T.agent, "agent").inputs).toMatchObject({
      project: "acme/platform",
      name: "prod",
    });
    expect(resources.find(T.file, "agent-config").inputs).toMatchObject({
      project: "acme/platform",
      branch: "main",
      filePath: ".gitlab/agents/prod/config.yaml",
      encoding: "text",
      commitMessage: "GitLab agent prod: configuration managed by Pulumi",
    });
    expect(configOf(resources)).toEqual({
      ci_access: {
        projects: [
          {
            id: "acme/web",
            default_namespace: "web",
            access_as: impersonate("gitlab-agent:prod:app:web"),
          },
          {
            id: "acme/api",
            default_namespace: "api",
            access_as: impersonate("gitlab-agent:prod:app:api"),
          },
          { id: "acme/tools", access_as: impersonate("gitlab-agent:prod:no-access") },
          { id: "acme/platform", access_as: impersonate("gitlab-agent:prod:no-access") },
        ],
        groups: [{ id: "acme/shared", access_as: impersonate("gitlab-agent:prod:no-access") }],
      },
    });
    const token = resources.find(T.token, "agent-token");
    expect(token.inputs).toMatchObject({
      project: "acme/platform",
      agentId: 7,
      name: "prod-pulumi",
      description: "Managed by Pulumi; rotation 2025-01",
    });
    // Replacement comes from the token provider's diff (any change replaces), not an option.
    expect(token.replaceOnChanges).toEqual([]);
    expect(token.deleteBeforeReplace).toBe(false);

    // The token Secret: fixed name, key `token`, sent as a secret.
    const secret = resources.find(T.secret, "agent-token");
    expect(secret.inputs).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "gitlab-agent-prod-token", namespace: "gitlab-managed-apps", labels },
      type: "Opaque",
      stringData: { token: "glagent-mock-agent-token" },
    });
    expect(secret.secretInputs).toEqual(["stringData"]);
    expect(secret.dependencies).toContain(token.urn);

    // ServiceAccount and RBAC.
    const sa = resources.find(T.sa, "agent");
    expect(sa.inputs).toEqual({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "gitlab-agent-prod", namespace: "gitlab-managed-apps", labels },
      automountServiceAccountToken: false,
    });
    expect(resources.find(T.role, "agent").inputs).toEqual({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "gitlab-agent-prod", namespace: "gitlab-managed-apps", labels },
      rules: ownRole,
    });
    expect(resources.find(T.roleBinding, "agent").inputs).toEqual({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "gitlab-agent-prod", namespace: "gitlab-managed-apps", labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "gitlab-agent-prod" },
      subjects: [subject],
    });
    expect(resources.find(T.clusterRole, "agent-impersonate").inputs).toEqual({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "gitlab-managed-apps:gitlab-agent-prod:impersonate", labels },
      rules: [
        {
          apiGroups: [""],
          resources: ["users"],
          verbs: ["impersonate"],
          resourceNames: ["gitlab-agent:prod:app:web", "gitlab-agent:prod:app:api"],
        },
      ],
    });
    const clusterBinding = resources.find(T.clusterRoleBinding, "agent-impersonate");
    expect(clusterBinding.inputs).toEqual({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "gitlab-managed-apps:gitlab-agent-prod:impersonate", labels },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "gitlab-managed-apps:gitlab-agent-prod:impersonate",
      },
      subjects: [subject],
    });

    // The Helm release: pinned chart, token only by Secret name, waits, after Secret and RBAC.
    const release = resources.find(T.release, "agent");
    expect(release.inputs).toMatchObject({
      name: "gitlab-agent-prod",
      chart: "gitlab-agent",
      version: "2.6.2",
      repositoryOpts: { repo: "https://charts.gitlab.io" },
      namespace: "gitlab-managed-apps",
      skipAwait: false,
      timeout: 300,
    });
    expect(release.inputs["values"]).toEqual({
      replicas: 2,
      rbac: { create: false },
      serviceAccount: { create: false, name: "gitlab-agent-prod" },
      config: {
        kasAddress: "wss://kas.gitlab.com",
        secretName: "gitlab-agent-prod-token",
        operational_container_scanning: { enabled: false },
      },
      podAnnotations: {
        "gitlab-cd-platform/agent-token-id": "9",
        "gitlab-cd-platform/agent-token-rotation": "2025-01",
      },
      podSecurityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      },
      securityContext: {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
      },
      resources: {
        requests: { cpu: "50m", memory: "128Mi" },
        limits: { cpu: "500m", memory: "256Mi" },
      },
    });
    expect(JSON.stringify(release.inputs)).not.toContain("glagent-");
    expect(release.secretInputs).toEqual([]);
    for (const first of [secret, sa, resources.find(T.roleBinding, "agent"), clusterBinding]) {
      expect(release.dependencies).toContain(first.urn);
    }

    // Children hang under the component; Kubernetes children use the caller's provider.
    const component = resources.find(T.component, "agent");
    const children = resources.all.filter((r) => r !== component && !r.type.startsWith("pulumi:"));
    expect(children).toHaveLength(10);
    for (const child of children) {
      expect(child.parent).toBe(component.urn);
      if (child.type.startsWith("kubernetes:")) {
        expect(child.provider).toContain("pulumi:providers:kubernetes::cluster");
      }
    }

    // Outputs.
    expect(await unwrap(result.agentId)).toBe(7);
    expect(result.kubeContext).toBe("acme/platform:prod");
    expect(result.configPath).toBe(".gitlab/agents/prod/config.yaml");
    expect(result.tokenSecretName).toBe("gitlab-agent-prod-token");
    expect(result.serviceAccountName).toBe("gitlab-agent-prod");
    expect(await unwrap(result.serviceAccountNamespace)).toBe("gitlab-managed-apps");
  });

  test("ci_job: every entry acts as the CI job; impersonation of users, groups and GitLab's extras only", async () => {
    const { resources } = await build({
      accessAs: "ci_job",
      apps: [
        ...apps,
        // Same project, two namespaces: no default namespace for it.
        { name: "worker", project: "acme/jobs", namespace: "worker" },
        { name: "cron", project: "acme/jobs", namespace: "cron" },
        // Same project and namespace: the namespace is still unambiguous.
        { name: "api-admin", project: "acme/api", namespace: "api" },
      ],
    });
    expect(resources.countByType()).toEqual({
      ...common,
      [T.clusterRole]: 1,
      [T.clusterRoleBinding]: 1,
    });
    const ciJob = { ci_job: {} };
    expect(configOf(resources)).toEqual({
      ci_access: {
        projects: [
          { id: "acme/web", default_namespace: "web", access_as: ciJob },
          { id: "acme/api", default_namespace: "api", access_as: ciJob },
          { id: "acme/jobs", access_as: ciJob },
          { id: "acme/tools", access_as: ciJob },
          { id: "acme/platform", access_as: ciJob },
        ],
        groups: [{ id: "acme/shared", access_as: ciJob }],
      },
    });
    expect(resources.find(T.clusterRole, "agent-impersonate").inputs["rules"]).toEqual([
      { apiGroups: [""], resources: ["users", "groups"], verbs: ["impersonate"] },
      {
        apiGroups: ["authentication.k8s.io"],
        resources: [
          "userextras/agent.gitlab.com/id",
          "userextras/agent.gitlab.com/config_project_id",
          "userextras/agent.gitlab.com/project_id",
          "userextras/agent.gitlab.com/ci_pipeline_id",
          "userextras/agent.gitlab.com/ci_job_id",
          "userextras/agent.gitlab.com/username",
          "userextras/agent.gitlab.com/environment_slug",
          "userextras/agent.gitlab.com/environment_tier",
        ],
        verbs: ["impersonate"],
      },
    ]);
    expect(resources.find(T.role, "agent").inputs["rules"]).toEqual(ownRole);
  });

  test("agent: jobs act as the ServiceAccount, no ClusterRole, the config project keeps its implicit access", async () => {
    const { resources, result } = await build({ accessAs: "agent" });
    expect(resources.countByType()).toEqual(common);
    expect(resources.ofType(T.clusterRole)).toHaveLength(0);
    expect(resources.ofType(T.clusterRoleBinding)).toHaveLength(0);
    const agent = { agent: {} };
    expect(configOf(resources)).toEqual({
      ci_access: {
        projects: [
          { id: "acme/web", default_namespace: "web", access_as: agent },
          { id: "acme/api", default_namespace: "api", access_as: agent },
          { id: "acme/tools", access_as: agent },
        ],
        groups: [{ id: "acme/shared", access_as: agent }],
      },
    });
    expect(resources.find(T.role, "agent").inputs["rules"]).toEqual(ownRole);
    const release = resources.find(T.release, "agent");
    expect(release.dependencies).toContain(resources.find(T.roleBinding, "agent").urn);
    expect(result.serviceAccountName).toBe("gitlab-agent-prod");
  });

  test("impersonate without apps creates no ClusterRole (empty resourceNames would allow every user)", async () => {
    const { resources } = await build({ apps: [] });
    expect(resources.countByType()).toEqual(common);
    expect(configOf(resources)).toEqual({
      ci_access: {
        projects: [
          { id: "acme/tools", access_as: impersonate("gitlab-agent:prod:no-access") },
          { id: "acme/platform", access_as: impersonate("gitlab-agent:prod:no-access") },
        ],
        groups: [{ id: "acme/shared", access_as: impersonate("gitlab-agent:prod:no-access") }],
      },
    });
  });

  test("changing the rotation marker replaces the token and rolls the pods; the Secret keeps its name", async () => {
    const before = (await build()).resources;
    const after = (await build({ rotation: "2025-07" })).resources;
    const tokenOf = (r: Resources) => r.find(T.token, "agent-token");
    expect(tokenOf(after).inputs["description"]).toBe("Managed by Pulumi; rotation 2025-07");
    expect(tokenOf(after).replaceOnChanges).toEqual([]);
    expect(valuesOf(after)["podAnnotations"]).toEqual({
      "gitlab-cd-platform/agent-token-id": "9",
      "gitlab-cd-platform/agent-token-rotation": "2025-07",
    });
    const withoutAnnotations = (r: Resources) => ({ ...valuesOf(r), podAnnotations: undefined });
    expect(withoutAnnotations(after)).toEqual(withoutAnnotations(before));
    const secretMeta = (r: Resources) => r.find(T.secret, "agent-token").inputs["metadata"];
    expect(secretMeta(after)).toEqual(secretMeta(before));
    // The new token id reaches the pod template too (another token, another id).
    const { resources: rotated } = await record(
      (provider) => new GitLabAgent("agent", base, { provider }),
      {
        outputs: {
          [T.token]: (args) => ({ token: `glagent-mock-${args.name}-2`, tokenId: 10 }),
        },
      },
    );
    expect(
      (valuesOf(rotated)["podAnnotations"] as Record<string, string>)[
        "gitlab-cd-platform/agent-token-id"
      ],
    ).toBe("10");
    expect(rotated.find(T.secret, "agent-token").inputs["stringData"]).toEqual({
      token: "glagent-mock-agent-token-2",
    });
  });

  test("branch and resources are configurable", async () => {
    const resourcesArg = {
      cpuRequest: "100m",
      cpuLimit: "1",
      memoryRequest: "64Mi",
      memoryLimit: "512Mi",
    };
    const { resources } = await build({ branch: "production", resources: resourcesArg });
    expect(resources.find(T.file, "agent-config").inputs["branch"]).toBe("production");
    expect(valuesOf(resources)["resources"]).toEqual({
      requests: { cpu: "100m", memory: "64Mi" },
      limits: { cpu: "1", memory: "512Mi" },
    });
  });

  test("the token is registered as a secret output and sent to the Secret as a secret", async () => {
    const { resources } = await build();
    expect(resources.find(T.token, "agent-token").additionalSecretOutputs).toContain("token");
    expect(resources.find(T.secret, "agent-token").secretInputs).toEqual(["stringData"]);
  });

  test.each<[string, Partial<GitLabAgentArgs>, string]>([
    [
      "a name that is not a DNS label",
      { name: "Prod_1" },
      `name: expected a DNS label of at most 40 characters (the Helm release gitlab-agent-<name> must fit Helm's 53), got "Prod_1"`,
    ],
    [
      "a name too long for the Helm release",
      { name: "a".repeat(41) },
      `name: expected a DNS label of at most 40 characters (the Helm release gitlab-agent-<name> must fit Helm's 53), got "${"a".repeat(41)}"`,
    ],
    [
      "two apps of one project in impersonate mode",
      { apps: [...apps, { name: "admin", project: "acme/web", namespace: "admin" }] },
      `apps[2].project: "acme/web" is also the project of apps[0]; with accessAs "impersonate" a project impersonates exactly one app's user`,
    ],
    [
      "two apps with one name",
      { apps: [...apps, { name: "web", project: "acme/web2", namespace: "web2" }] },
      `apps[2].name: "web" is also apps[0]`,
    ],
    [
      "an app name that is not a DNS label",
      { apps: [{ name: "Web_App", project: "acme/web", namespace: "web" }] },
      `apps[0].name: expected a DNS-1123 label, got "Web_App"`,
    ],
    [
      "an app namespace that is not a DNS label",
      { apps: [{ name: "web", project: "acme/web", namespace: "Web" }] },
      `apps[0].namespace: expected a DNS-1123 label, got "Web"`,
    ],
    [
      "an app project that is not a path",
      { apps: [{ name: "web", project: "web", namespace: "web" }] },
      `apps[0].project: expected a project path such as group/project, got "web"`,
    ],
    [
      "a config project that is not a path",
      { projectPath: "/acme" },
      `projectPath: expected a project path such as group/project, got "/acme"`,
    ],
    [
      "a KAS address over https",
      { kasAddress: "https://kas.gitlab.com" },
      `kasAddress: expected a wss://, ws://, grpcs:// or grpc:// URL, got "https://kas.gitlab.com"`,
    ],
    [
      "an unpinned chart",
      { chartVersion: "latest" },
      `chartVersion: expected a version such as 2.6.2, got "latest"`,
    ],
    ["no replicas", { replicas: 0 }, `replicas: expected a positive integer, got 0`],
    [
      "an empty rotation marker",
      { rotation: " " },
      `rotation: expected a non-empty marker, got " "`,
    ],
    ["an empty branch", { branch: "" }, `branch: expected a branch name, got ""`],
    [
      "a resource that is not a quantity",
      { resources: { ...DEFAULT_AGENT_RESOURCES, cpuLimit: "lots" } },
      `resources.cpuLimit: expected a Kubernetes quantity, got "lots"`,
    ],
    [
      "an extra project that is not a path",
      { projects: ["tools"] },
      `projects[0]: expected a project path such as group/project, got "tools"`,
    ],
    [
      "a group that is not a path",
      { groups: ["acme//x"] },
      `groups[0]: expected a group path such as group/subgroup, got "acme//x"`,
    ],
    [
      "an agentk tag with a short digest",
      { imageTag: "v18.6.0@sha256:abc" },
      `imageTag: expected an agentk image tag such as v18.6.0 or v18.6.0@sha256:<64 hex>, got "v18.6.0@sha256:abc"`,
    ],
    [
      "an unknown accessAs",
      { accessAs: "admin" as GitLabAgentArgs["accessAs"] },
      `accessAs: expected "impersonate", "ci_job" or "agent", got "admin"`,
    ],
  ])("rejects %s before registering anything", (_, args, message) => {
    expect(() => new GitLabAgent("agent", { ...base, ...args })).toThrow(
      new Error(`GitLabAgent "agent": ${message}`),
    );
  });

  test("the agentk image tag follows the GitLab version when set, the chart's appVersion otherwise", async () => {
    const tagged = await build({ imageTag: "v18.6.0" });
    expect(valuesOf(tagged.resources)["image"]).toEqual({ tag: "v18.6.0" });
    // The chart renders <repository>:<tag>: with a digest the image is pulled by it.
    const digest = `sha256:${"c".repeat(64)}`;
    const pinned = await build({ imageTag: `v18.6.0@${digest}` });
    expect(valuesOf(pinned.resources)["image"]).toEqual({ tag: `v18.6.0@${digest}` });
    const unpinned = await build({});
    expect(valuesOf(unpinned.resources)).not.toHaveProperty("image");
  });

  test("reports every problem, one line each", () => {
    expect(
      () => new GitLabAgent("agent", { ...base, replicas: 0, rotation: "", imageTag: "latest" }),
    ).toThrow(
      new Error(
        'GitLabAgent "agent": imageTag: expected an agentk image tag such as v18.6.0 or v18.6.0@sha256:<64 hex>, got "latest"\n' +
          'GitLabAgent "agent": replicas: expected a positive integer, got 0\n' +
          'GitLabAgent "agent": rotation: expected a non-empty marker, got ""',
      ),
    );
  });
});

describe("agentConfig", () => {
  const input = {
    agentName: "prod",
    configProject: "acme/web",
    accessAs: "impersonate" as const,
    apps,
    projects: ["acme/api", "acme/tools", "acme/tools"],
    groups: ["acme", "acme"],
  };

  test("one entry per distinct project; an app project keeps its app's identity", () => {
    expect(agentConfig(input)).toEqual({
      ci_access: {
        projects: [
          {
            id: "acme/web",
            default_namespace: "web",
            access_as: impersonate("gitlab-agent:prod:app:web"),
          },
          {
            id: "acme/api",
            default_namespace: "api",
            access_as: impersonate("gitlab-agent:prod:app:api"),
          },
          { id: "acme/tools", access_as: impersonate("gitlab-agent:prod:no-access") },
        ],
        groups: [{ id: "acme", access_as: impersonate("gitlab-agent:prod:no-access") }],
      },
    });
  });

  test("every entry, groups too, is restricted to protected refs and the given environments", () => {
    const restricted = agentConfig({
      ...input,
      protectedBranchesOnly: true,
      environments: ["production"],
    });
    const only = { protected_branches_only: true, environments: ["production"] };
    expect(restricted.ci_access.projects?.map((p) => ({ ...p, access_as: undefined }))).toEqual([
      { id: "acme/web", default_namespace: "web", access_as: undefined, ...only },
      { id: "acme/api", default_namespace: "api", access_as: undefined, ...only },
      { id: "acme/tools", access_as: undefined, ...only },
    ]);
    expect(restricted.ci_access.groups).toEqual([
      { id: "acme", access_as: impersonate("gitlab-agent:prod:no-access"), ...only },
    ]);
    expect(renderAgentConfig(restricted)).toContain(
      "      protected_branches_only: true\n      environments:\n        - production\n",
    );
    // Off: neither key is written (an old KAS would refuse a key it does not know).
    const open = renderAgentConfig(
      agentConfig({ ...input, protectedBranchesOnly: false, environments: [] }),
    );
    expect(open).not.toContain("protected_branches_only");
    expect(open).not.toContain("environments");
  });

  test("agent mode with nothing to authorize writes an empty ci_access", () => {
    const config: AgentConfigFile = agentConfig({
      ...input,
      accessAs: "agent",
      apps: [],
      projects: [],
      groups: [],
    });
    expect(config).toEqual({ ci_access: {} });
    expect(parse(renderAgentConfig(config))).toEqual({ ci_access: {} });
  });

  test("the rendered file says Pulumi manages it and parses back to the same object", () => {
    const rendered = renderAgentConfig(agentConfig(input));
    expect(rendered.startsWith("# Managed by Pulumi (gitlab-cd-platform)")).toBe(true);
    expect(parse(rendered)).toEqual(agentConfig(input));
    // Entries share `access_as` objects; the file repeats them instead of using YAML aliases.
    expect(rendered).not.toMatch(/[&*]a\d/);
    expect(rendered.match(/username: gitlab-agent:prod:no-access/g)).toHaveLength(2);
  });
});

describe("agentHelmValues", () => {
  test("never carries the token, only the Secret's name", () => {
    const values = agentHelmValues({
      replicas: 1,
      kasAddress: "wss://gitlab.example.com/-/kubernetes-agent/",
      tokenSecretName: "gitlab-agent-dev-token",
      serviceAccountName: "gitlab-agent-dev",
      resources: DEFAULT_AGENT_RESOURCES,
      tokenId: "3",
      rotation: "r1",
    });
    expect(values.config).toEqual({
      kasAddress: "wss://gitlab.example.com/-/kubernetes-agent/",
      secretName: "gitlab-agent-dev-token",
      operational_container_scanning: { enabled: false },
    });
    expect(Object.keys(values.config)).not.toContain("token");
    expect(values.replicas).toBe(1);
    expect(values.podAnnotations).toEqual({
      "gitlab-cd-platform/agent-token-id": "3",
      "gitlab-cd-platform/agent-token-rotation": "r1",
    });
  });
});
