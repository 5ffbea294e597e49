import { parse } from "yaml";
import { ProgramRun, runProgram } from "../harness/program";
import { RecordedResource, Resources } from "../harness/mocks";
import { parse as parseToml } from "smol-toml";
import { RUNNER_RBAC_RULES } from "../../components/runner-values";
import { schemaProblems } from "../harness/k8s-schema";

/**
 * The whole program per shipped stack (it runs, every object is schema-valid, one explicit
 * provider), and variants of the dev stack: which components each stack
 * gets, how they are wired (Secrets before the Releases that mount them, pull secrets in every app
 * namespace, variables on the right projects) and the security properties that must hold in every
 * environment.
 */

const STACKS = ["dev", "staging", "production"] as const;
const runs = new Map<string, ProgramRun>();

// Variants run the whole program once or twice each: a few seconds on an idle machine, but a
// loaded one must not turn a slow run into a timeout (a timed-out run keeps going while the next
// test resets the module registry under it).
jest.setTimeout(180_000);

beforeAll(async () => {
  for (const stack of STACKS) {
    runs.set(stack, await runProgram(stack));
  }
}, 300_000);

function run(stack: string): ProgramRun {
  const r = runs.get(stack);
  if (r === undefined || r.error !== undefined) {
    throw new Error(`stack ${stack} did not run: ${r?.error?.message ?? "no run"}`);
  }
  return r;
}

type Meta = { name?: string; namespace?: string; labels?: Record<string, string> };
const meta = (r: RecordedResource) => (r.inputs["metadata"] ?? {}) as Meta;

/** The one resource of `type` whose `metadata.name` (and namespace, if given) match. */
function byObjectName(
  resources: Resources,
  type: string,
  name: string,
  namespace?: string,
): RecordedResource {
  const found = resources
    .ofType(type)
    .filter(
      (r) => meta(r).name === name && (namespace === undefined || meta(r).namespace === namespace),
    );
  if (found.length !== 1) {
    throw new Error(`expected one ${type} ${namespace ?? "*"}/${name}, found ${found.length}`);
  }
  return found[0] as RecordedResource;
}

function releaseOf(resources: Resources, chart: string): RecordedResource {
  const found = resources
    .ofType("kubernetes:helm.sh/v3:Release")
    .filter((r) => r.inputs["chart"] === chart);
  expect(found).toHaveLength(1);
  return found[0] as RecordedResource;
}

/** Mock credentials (see test/harness/mocks.ts): runner, agent, deploy and ServiceAccount tokens. */
const CREDENTIAL = /glrt-|glagent-|gldt-|sa-token-/;

/** Paths of string inputs that look like a credential but are not sent as secrets. */
function plaintextCredentials(resource: RecordedResource): string[] {
  const found: string[] = [];
  const underSecret = (path: string) =>
    resource.secretInputs.some(
      (s) => path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`),
    );
  const walk = (value: unknown, path: string) => {
    if (typeof value === "string") {
      if (CREDENTIAL.test(value) && !underSecret(path)) {
        found.push(`${resource.type} ${resource.name} ${path}`);
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        walk(v, path === "" ? k : `${path}.${k}`);
      }
    }
  };
  walk(resource.inputs, "");
  return found;
}

const COMPONENTS = {
  "platform:cluster:PlatformNamespace": 4,
  "platform:agent:GitLabAgent": 1,
  "platform:ci:GitLabRunner": 1,
  "platform:apps:AppNamespace": 2,
  "platform:apps:AppDeployment": 2,
  "platform:registry:RegistryAuth": 2,
  "platform:ci:CiVariables": 1,
  "platform:ci:GitLabEnvironments": 1,
};

/** Staging also delivers `docs` with Flux: its namespace, pull secret and the Flux install. */
const STAGING_COMPONENTS = {
  ...COMPONENTS,
  "platform:cluster:PlatformNamespace": 6,
  "platform:apps:AppNamespace": 3,
  "platform:registry:RegistryAuth": 3,
  "platform:flux:FluxBootstrap": 1,
};

/** Production also manages the projects' branch and release-tag protection. */
const PRODUCTION_COMPONENTS = { ...COMPONENTS, "platform:ci:GitLabProtection": 1 };

/** The apps of each shipped stack. */
const APPS: Record<(typeof STACKS)[number], string[]> = {
  dev: ["web", "api"],
  staging: ["web", "api", "docs"],
  production: ["web", "api"],
};

const routes = (app: string, hosts: string) =>
  `Ingresses in namespace ${app} may route ${hosts}; spec.defaultBackend is not allowed: it serves every host no rule names`;
const NO_HOST = "no host (the app's config names none: apps[].ingress.host, apps[].allowedHosts)";
const only = (host: string) => `only ${host} (apps[].ingress.host, apps[].allowedHosts)`;

/** The first message of each app namespace's admission policy, naming the hosts it may route. */
const HOST_MESSAGES: Record<(typeof STACKS)[number], Record<string, string>> = {
  dev: { web: routes("web", only("web.dev.example.com")), api: routes("api", NO_HOST) },
  staging: {
    web: routes("web", only("web.staging.example.com")),
    api: routes("api", NO_HOST),
    docs: routes("docs", NO_HOST),
  },
  production: { web: routes("web", only("web.example.com")), api: routes("api", NO_HOST) },
};

function componentCounts(resources: Resources): Record<string, number> {
  return Object.fromEntries(
    Object.entries(resources.countByType()).filter(([type]) => type.startsWith("platform:")),
  );
}

describe.each(STACKS)("stack %s", (stack) => {
  test("runs without error", () => {
    expect(runs.get(stack)?.error).toBeUndefined();
  });

  test("every Kubernetes object is schema-valid", () => {
    expect(schemaProblems(run(stack).resources.all)).toEqual([]);
  });

  test("deploys only through one explicit provider for the stack's own context", () => {
    const providers = run(stack).resources.ofType("pulumi:providers:kubernetes");
    expect(
      providers.map((p) => [p.name, p.inputs["context"], p.inputs["enableServerSideApply"]]),
    ).toEqual([["cluster", `${stack}-cluster`, "true"]]);
    const clusterUrn = providers[0]?.urn ?? "";
    for (const resource of run(stack).resources.all) {
      if (resource.custom && resource.type.startsWith("kubernetes:")) {
        expect(`${resource.type} ${resource.name} ${resource.provider.split("::")[3] ?? ""}`).toBe(
          `${resource.type} ${resource.name} ${clusterUrn.split("::")[3]}`,
        );
      }
    }
  });

  test("exports the environment and kube context", () => {
    expect(run(stack).outputs).toMatchObject({
      environment: stack,
      kubeContext: `${stack}-cluster`,
    });
  });

  test("gets the namespace, runner, registry auth, CI variables, agent, environments and its apps", () => {
    expect(componentCounts(run(stack).resources)).toEqual(
      { dev: COMPONENTS, staging: STAGING_COMPONENTS, production: PRODUCTION_COMPONENTS }[stack],
    );
  });

  test("the managed namespace enforces baseline, app namespaces restricted, with a job quota", () => {
    const { resources } = run(stack);
    const level = (name: string) =>
      meta(byObjectName(resources, "kubernetes:core/v1:Namespace", name)).labels?.[
        "pod-security.kubernetes.io/enforce"
      ];
    expect([level("gitlab-managed-apps"), ...APPS[stack].map(level)]).toEqual([
      "baseline",
      ...APPS[stack].map(() => "restricted"),
    ]);
    expect(
      byObjectName(
        resources,
        "kubernetes:core/v1:ResourceQuota",
        "platform-quota",
        "gitlab-managed-apps",
      ),
    ).toBeDefined();
  });

  test("every app namespace denies traffic in and out by default; DNS and the ingress controller are let through", () => {
    const { resources } = run(stack);
    for (const app of APPS[stack]) {
      const policies = resources
        .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        .filter((p) => meta(p).namespace === app)
        .map((p) => meta(p).name)
        .sort();
      expect(policies).toEqual(["allow-dns", "allow-ingress", "default-deny"]);
    }
  });

  test("every app namespace admits only its own Ingress hosts and no external Service, before its workloads", () => {
    const { resources } = run(stack);
    const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
    const BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
    const guard = (app: string, kind: "ingress" | "service") =>
      `${app}.${kind}-guard.gitlab-cd-platform`;
    const messages = (app: string, kind: "ingress" | "service") => {
      const policy = byObjectName(resources, VAP, guard(app, kind));
      const spec = policy.inputs["spec"] as { validations: { message: string }[] };
      return spec.validations.map((v) => v.message);
    };
    // The messages name what each namespace may route (the hosts in the shipped stack files).
    expect(
      Object.fromEntries(APPS[stack].map((app) => [app, messages(app, "ingress")[0]])),
    ).toEqual(HOST_MESSAGES[stack]);
    for (const app of APPS[stack]) {
      expect(messages(app, "ingress")).toHaveLength(3);
      // No shipped stack allows external Services.
      expect(messages(app, "service")).toHaveLength(2);
      for (const kind of ["ingress", "service"] as const) {
        const binding = byObjectName(resources, BINDING, guard(app, kind));
        expect(binding.inputs["spec"]).toEqual({
          policyName: guard(app, kind),
          validationActions: ["Deny"],
          matchResources: {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": app } },
          },
        });
        // A changed host is admitted before the Ingress naming it is applied.
        for (const type of [
          "kubernetes:core/v1:Service",
          "kubernetes:networking.k8s.io/v1:Ingress",
        ]) {
          for (const object of resources.ofType(type).filter((r) => meta(r).namespace === app)) {
            expect(object.dependencies).toContain(binding.urn);
          }
        }
      }
    }
    expect(resources.ofType(VAP)).toHaveLength(2 * APPS[stack].length);
    expect(resources.ofType(BINDING)).toHaveLength(2 * APPS[stack].length);
  });

  test("runner job pods reach cluster DNS and the outside, not the cluster nor the metadata address", () => {
    const policy = byObjectName(
      run(stack).resources,
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "gitlab-runner-jobs-egress",
      "gitlab-managed-apps",
    );
    const spec = policy.inputs["spec"] as {
      podSelector: unknown;
      policyTypes: string[];
      egress: { to: { ipBlock?: { cidr: string; except: string[] } }[] }[];
    };
    expect(spec.podSelector).toEqual({
      matchLabels: {
        "app.kubernetes.io/part-of": "gitlab-cd-platform",
        "app.kubernetes.io/component": "ci-job",
      },
    });
    expect(spec.policyTypes).toEqual(["Egress"]);
    expect(spec.egress[1]?.to.map((t) => t.ipBlock)).toEqual([
      {
        cidr: "0.0.0.0/0",
        except: [
          "10.0.0.0/8",
          "172.16.0.0/12",
          "192.168.0.0/16",
          "100.64.0.0/10",
          "169.254.169.254/32",
        ],
      },
      { cidr: "::/0", except: ["fc00::/7", "fd00:ec2::254/128"] },
    ]);
  });

  test("the runner Release mounts the token Secret by name, after it, and its values hold no token", () => {
    const { resources } = run(stack);
    const secret = byObjectName(
      resources,
      "kubernetes:core/v1:Secret",
      "gitlab-runner-token",
      "gitlab-managed-apps",
    );
    expect(secret.secretInputs).toContain("stringData");
    expect(secret.inputs["stringData"]).toEqual({
      "runner-token": "glrt-mock-runner-runner",
      "runner-registration-token": "",
    });
    const release = releaseOf(resources, "gitlab-runner");
    expect(release.dependencies).toContain(secret.urn);
    expect(release.inputs["namespace"]).toBe("gitlab-managed-apps");
    const values = release.inputs["values"] as { runners: { secret: string }; gitlabUrl: string };
    expect(values.runners.secret).toBe("gitlab-runner-token");
    expect(values.gitlabUrl).toBe("https://gitlab.example.com");
    expect(JSON.stringify(release.inputs)).not.toContain("glrt-");
  });

  test("the agent Release mounts its token Secret by name, after it, and commits its config", () => {
    const { resources } = run(stack);
    const secret = byObjectName(
      resources,
      "kubernetes:core/v1:Secret",
      `gitlab-agent-${stack}-token`,
      "gitlab-agent",
    );
    expect(secret.secretInputs).toContain("stringData");
    const release = releaseOf(resources, "gitlab-agent");
    expect(release.dependencies).toContain(secret.urn);
    expect(JSON.stringify(release.inputs)).not.toContain("glagent-");
    const file = resources.find("pulumi-nodejs:dynamic/gitlab:RepositoryFile", "agent-config");
    expect(file.inputs).toMatchObject({
      project: "acme/platform",
      branch: "main",
      filePath: `.gitlab/agents/${stack}/config.yaml`,
    });
    // Every entry: only jobs that declare this environment, and (staging, production) only
    // pipelines of protected refs.
    const config = parse(String(file.inputs["content"])) as {
      ci_access: { projects: Record<string, unknown>[] };
    };
    for (const entry of config.ci_access.projects) {
      expect(entry["environments"]).toEqual([stack]);
      expect(entry["protected_branches_only"]).toBe(stack === "dev" ? undefined : true);
    }
  });

  test("a dockerconfigjson pull secret sits in every app namespace and app ServiceAccounts use it", () => {
    const { resources } = run(stack);
    for (const app of APPS[stack]) {
      const pull = byObjectName(
        resources,
        "kubernetes:core/v1:Secret",
        "gitlab-registry-auth",
        app,
      );
      expect(pull.inputs["type"]).toBe("kubernetes.io/dockerconfigjson");
      expect(pull.secretInputs).toContain("data");
      const sa = byObjectName(resources, "kubernetes:core/v1:ServiceAccount", app, app);
      expect(sa.inputs["imagePullSecrets"]).toEqual([{ name: "gitlab-registry-auth" }]);
    }
    // One read_registry token per app project, each only in its own app's namespace: a
    // compromised namespace pulls only its own app's images.
    expect(resources.ofType("pulumi-nodejs:dynamic/gitlab:GroupDeployToken")).toEqual([]);
    for (const app of APPS[stack]) {
      expect(
        resources.find(
          "pulumi-nodejs:dynamic/gitlab:ProjectDeployToken",
          `registry-${app}-deploy-token`,
        ).inputs,
      ).toMatchObject({ project: `acme/${app}`, scopes: ["read_registry"] });
      const secrets = resources
        .ofType("kubernetes:core/v1:Secret")
        .filter((r) => r.parent.endsWith(`RegistryAuth::registry-${app}`));
      expect(secrets.map((r) => meta(r).namespace)).toEqual([app]);
    }
  });

  test("no credential is sent anywhere except as a secret input", () => {
    const { resources } = run(stack);
    expect(resources.all.flatMap(plaintextCredentials)).toEqual([]);
    // The check sees credentials at all: the token Secrets hold them, as secrets.
    const runnerSecret = byObjectName(
      resources,
      "kubernetes:core/v1:Secret",
      "gitlab-runner-token",
      "gitlab-managed-apps",
    );
    expect(JSON.stringify(runnerSecret.inputs)).toMatch(CREDENTIAL);
  });

  test("the agent runs in its own restricted namespace, apart from the runner's job pods", () => {
    const { resources } = run(stack);
    const agentNs = byObjectName(resources, "kubernetes:core/v1:Namespace", "gitlab-agent");
    expect(meta(agentNs).labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(releaseOf(resources, "gitlab-agent").inputs["namespace"]).toBe("gitlab-agent");
    const inManaged = resources.all
      .filter((r) => meta(r).namespace === "gitlab-managed-apps")
      .map((r) => meta(r).name);
    expect(inManaged.filter((n) => n?.startsWith("gitlab-agent"))).toEqual([]);
  });

  test("every Secret's payload is a secret input and no ClusterRole exists beyond agent impersonation", () => {
    const { resources } = run(stack);
    for (const secret of resources.ofType("kubernetes:core/v1:Secret")) {
      if (secret.inputs["type"] === "kubernetes.io/service-account-token") {
        expect(secret.inputs["data"]).toBeUndefined();
      } else {
        expect([
          secret.name,
          secret.secretInputs.some((p) => /^(data|stringData)/.test(p)),
        ]).toEqual([secret.name, true]);
      }
    }
    const clusterRoles = resources.ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole");
    expect(clusterRoles.map((r) => r.inputs["rules"])).toEqual([
      [
        {
          apiGroups: [""],
          resources: ["users"],
          verbs: ["impersonate"],
          // Exactly the users of the apps that deploy through the agent.
          resourceNames:
            stack === "dev"
              ? ["gitlab-agent:dev:app:api"]
              : [`gitlab-agent:${stack}:app:web`, `gitlab-agent:${stack}:app:api`],
        },
      ],
    ]);
  });

  test("app pipelines get KUBE_NAMESPACE, IMAGE_REPOSITORY and the agent's KUBE_CONTEXT in their scope", () => {
    const { resources } = run(stack);
    const variable = (project: string, key: string) =>
      resources
        .ofType("pulumi-nodejs:dynamic/gitlab:ProjectVariable")
        .find((v) => v.inputs["project"] === project && v.inputs["key"] === key);
    expect(variable("acme/api", "KUBE_CONTEXT")?.inputs).toMatchObject({
      value: `acme/platform:${stack}`,
      environmentScope: stack,
    });
    expect(variable("acme/api", "KUBE_NAMESPACE")?.inputs["value"]).toBe("api");
    expect(variable("acme/web", "IMAGE_REPOSITORY")?.inputs["value"]).toBe(
      "registry.gitlab.example.com/acme/web",
    );
    for (const v of resources.ofType("pulumi-nodejs:dynamic/gitlab:ProjectVariable")) {
      expect(v.secretInputs).toContain("value");
    }
  });

  test("exports what operators and pipelines need, and no credential", () => {
    const r = run(stack);
    expect(r.outputs).toMatchObject({
      managedNamespace: "gitlab-managed-apps",
      ciKubeContext: `acme/platform:${stack}`,
      registrySecretName: "gitlab-registry-auth",
      appNamespaceNames: Object.fromEntries(APPS[stack].map((a) => [a, a])),
      // https where the Ingress has TLS (staging, production), http where it has none (dev).
      appUrls: {
        web: {
          dev: "http://web.dev.example.com",
          staging: "https://web.staging.example.com",
          production: "https://web.example.com",
        }[stack],
      },
    });
    expect(JSON.stringify(r.outputs)).not.toMatch(/glrt-|glagent-|gldt-|sa-token-/);
  });
});

describe("differences between environments", () => {
  test("production protects every project's default branch and release tags, adopting GitLab's own branch protection", () => {
    const { resources } = run("production");
    const branches = resources.ofType("pulumi-nodejs:dynamic/gitlab:BranchProtection");
    // Registration order: the platform project's waits for its CODEOWNERS (below).
    expect(branches.map((b) => [b.inputs["project"], b.inputs["branch"]])).toEqual([
      ["acme/web", "main"],
      ["acme/api", "main"],
      ["acme/platform", "main"],
    ]);
    for (const b of branches) {
      expect(b.inputs).toMatchObject({
        pushAccessLevel: "no one",
        mergeAccessLevel: "maintainer",
        allowForcePush: false,
        // agent.codeOwners turns it on (the stack file names the agents' code owners).
        codeOwnerApprovalRequired: true,
        adoptExisting: true,
      });
    }
    const files = resources.ofType("pulumi-nodejs:dynamic/gitlab:RepositoryFile");
    const codeOwners = files.find((f) => f.inputs["filePath"] === ".gitlab/CODEOWNERS");
    expect(codeOwners?.inputs).toMatchObject({
      project: "acme/platform",
      branch: "main",
      adoptKind: "codeOwners",
    });
    expect(String(codeOwners?.inputs["content"])).toContain(
      "[GitLab agents]\n/.gitlab/agents/ @acme/platform-admins\n",
    );
    expect(branches[2]?.dependencies).toContain(codeOwners?.urn);
    // No one may push, but the program's own user (the fake's, from GET /user) still commits the
    // agents' files to the platform project; app projects make no such exception.
    const pushers = branches.map((b) => b.inputs["allowedToPushes"] as { userId: number }[]);
    expect(pushers.slice(0, 2)).toEqual([undefined, undefined]);
    expect(pushers[2]).toHaveLength(1);
    expect(Number.isInteger(pushers[2]?.[0]?.userId) && pushers[2]![0]!.userId > 0).toBe(true);
    const tags = resources.ofType("pulumi-nodejs:dynamic/gitlab:TagProtection");
    expect(
      tags.map((t) => [t.inputs["project"], t.inputs["tag"], t.inputs["createAccessLevel"]]),
    ).toEqual([
      ["acme/platform", "v*", "maintainer"],
      ["acme/web", "v*", "maintainer"],
      ["acme/api", "v*", "maintainer"],
    ]);
    // One stack manages the shared projects: dev and staging leave them alone.
    for (const stack of ["dev", "staging"]) {
      expect(run(stack).resources.ofType("pulumi-nodejs:dynamic/gitlab:BranchProtection")).toEqual(
        [],
      );
      expect(
        run(stack)
          .resources.ofType("pulumi-nodejs:dynamic/gitlab:RepositoryFile")
          .map((f) => f.inputs["filePath"]),
      ).toEqual([`.gitlab/agents/${stack}/config.yaml`]);
    }
  });

  test("dev deploys web directly: a deployer token, a token-free KUBECONFIG and a masked KUBE_TOKEN", () => {
    const { resources } = run("dev");
    const token = byObjectName(resources, "kubernetes:core/v1:Secret", "web-deployer-token", "web");
    expect(token.inputs["type"]).toBe("kubernetes.io/service-account-token");
    const vars = resources
      .ofType("pulumi-nodejs:dynamic/gitlab:ProjectVariable")
      .filter((v) => v.inputs["project"] === "acme/web");
    const kubeconfig = vars.find((v) => v.inputs["key"] === "KUBECONFIG");
    const kubeToken = vars.find((v) => v.inputs["key"] === "KUBE_TOKEN");
    // Dev deploys from any branch: the deployer credentials are not protected there.
    expect(kubeconfig?.inputs).toMatchObject({ variableType: "file", protected: false, raw: true });
    expect(String(kubeconfig?.inputs["value"])).toContain("https://k8s.dev.example.com:6443");
    expect(String(kubeconfig?.inputs["value"])).not.toContain("sa-token-");
    expect(kubeToken?.inputs).toMatchObject({
      masked: true,
      protected: false,
      value: "sa-token-app-web-deployer-token",
    });
    expect(vars.find((v) => v.inputs["key"] === "KUBE_CONTEXT")).toBeUndefined();
  });

  test("staging and production deploy both apps through the agent: no deployer tokens anywhere", () => {
    for (const stack of ["staging", "production"]) {
      const { resources } = run(stack);
      expect(
        resources
          .ofType("kubernetes:core/v1:Secret")
          .filter((s) => s.inputs["type"] === "kubernetes.io/service-account-token"),
      ).toEqual([]);
      const binding = byObjectName(
        resources,
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        "deployer",
        "web",
      );
      expect(binding.inputs["subjects"]).toEqual([
        {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "User",
          name: `gitlab-agent:${stack}:app:web`,
        },
      ]);
    }
  });

  test("production: protected runner, PodDisruptionBudgets for both apps, images by digest", () => {
    const { resources } = run("production");
    expect(
      resources.find("pulumi-nodejs:dynamic/gitlab:UserRunner", "runner-runner").inputs[
        "accessLevel"
      ],
    ).toBe("ref_protected");
    expect(
      resources.ofType("kubernetes:policy/v1:PodDisruptionBudget").map((p) => meta(p).namespace),
    ).toEqual(["web", "api"]);
    const web = byObjectName(resources, "kubernetes:apps/v1:Deployment", "web", "web");
    const spec = web.inputs["spec"] as {
      replicas: number;
      template: { spec: { containers: { image: string }[] } };
    };
    expect(spec.replicas).toBe(3);
    expect(spec.template.spec.containers[0]?.image).toMatch(/@sha256:[a-f0-9]{64}$/);
    expect(web.ignoreChanges).toEqual(["spec.template.spec.containers[0].image"]);
  });

  test("staging's Flux runs the pinned chart's controllers and install check by digest", () => {
    const values = releaseOf(run("staging").resources, "flux2").inputs["values"] as Record<
      string,
      Record<string, unknown>
    >;
    expect(values["sourceController"]).toMatchObject({
      image: "ghcr.io/fluxcd/source-controller",
      tag: "v1.8.2@sha256:f2f6fd483b9a8b8c69f8ebe9f2277be23093a2b552b3578a6db15710d736bb0e",
    });
    expect(values["kustomizeController"]).toMatchObject({
      image: "ghcr.io/fluxcd/kustomize-controller",
      tag: "v1.8.3@sha256:c59e81059330a55203bf60806229a052617134d8b557c1bd83cdc69a8ece7ea2",
    });
    expect(values["cli"]).toEqual({
      image: "ghcr.io/fluxcd/flux-cli",
      tag: "v2.8.5@sha256:f1947272d998247ce959adf8ffe13626f153e8b373ccd0322a18b4f7aad132f1",
    });
  });

  test("each app project gets the stack's GitLab environment, protected only in production", () => {
    for (const stack of STACKS) {
      const { resources } = run(stack);
      const envs = resources
        .ofType("pulumi-nodejs:dynamic/gitlab:ProjectEnvironment")
        .sort((a, b) => String(a.inputs["project"]).localeCompare(String(b.inputs["project"])));
      const tier = { dev: "development", staging: "staging", production: "production" }[stack];
      expect(envs.map((e) => [e.inputs["project"], e.inputs["name"], e.inputs["tier"]])).toEqual(
        APPS[stack]
          .map((a) => `acme/${a}`)
          .sort()
          .map((project) => [project, stack, tier]),
      );
      // No agent, so no namespace or Flux path either: GitLab refuses an agent of another
      // project (test/gitlab/environments.test.ts shows the refusal).
      for (const env of envs) {
        expect(env.inputs["stopBeforeDestroy"]).toBe(true);
        expect(env.inputs["clusterAgentId"]).toBeUndefined();
        expect(env.inputs["kubernetesNamespace"]).toBeUndefined();
        expect(env.inputs["fluxResourcePath"]).toBeUndefined();
      }
      const protections = resources
        .ofType("pulumi-nodejs:dynamic/gitlab:ProjectProtectedEnvironment")
        .sort((a, b) => String(a.inputs["project"]).localeCompare(String(b.inputs["project"])));
      if (stack === "production") {
        expect(protections.map((p) => [p.inputs["project"], p.inputs["environment"]])).toEqual([
          ["acme/api", "production"],
          ["acme/web", "production"],
        ]);
        expect(protections[0]?.inputs).toMatchObject({
          deployAccessLevels: [{ accessLevel: "maintainer" }],
          requiredApprovalCount: 0,
        });
      } else {
        expect(protections).toEqual([]);
      }
    }
  });

  test("dev has no PodDisruptionBudgets (one replica each)", () => {
    expect(run("dev").resources.ofType("kubernetes:policy/v1:PodDisruptionBudget")).toEqual([]);
  });
});

describe("variants of the dev stack", () => {
  const apps = [
    { name: "web", project: "acme/web", image: { tag: "1.4.2" }, method: "direct" },
    { name: "api", project: "acme/api", image: { tag: "2.0.1" }, method: "agent" },
  ];

  test("a privileged runner: its jobs in a privileged namespace of their own on tainted nodes, the manager and its token in a restricted one", async () => {
    const r = await runProgram("dev", {
      config: {
        "platform:runner": {
          privileged: true,
          nodeSelector: { "node.example.com/pool": "ci" },
          tolerations: [
            { key: "ci", operator: "Equal", value: "privileged", effect: "NoSchedule" },
          ],
        },
      },
    });
    expect(r.error).toBeUndefined();
    expect(schemaProblems(r.resources.all)).toEqual([]);
    const level = (name: string) =>
      meta(byObjectName(r.resources, "kubernetes:core/v1:Namespace", name)).labels?.[
        "pod-security.kubernetes.io/enforce"
      ];
    expect([level("gitlab-managed-apps"), level("gitlab-managed-apps-jobs")]).toEqual([
      "restricted",
      "privileged",
    ]);
    // Both bounded: the jobs namespace by the quota jobs count against.
    for (const ns of ["gitlab-managed-apps", "gitlab-managed-apps-jobs"]) {
      byObjectName(r.resources, "kubernetes:core/v1:ResourceQuota", "platform-quota", ns);
    }
    byObjectName(
      r.resources,
      "kubernetes:core/v1:Secret",
      "gitlab-runner-token",
      "gitlab-managed-apps",
    );
    const role = byObjectName(
      r.resources,
      "kubernetes:rbac.authorization.k8s.io/v1:Role",
      "gitlab-runner-executor",
      "gitlab-managed-apps-jobs",
    );
    expect(role.inputs["rules"]).toEqual(RUNNER_RBAC_RULES);
    const binding = byObjectName(
      r.resources,
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
      "gitlab-runner-executor",
      "gitlab-managed-apps-jobs",
    );
    expect(binding.inputs["subjects"]).toEqual([
      { kind: "ServiceAccount", name: "gitlab-runner-manager", namespace: "gitlab-managed-apps" },
    ]);
    const release = releaseOf(r.resources, "gitlab-runner");
    expect(release.inputs["namespace"]).toBe("gitlab-managed-apps");
    const values = release.inputs["values"] as { rbac: unknown; runners: { config: string } };
    expect(values.rbac).toEqual({ create: false, clusterWideAccess: false });
    const kubernetes = (
      parseToml(values.runners.config) as { runners: { kubernetes: Record<string, unknown> }[] }
    ).runners[0]?.kubernetes;
    // Their NetworkPolicy goes with them.
    byObjectName(
      r.resources,
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "gitlab-runner-jobs-egress",
      "gitlab-managed-apps-jobs",
    );
    expect(kubernetes).toMatchObject({
      namespace: "gitlab-managed-apps-jobs",
      privileged: true,
      automount_service_account_token: false,
      node_selector: { "node.example.com/pool": "ci" },
      node_tolerations: { "ci=privileged": "NoSchedule" },
    });
  });

  test("with capabilities switched off, their components and GitLab objects are absent", async () => {
    const r = await runProgram("dev", {
      config: {
        "platform:features": {
          runner: false,
          agent: false,
          registryAuth: false,
          environments: false,
        },
        "platform:apps": [{ ...apps[0] }],
      },
    });
    expect(r.error).toBeUndefined();
    expect(componentCounts(r.resources)).toEqual({
      "platform:cluster:PlatformNamespace": 1,
      "platform:apps:AppNamespace": 1,
      "platform:apps:AppDeployment": 1,
      "platform:ci:CiVariables": 1,
    });
    const types = Object.keys(r.resources.countByType());
    for (const absent of [
      "pulumi-nodejs:dynamic/gitlab:UserRunner",
      "pulumi-nodejs:dynamic/gitlab:ClusterAgent",
      "pulumi-nodejs:dynamic/gitlab:ProjectDeployToken",
      "kubernetes:helm.sh/v3:Release",
    ]) {
      expect(types).not.toContain(absent);
    }
    const sa = byObjectName(r.resources, "kubernetes:core/v1:ServiceAccount", "web", "web");
    expect(sa.inputs["imagePullSecrets"]).toBeUndefined();
    expect(r.outputs["managedNamespace"]).toBeUndefined();
  });

  test("agent access as ci_job binds each app to its own project's jobs; as agent, the agent's ServiceAccount", async () => {
    // Both apps through the agent: each namespace must admit only its own project's jobs
    // (gitlab:project:<id>, ids as GitLab reports them), never every CI job (gitlab:ci_job).
    const ciJob = await runProgram("dev", {
      config: {
        "platform:agent": { accessAs: "ci_job" },
        "platform:apps": apps.map((a) => ({ ...a, method: "agent" })),
      },
      gitlab: {
        projects: [
          { id: 1001, fullPath: "acme/platform" },
          { id: 3001, fullPath: "acme/web" },
          { id: 3002, fullPath: "acme/api" },
        ],
      },
    });
    expect(ciJob.error).toBeUndefined();
    const subjects = (ns: string) =>
      byObjectName(
        ciJob.resources,
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        "deployer",
        ns,
      ).inputs["subjects"];
    expect(subjects("web")).toEqual([
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "gitlab:project:3001" },
    ]);
    expect(subjects("api")).toEqual([
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "gitlab:project:3002" },
    ]);

    const asAgent = await runProgram("dev", {
      config: { "platform:agent": { accessAs: "agent" } },
    });
    expect(asAgent.error).toBeUndefined();
    expect(
      byObjectName(
        asAgent.resources,
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        "deployer",
        "api",
      ).inputs["subjects"],
    ).toEqual([{ kind: "ServiceAccount", name: "gitlab-agent-dev", namespace: "gitlab-agent" }]);
    expect(asAgent.resources.ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")).toEqual(
      [],
    );
  });

  test("with Flux, flux apps get an OCIRepository pulling with their own namespace's registry secret, after it exists", async () => {
    const r = await runProgram("dev", {
      config: {
        "platform:features": { flux: true },
        "platform:apps": [
          ...apps,
          { name: "docs", project: "acme/docs", image: { tag: "1" }, method: "flux" },
        ],
      },
    });
    expect(r.error).toBeUndefined();
    expect(componentCounts(r.resources)["platform:flux:FluxBootstrap"]).toBe(1);
    const source = byObjectName(
      r.resources,
      "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository",
      "docs",
      "docs",
    );
    expect(source.inputs["spec"]).toEqual({
      interval: "1m",
      url: "oci://registry.gitlab.example.com/acme/docs/manifests",
      ref: { tag: "dev" },
      secretRef: { name: "gitlab-registry-auth" },
    });
    // The pull secret in docs' own namespace, from acme/docs' own token; none in flux-system,
    // which nothing would read.
    const pull = byObjectName(
      r.resources,
      "kubernetes:core/v1:Secret",
      "gitlab-registry-auth",
      "docs",
    );
    expect(source.dependencies).toContain(pull.urn);
    expect(
      r.resources
        .ofType("kubernetes:core/v1:Secret")
        .filter((x) => meta(x).namespace === "flux-system"),
    ).toEqual([]);
    // Flux owns the docs workload: no AppDeployment, no CI deployer binding.
    expect(r.resources.has("platform:apps:AppDeployment", "app-docs")).toBe(false);
    expect(
      r.resources
        .ofType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
        .filter((b) => meta(b).namespace === "docs" && meta(b).name === "deployer"),
    ).toEqual([]);
  });

  test("a review stack: no runner or agent, apps deployed directly into review/* scopes", async () => {
    const r = await runProgram("review-42", {
      stackFile: "Pulumi.dev.yaml",
      config: {
        "platform:environment": "review",
        "platform:apps": [
          { ...apps[0], method: undefined, allowedHosts: ["*.web.review.example.com"] },
        ],
      },
    });
    expect(r.error).toBeUndefined();
    // The review component's Ingresses (<branch slug>.<domain>) are admitted by the wildcard.
    const policy = byObjectName(
      r.resources,
      "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
      "web-review-42.ingress-guard.gitlab-cd-platform",
    );
    expect(
      (policy.inputs["spec"] as { validations: { message: string }[] }).validations[0],
    ).toEqual(
      expect.objectContaining({
        message: routes("web-review-42", only("*.web.review.example.com")),
      }),
    );
    expect(componentCounts(r.resources)).toEqual({
      "platform:apps:AppNamespace": 1,
      "platform:apps:AppDeployment": 1,
      "platform:cluster:PlatformNamespace": 1,
      "platform:registry:RegistryAuth": 1,
      "platform:ci:CiVariables": 1,
    });
    const scopes = r.resources
      .ofType("pulumi-nodejs:dynamic/gitlab:ProjectVariable")
      .filter((v) => v.inputs["project"] === "acme/web")
      .map((v) => v.inputs["environmentScope"]);
    expect(new Set(scopes)).toEqual(new Set(["review/*"]));
    // Review pipelines run on unprotected merge-request branches: credentials are not protected.
    const token = r.resources
      .ofType("pulumi-nodejs:dynamic/gitlab:ProjectVariable")
      .find((v) => v.inputs["key"] === "KUBE_TOKEN");
    expect(token?.inputs).toMatchObject({ masked: true, protected: false });
    expect(r.outputs["appNamespaceNames"]).toEqual({ web: "web-review-42" });
  });
});

describe("Flux artifact verification", () => {
  test("keyless: each flux app's source trusts only its own project's default branch and release tags", async () => {
    const r = await runProgram("staging", {
      config: {
        "platform:flux": { verify: { keyless: {} } },
      },
    });
    expect(r.error).toBeUndefined();
    const source = byObjectName(
      r.resources,
      "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository",
      "docs",
      "docs",
    );
    expect((source.inputs["spec"] as Record<string, unknown>)["verify"]).toEqual({
      provider: "cosign",
      matchOIDCIdentity: [
        {
          issuer: "^https://gitlab\\.example\\.com$",
          subject:
            "^https://gitlab\\.example\\.com/acme/docs//\\.gitlab-ci\\.yml@refs/(heads/main|tags/v.*)$",
        },
      ],
    });
    expect(schemaProblems([source])).toEqual([]);
  });
});

describe("autoscaling", () => {
  test("an autoscaled app gets a schema-valid HorizontalPodAutoscaler and its quota is checked against the maximum", async () => {
    const r = await runProgram("staging", {
      config: {
        "platform:apps": [
          {
            name: "web",
            project: "acme/web",
            image: { tag: "1.4.2" },
            method: "agent",
            replicas: 2,
            autoscaling: { maxReplicas: 5 },
          },
        ],
      },
    });
    expect(r.error).toBeUndefined();
    const hpa = byObjectName(
      r.resources,
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
      "web",
      "web",
    );
    expect(hpa.inputs["spec"]).toMatchObject({ minReplicas: 2, maxReplicas: 5 });
    expect(schemaProblems([hpa])).toEqual([]);
    const web = byObjectName(r.resources, "kubernetes:apps/v1:Deployment", "web", "web");
    expect(web.inputs["spec"]).not.toHaveProperty("replicas");

    const tooMany = await runProgram("staging", {
      config: {
        "platform:apps": [
          {
            name: "web",
            project: "acme/web",
            image: { tag: "1.4.2" },
            method: "agent",
            replicas: 2,
            autoscaling: { maxReplicas: 100 },
          },
        ],
      },
    });
    expect(tooMany.error?.message).toContain(
      "apps[0].quota.pods: expected at least 101 (100 autoscaled replicas and one surge pod), got",
    );
    expect(tooMany.resources.all).toEqual([]);
  });
});

describe("promotion by digest", () => {
  const DIGEST = `sha256:${"c0ffee".repeat(10)}abcd`;
  const MANIFESTS = `sha256:${"beef".repeat(16)}`;
  const lookup = "docker:index/getRegistryImage:getRegistryImage";
  const looked: string[] = [];
  const calls = {
    [lookup]: (args: { inputs: Record<string, unknown> }) => {
      const name = String(args.inputs["name"]);
      looked.push(name);
      if (name.endsWith(":missing")) {
        throw new Error("Got error getting registry image digest: 404 Not Found");
      }
      return { id: name, name, sha256Digest: name.includes("/manifests:") ? MANIFESTS : DIGEST };
    },
  };
  const promotion = { username: "promoter", token: "gldt-promoter-secret" };

  test("a promoted tag becomes the digest the Deployment runs and the OCIRepository follows; the platform owns them", async () => {
    looked.length = 0;
    const r = await runProgram("staging", {
      calls,
      config: {
        "platform:promotion": promotion,
        "platform:apps": [
          { name: "web", project: "acme/web", image: { promote: "4f2a9c1" }, method: "agent" },
          { name: "docs", project: "acme/docs", image: { promote: "4f2a9c1" }, method: "flux" },
        ],
      },
      secretKeys: ["platform:promotion"],
    });
    expect(r.error).toBeUndefined();
    expect(looked.sort()).toEqual([
      "registry.gitlab.example.com/acme/docs/manifests:4f2a9c1",
      "registry.gitlab.example.com/acme/web:4f2a9c1",
    ]);
    const web = byObjectName(r.resources, "kubernetes:apps/v1:Deployment", "web", "web");
    const spec = web.inputs["spec"] as { template: { spec: { containers: { image: string }[] } } };
    expect(spec.template.spec.containers[0]?.image).toBe(
      `registry.gitlab.example.com/acme/web@${DIGEST}`,
    );
    // Promoted: a later `up` after the next promotion must move the image, so nothing is ignored.
    expect(web.ignoreChanges).toEqual([]);
    const source = byObjectName(
      r.resources,
      "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository",
      "docs",
      "docs",
    );
    expect((source.inputs["spec"] as Record<string, unknown>)["ref"]).toEqual({
      digest: MANIFESTS,
    });
    // The lookups authenticate with the stack's promotion credentials, as a secret.
    const provider = r.resources.find("pulumi:providers:docker", "promotion-registry");
    expect(provider.secretInputs).toContain("registryAuth");
    // A provider's inputs reach the engine as JSON strings.
    expect(JSON.parse(String(provider.inputs["registryAuth"]))).toEqual([
      {
        address: "registry.gitlab.example.com",
        username: "promoter",
        password: "gldt-promoter-secret",
      },
    ]);
    expect(r.outputs["promotedDigests"]).toEqual({ web: DIGEST, docs: MANIFESTS });
  });

  test("without promotion nothing is looked up and no registry provider is registered", async () => {
    looked.length = 0;
    const r = await runProgram("staging", { calls });
    expect(r.error).toBeUndefined();
    expect(looked).toEqual([]);
    expect(r.resources.ofType("pulumi:providers:docker")).toEqual([]);
    expect(r.outputs["promotedDigests"]).toEqual({});
  });

  test("a tag the registry does not have stops the run before anything but the lookup is registered", async () => {
    const r = await runProgram("dev", {
      calls,
      config: {
        "platform:promotion": promotion,
        "platform:apps": [
          { name: "api", project: "acme/api", image: { promote: "missing" }, method: "agent" },
          { name: "web", project: "acme/web", image: { promote: "4f2a9c1" }, method: "agent" },
        ],
      },
      secretKeys: ["platform:promotion"],
    });
    expect(r.error?.name).toBe("PromotionError");
    expect(r.error?.message).toMatch(
      new RegExp(
        "^Promotion failed \\(1 tag\\):\n  - apps\\[0\\]\\.image\\.promote: cannot promote " +
          "registry\\.gitlab\\.example\\.com/acme/api:missing: registry\\.gitlab\\.example\\.com " +
          'did not resolve tag "missing" of registry\\.gitlab\\.example\\.com/acme/api to a digest ' +
          "\\(.+\\); check that the tag exists and that promotion\\.username may read the repository$",
      ),
    );
    expect(r.resources.all.map((x) => x.type)).toEqual(["pulumi:providers:docker"]);
  });
});
