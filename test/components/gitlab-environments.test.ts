import { ClusterAgent } from "../../components/gitlab";
import {
  GitLabEnvironments,
  GitLabEnvironmentsArgs,
  deployAccessLevels,
  fluxKustomizationPath,
} from "../../components/gitlab-environments";
import { record, waitForRegistrations } from "../harness/component";
import { installRecorder, unwrap } from "../harness/mocks";

const COMPONENT = "platform:ci:GitLabEnvironments";
const ENV = "pulumi-nodejs:dynamic/gitlab:ProjectEnvironment";
const PROTECTED = "pulumi-nodejs:dynamic/gitlab:ProjectProtectedEnvironment";
const AGENT = "pulumi-nodejs:dynamic/gitlab:ClusterAgent";
const K8S_PROVIDER = "pulumi:providers:kubernetes";

const base: GitLabEnvironmentsArgs = {
  name: "production",
  tier: "production",
  apps: [
    { app: "web", project: "acme/web", namespace: "web", url: "https://web.example.com" },
    { app: "api", project: "acme/api", namespace: "api" },
  ],
};

describe("GitLabEnvironments", () => {
  test("protected: an environment with its dashboard and a protection per app, protection after its environment", async () => {
    const { resources, result } = await record(() => {
      // The agent id arrives as an Output of the agent, as index.ts passes it.
      const agent = new ClusterAgent("agent", { project: "acme/platform", name: "production" });
      const envs = new GitLabEnvironments("envs", {
        ...base,
        apps: [
          {
            app: "web",
            project: "acme/web",
            namespace: "web",
            url: "https://web.example.com",
            clusterAgentId: agent.agentId,
            fluxResourcePath: fluxKustomizationPath("web", "web"),
          },
          { app: "api", project: "acme/api", namespace: "api" },
        ],
        protection: { deployAccessLevel: "maintainer", requiredApprovalCount: 2 },
      });
      return { agent, envs };
    });
    expect(resources.countByType()).toEqual({
      [K8S_PROVIDER]: 1,
      [AGENT]: 1,
      [COMPONENT]: 1,
      [ENV]: 2,
      [PROTECTED]: 2,
    });
    const component = resources.find(COMPONENT, "envs");
    const web = resources.find(ENV, "envs-web");
    const api = resources.find(ENV, "envs-api");
    expect(web.inputs).toEqual({
      resourceName: "envs-web",
      project: "acme/web",
      name: "production",
      tier: "production",
      externalUrl: "https://web.example.com",
      clusterAgentId: 7,
      kubernetesNamespace: "web",
      fluxResourcePath: "kustomize.toolkit.fluxcd.io/v1/namespaces/web/kustomizations/web",
      stopBeforeDestroy: true,
    });
    // No agent: no dashboard, and no namespace GitLab would reject without one.
    expect(api.inputs).toEqual({
      resourceName: "envs-api",
      project: "acme/api",
      name: "production",
      tier: "production",
      stopBeforeDestroy: true,
    });
    expect(web.dependencies).toContain(resources.find(AGENT, "agent").urn);

    for (const [app, environment] of [
      ["web", web],
      ["api", api],
    ] as const) {
      const protection = resources.find(PROTECTED, `envs-${app}-protection`);
      expect(protection.inputs).toEqual({
        resourceName: `envs-${app}-protection`,
        project: `acme/${app}`,
        environment: "production",
        deployAccessLevels: [{ accessLevel: "maintainer" }],
        requiredApprovalCount: 2,
      });
      expect(protection.dependencies).toContain(environment.urn);
      expect(protection.parent).toBe(component.urn);
      expect(environment.parent).toBe(component.urn);
    }

    const { envs } = result;
    expect(await unwrap(envs.environmentIds)).toEqual({ web: 11, api: 11 });
    expect(await unwrap(envs.slugs)).toEqual({ web: "production", api: "production" });
    expect(Object.keys(envs.environments)).toEqual(["web", "api"]);
    expect(Object.keys(envs.protections)).toEqual(["web", "api"]);
  });

  test("unprotected: only the environments; stopBeforeDestroy and tier pass through", async () => {
    const { resources, result } = await record(
      () =>
        new GitLabEnvironments("staging", {
          name: "staging",
          tier: "staging",
          stopBeforeDestroy: false,
          apps: [
            // An agent without a Flux resource: dashboard with the namespace, no Flux status.
            { app: "web", project: "acme/web", namespace: "web-staging", clusterAgentId: 42 },
          ],
        }),
    );
    expect(resources.countByType()).toEqual({
      [K8S_PROVIDER]: 1,
      [COMPONENT]: 1,
      [ENV]: 1,
    });
    expect(resources.ofType(PROTECTED)).toHaveLength(0);
    expect(resources.find(ENV, "staging-web").inputs).toEqual({
      resourceName: "staging-web",
      project: "acme/web",
      name: "staging",
      tier: "staging",
      clusterAgentId: 42,
      kubernetesNamespace: "web-staging",
      stopBeforeDestroy: false,
    });
    expect(await unwrap(result.environmentIds)).toEqual({ web: 11 });
    expect(result.protections).toEqual({});
  });

  test("developers may deploy when the protection says so; zero approvals is allowed", async () => {
    const { resources } = await record(
      () =>
        new GitLabEnvironments("envs", {
          ...base,
          protection: { deployAccessLevel: "developer", requiredApprovalCount: 0 },
        }),
    );
    expect(resources.find(PROTECTED, "envs-web-protection").inputs).toEqual({
      resourceName: "envs-web-protection",
      project: "acme/web",
      environment: "production",
      deployAccessLevels: [{ accessLevel: "developer" }],
      requiredApprovalCount: 0,
    });
  });

  test("no apps: only the component, with empty outputs", async () => {
    const { resources, result } = await record(
      () => new GitLabEnvironments("envs", { ...base, apps: [] }),
    );
    expect(resources.countByType()).toEqual({ [K8S_PROVIDER]: 1, [COMPONENT]: 1 });
    expect(await unwrap(result.environmentIds)).toEqual({});
  });
});

describe("GitLabEnvironments, invalid arguments", () => {
  const web = base.apps[0] as GitLabEnvironmentsArgs["apps"][number];
  const label = 'GitLabEnvironments "envs": ';

  test.each<{ case: string; args: Partial<GitLabEnvironmentsArgs>; message: string }>([
    {
      case: "a wildcard name",
      args: { name: "review/*" },
      message: 'name: expected a concrete environment name, not a wildcard scope, got "review/*"',
    },
    {
      case: "a CI/CD variable in the name",
      args: { name: "review/$CI_COMMIT_REF_SLUG" },
      message:
        "name: expected a concrete environment name, not a CI/CD variable reference, " +
        'got "review/$CI_COMMIT_REF_SLUG"',
    },
    {
      case: "a name GitLab rejects",
      args: { name: "production/" },
      message:
        "name: expected letters, digits, spaces and '-', '_', '/', '$', '{', '}', '.', not " +
        "starting or ending with '/', at most 255 characters, got \"production/\"",
    },
    {
      case: "an unknown tier",
      args: { tier: "prod" as never },
      message: 'tier: expected one of production, staging, testing, development, other, got "prod"',
    },
    {
      case: "six required approvals",
      args: { protection: { deployAccessLevel: "maintainer", requiredApprovalCount: 6 } },
      message: "protection.requiredApprovalCount: expected a whole number from 0 to 5, got 6",
    },
    {
      case: "a negative approval count",
      args: { protection: { deployAccessLevel: "maintainer", requiredApprovalCount: -1 } },
      message: "protection.requiredApprovalCount: expected a whole number from 0 to 5, got -1",
    },
    {
      case: "a fractional approval count",
      args: { protection: { deployAccessLevel: "developer", requiredApprovalCount: 1.5 } },
      message: "protection.requiredApprovalCount: expected a whole number from 0 to 5, got 1.5",
    },
    {
      case: "an unknown deploy access level",
      args: { protection: { deployAccessLevel: "owner" as never, requiredApprovalCount: 1 } },
      message: 'protection.deployAccessLevel: expected "maintainer" or "developer", got "owner"',
    },
    {
      case: "a duplicate app",
      args: { apps: [web, { ...web, project: "acme/web2" }] },
      message: 'apps[1].app: "web" is already listed as apps[0]',
    },
    {
      case: "two apps in one project",
      args: { apps: [web, { ...web, app: "web2" }] },
      message: 'apps[1].project: "acme/web" already gets environment "production" from apps[0]',
    },
    {
      case: "an app name that is no DNS label",
      args: { apps: [{ ...web, app: "Web_App" }] },
      message: 'apps[0].app: expected a DNS-1123 label (the app\'s name), got "Web_App"',
    },
    {
      case: "an empty project",
      args: { apps: [{ ...web, project: " " }] },
      message: 'apps[0].project: expected a GitLab project path, got " "',
    },
    {
      case: "a bad namespace",
      args: { apps: [{ ...web, namespace: "Web" }] },
      message:
        "apps[0].namespace: expected a DNS-1123 label (lowercase letters, digits, '-', at most 63), " +
        'got "Web"',
    },
    {
      case: "a URL without scheme",
      args: { apps: [{ ...web, url: "web.example.com" }] },
      message:
        'apps[0].url: expected an http(s) URL of at most 255 characters, got "web.example.com"',
    },
    {
      case: "an agent id of 0",
      args: { apps: [{ ...web, clusterAgentId: 0 }] },
      message: "apps[0].clusterAgentId: expected a positive agent id, got 0",
    },
    {
      case: "a Flux resource path without an agent",
      args: { apps: [{ ...web, fluxResourcePath: fluxKustomizationPath("web", "web") }] },
      message:
        "apps[0].fluxResourcePath: needs clusterAgentId (GitLab shows Flux status only through " +
        "an agent, and rejects a Flux resource path without an agent's namespace)",
    },
    {
      case: "a Flux resource path that is no resource path",
      args: { apps: [{ ...web, clusterAgentId: 7, fluxResourcePath: "Kustomization/web" }] },
      message:
        "apps[0].fluxResourcePath: expected <apiVersion>/namespaces/<namespace>/" +
        "kustomizations|helmreleases/<name> (kustomize.toolkit.fluxcd.io/v1/namespaces/web/" +
        'kustomizations/web), at most 255 characters, got "Kustomization/web"',
    },
    {
      case: "stopBeforeDestroy that is no boolean",
      args: { stopBeforeDestroy: "yes" as never },
      message: 'stopBeforeDestroy: expected true or false, got "yes"',
    },
  ])("$case is rejected before anything is registered", async ({ args, message }) => {
    const recording = await installRecorder("platform", "test");
    expect(() => new GitLabEnvironments("envs", { ...base, ...args })).toThrow(
      new Error(label + message),
    );
    await waitForRegistrations();
    expect(recording.resources).toEqual([]);
  });

  test("every problem is reported at once, one per line", () => {
    expect(
      () =>
        new GitLabEnvironments("envs", {
          ...base,
          name: "review/*",
          protection: { deployAccessLevel: "maintainer", requiredApprovalCount: 9 },
        }),
    ).toThrow(
      new Error(
        `${label}name: expected a concrete environment name, not a wildcard scope, got "review/*"\n` +
          `${label}protection.requiredApprovalCount: expected a whole number from 0 to 5, got 9`,
      ),
    );
  });
});

describe("pure helpers", () => {
  test.each([
    ["web", "web", "kustomize.toolkit.fluxcd.io/v1/namespaces/web/kustomizations/web"],
    [
      "shop-prod",
      "shop.frontend",
      "kustomize.toolkit.fluxcd.io/v1/namespaces/shop-prod/kustomizations/shop.frontend",
    ],
  ])("fluxKustomizationPath(%s, %s) is %s", (namespace, name, path) => {
    expect(fluxKustomizationPath(namespace, name)).toBe(path);
  });

  test("fluxKustomizationPath rejects names that no Kubernetes object can have", () => {
    expect(() => fluxKustomizationPath("Web", "web")).toThrow(
      new Error(
        "fluxKustomizationPath: namespace: expected a DNS-1123 label (lowercase letters, digits, " +
          "'-', at most 63), got \"Web\"",
      ),
    );
    expect(() => fluxKustomizationPath("web", "web/app")).toThrow(
      new Error('fluxKustomizationPath: name: expected a DNS-1123 subdomain, got "web/app"'),
    );
  });

  test.each([["maintainer"], ["developer"]] as const)(
    "deployAccessLevels for %s is that role (and above)",
    (level) => {
      expect(deployAccessLevels({ deployAccessLevel: level, requiredApprovalCount: 1 })).toEqual([
        { accessLevel: level },
      ]);
    },
  );
});
