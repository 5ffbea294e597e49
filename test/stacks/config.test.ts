import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseEnvironmentConfig } from "../../stacks";
import { runProgram } from "../harness/program";
import { isSecret, unwrap } from "../harness/mocks";
import { PINNED_HELPER_IMAGE, app, problemsOf, source } from "./fixtures";

// Tests here run the whole program: a loaded machine must not turn a slow run into a timeout.
jest.setTimeout(180_000);

describe("invalid config is rejected by the program before any resource is registered", () => {
  test("an unknown top-level key, a bad app name and a bad URL are reported together", async () => {
    const run = await runProgram("dev", {
      config: {
        "gitlab:baseUrl": "gitlab.example.com",
        "platform:replicas": 3,
        "platform:apps": [app(), app({ name: "Web_App" })],
      },
    });
    expect(run.error?.message).toBe(
      [
        'Invalid configuration for stack "dev" (3 problems):',
        '  - gitlab:baseUrl: expected the GitLab URL such as "https://gitlab.example.com" (pulumi config set gitlab:baseUrl …, or GITLAB_BASE_URL), got "gitlab.example.com"',
        "  - apps[1].name: expected a DNS-1035 label (a lowercase letter first, then lowercase letters, digits and '-', at most 63), got \"Web_App\"",
        "  - replicas: expected one of the known keys (environment, kubeContext, kubeApiServer, gitlab, features, namespace, appNamespaces, runner, registryAuth, ciVariables, agent, flux, environments, apps, protection, promotion, policy), got an unknown key",
      ].join("\n"),
    );
    expect(run.resources.all).toHaveLength(0);
  });

  test("the engine prints the message alone: a RunError, its stack trace intact", async () => {
    // Pulumi's runtime prints a RunError's message; any other error through util.inspect, which
    // showed `[dev] { problems: [...] }` while a `stack` field held the stack's name.
    const run = await runProgram("dev", { config: { "platform:replicas": 3 } });
    const error = run.error as ConfigError;
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect(error.stackName).toBe("dev");
    expect(error.stack).toMatch(
      /^ConfigError: Invalid configuration for stack "dev" \(1 problem\):\n/,
    );
  });

  test("semantic rules (duplicate apps, production minimums) fail the run with nothing created", async () => {
    const run = await runProgram("production", {
      config: {
        "platform:apps": [
          app({ replicas: 3 }),
          app({ replicas: 1, image: { digest: `sha256:${"a".repeat(64)}` } }),
        ],
      },
    });
    expect(run.error).toBeInstanceOf(Error);
    expect((run.error as ConfigError).problems).toEqual([
      'apps[1].project: expected a project no other app uses (apps[0] has it too), got "acme/web"',
      'apps[1].namespace: expected a namespace no other app uses (apps[0] has it too), got "web"',
      'apps[1].name: expected a unique app name (apps[0] has it too), got "web"',
      "apps[1].replicas: expected at least 2 in production, got 1",
    ]);
    expect(run.resources.all).toHaveLength(0);
  });

  test("a missing GitLab token and a plaintext one are both refused", async () => {
    const missing = await runProgram("dev", { config: { "gitlab:token": undefined } });
    expect((missing.error as ConfigError).problems).toEqual([
      "gitlab:token: expected a secret GitLab access token (pulumi config set --secret gitlab:token …, or GITLAB_TOKEN), got nothing",
    ]);
    expect(missing.resources.all).toHaveLength(0);

    const fromEnv = await runProgram("dev", {
      config: { "gitlab:token": undefined },
      env: { GITLAB_TOKEN: "glpat-from-env" },
    });
    expect(fromEnv.error).toBeUndefined();
  });
});

describe("shape checks name the key path and what was expected", () => {
  test.each<[string, Record<string, unknown>, string]>([
    [
      "a typo in a nested key, with a suggestion",
      { runner: { concurent: 4 } },
      'runner.concurent: expected a known key (did you mean "concurrent"?), got an unknown key',
    ],
    [
      "a number out of range",
      { runner: { concurrent: 0 } },
      "runner.concurrent: expected an integer >= 1, got 0",
    ],
    [
      "a number of the wrong type",
      { runner: { concurrent: "four" } },
      'runner.concurrent: expected an integer, got "four"',
    ],
    [
      "a fractional number where an integer is needed",
      { apps: [app({ port: 80.5 })] },
      "apps[0].port: expected an integer, got 80.5",
    ],
    [
      "a port out of range",
      { apps: [app({ port: 70000 })] },
      "apps[0].port: expected a port 1-65535, got 70000",
    ],
    [
      "an app name that cannot name a Service (a digit first)",
      { apps: [app({ name: "1web" })] },
      "apps[0].name: expected a DNS-1035 label (a lowercase letter first, then lowercase letters, digits and '-', at most 63), got \"1web\"",
    ],
    [
      "an upper-case ingress host",
      { apps: [app({ ingress: { host: "Web.Example.com" } })] },
      'apps[0].ingress.host: expected a lowercase host name without scheme or path, got "Web.Example.com"',
    ],
    [
      "an agent name too long for its Helm release",
      { agent: { name: "a".repeat(41) } },
      `agent.name: expected at most 40 characters (Helm release gitlab-agent-<name>), got "${"a".repeat(41)}"`,
    ],
    [
      "a KAS address that is not a websocket or gRPC URL",
      { agent: { kasAddress: "https://kas.example.com" } },
      'agent.kasAddress: expected a wss://, ws://, grpcs:// or grpc:// URL such as "wss://kas.gitlab.com", got "https://kas.example.com"',
    ],
    [
      "an app namespace that is not a DNS label",
      { apps: [app({ namespace: "web.prod" })] },
      "apps[0].namespace: expected a DNS-1123 label (lowercase letters, digits and '-', at most 63), got \"web.prod\"",
    ],
    [
      "an unknown deployment method",
      { apps: [app({ method: "ssh" })] },
      'apps[0].method: expected one of "flux", "agent", "direct", got "ssh"',
    ],
    [
      "an agentk tag with a digest that is not one",
      { agent: { imageTag: "v18.6.0@sha256:abc" } },
      'agent.imageTag: expected an agentk image tag such as "v18.6.0" or "v18.6.0@sha256:<64 hex>", got "v18.6.0@sha256:abc"',
    ],
    [
      "an agentk image reference instead of a tag",
      { agent: { imageTag: "agentk:v18.6.0" } },
      'agent.imageTag: expected an agentk image tag such as "v18.6.0" or "v18.6.0@sha256:<64 hex>", got "agentk:v18.6.0"',
    ],
    [
      "a bad KAS URL",
      { agent: { kasAddress: "kas" } },
      'agent.kasAddress: expected a wss://, ws://, grpcs:// or grpc:// URL such as "wss://kas.gitlab.com", got "kas"',
    ],
    [
      "a registry host with a scheme",
      { gitlab: { projectPath: "acme/platform", registryHost: "https://registry.example.com" } },
      'gitlab.registryHost: expected a host name without scheme or path, got "https://registry.example.com"',
    ],
    [
      "a bad GitLab path",
      { gitlab: { projectPath: "acme//platform" } },
      'gitlab.projectPath: expected a GitLab full path such as "group/project", got "acme//platform"',
    ],
    [
      "a quantity that is not one",
      { runner: { resources: { build: { memoryLimit: "1 GB" } } } },
      'runner.resources.build.memoryLimit: expected a Kubernetes quantity such as "250m" or "512Mi", got "1 GB"',
    ],
    [
      "an invalid CI variable key",
      { ciVariables: [{ key: "MY-VAR", value: "x", credential: false }] },
      "ciVariables[0].key: expected letters, digits and '_' (at most 255), got \"MY-VAR\"",
    ],
    [
      "an impossible date",
      { registryAuth: { expiresAt: "2031-02-30" } },
      'registryAuth.expiresAt: expected a date YYYY-MM-DD, got "2031-02-30"',
    ],
    [
      "an allowed image with a character class",
      { runner: { jobs: { allowedImages: ["alpine:[0-9]*"] } } },
      "runner.jobs.allowedImages[0]: expected an image or a glob of one (letters, digits, '.', '_', '-', '/', ':', '@' and the wildcards '*', '**', '?'), got \"alpine:[0-9]*\"",
    ],
    [
      "a helper image with a digest that is not one",
      { runner: { jobs: { helperImage: "gitlab-runner-helper:v19@sha256:abc" } } },
      'runner.jobs.helperImage: expected an image such as registry.example.com/group/image:tag or image:tag@sha256:<64 hex>, got "gitlab-runner-helper:v19@sha256:abc"',
    ],
    [
      "a Flux image without a tag or digest",
      { flux: { images: { sourceController: "registry.example.com/mirror/source-controller" } } },
      'flux.images.sourceController: expected an image with a tag, a digest or both, such as ghcr.io/fluxcd/source-controller:v1.8.2@sha256:<64 hex>, got "registry.example.com/mirror/source-controller"',
    ],
    [
      "a Flux image that is no image reference",
      { flux: { images: { cli: "https://ghcr.io/fluxcd/flux-cli:v2.8.5" } } },
      'flux.images.cli: expected an image such as registry.example.com/group/image:tag or image:tag@sha256:<64 hex>, got "https://ghcr.io/fluxcd/flux-cli:v2.8.5"',
    ],
    [
      "an image of a Flux controller the platform does not install",
      { flux: { images: { helmController: "ghcr.io/fluxcd/helm-controller:v1.5.3" } } },
      "flux.images.helmController: expected one of the known keys (sourceController, kustomizeController, cli), got an unknown key",
    ],
    [
      "a cluster CIDR without its prefix length",
      { namespace: { network: { clusterCidrs: ["10.96.0.0"] } } },
      'namespace.network.clusterCidrs[0]: expected an IPv4 or IPv6 CIDR such as 10.96.0.0/12 or fd00::/8, got "10.96.0.0"',
    ],
    [
      "an unknown pull policy",
      { runner: { jobs: { pullPolicy: ["IfNotPresent"] } } },
      'runner.jobs.pullPolicy[0]: expected one of "always", "if-not-present", "never", got "IfNotPresent"',
    ],
    [
      "no allowed pull policy at all",
      { runner: { jobs: { allowedPullPolicies: [] } } },
      "runner.jobs.allowedPullPolicies: expected at least one pull policy, got an array of 0",
    ],
    [
      "a chart version range instead of a pin",
      { runner: { chartVersion: "^0.89" } },
      'runner.chartVersion: expected an exact chart version such as "1.2.3", got "^0.89"',
    ],
    [
      "an unknown environment",
      { environment: "qa" },
      'environment: expected one of "dev", "staging", "production", "review", got "qa"',
    ],
    [
      "a missing kube context",
      { kubeContext: undefined },
      "kubeContext: expected a string, got nothing",
    ],
    [
      "a structured key given as a string",
      { gitlab: "acme/platform" },
      'gitlab: expected an object, got "acme/platform"',
    ],
    [
      "an API server that is not https",
      { kubeApiServer: "http://k8s.example.com" },
      'kubeApiServer: expected an https:// URL CI jobs reach, such as "https://k8s.example.com:6443", got "http://k8s.example.com"',
    ],
  ])("%s", (_title, values, expected) => {
    expect(problemsOf(source(values))).toEqual([expected]);
  });

  test("secret values are described, never echoed", () => {
    const problems = problemsOf(
      source({
        runner: {
          cache: {
            type: "s3",
            serverAddress: "s3.example.com",
            bucketName: "b",
            accessKey: 42,
            secretKey: "s3cr3t-value",
          },
        },
      }),
    );
    expect(problems).toEqual([
      "runner.cache.accessKey: expected a string, got a secret value (number)",
    ]);
  });
});

describe("per-environment defaults", () => {
  const base = { apps: [app()], ciVariables: [{ key: "API_TOKEN", value: "abcdefgh12345678" }] };

  test("dev: one replica, no PodDisruptionBudget, credentials masked but not protected", () => {
    const config = parseEnvironmentConfig(source(base));
    expect(config.apps[0]?.replicas).toBe(1);
    expect(config.apps[0]?.podDisruptionBudget).toBe(false);
    expect(config.ciVariables[0]).toMatchObject({
      masked: true,
      protected: false,
      credential: true,
    });
    expect(config.runner.accessLevel).toBe("not_protected");
    // Job pods may not reach any private address unless the stack names its cluster's ranges.
    expect(config.namespace.network).toEqual({
      clusterCidrs: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"],
    });
    // Jobs share the managed namespace unless privileged or told otherwise.
    expect(config.runner.jobNamespace).toBeUndefined();
    // Jobs may reuse images already on the node in dev, and get no API token.
    expect(config.runner.jobs).toEqual({
      automountServiceAccountToken: false,
      allowedImages: [],
      pullPolicy: ["if-not-present"],
      allowedPullPolicies: ["always", "if-not-present"],
    });
    expect(config.namespace.quota).toEqual({
      requestsCpu: "4",
      requestsMemory: "8Gi",
      limitsCpu: "8",
      limitsMemory: "16Gi",
      pods: 20,
    });
  });

  test("production: two replicas, PodDisruptionBudgets, protected runner, credentials masked and protected", () => {
    const config = parseEnvironmentConfig(
      source({ ...base, environment: "production" }, { stack: "production" }),
    );
    expect(config.apps[0]?.replicas).toBe(2);
    expect(config.apps[0]?.podDisruptionBudget).toBe(true);
    expect(config.ciVariables[0]).toMatchObject({ masked: true, protected: true });
    expect(config.runner.accessLevel).toBe("ref_protected");
    expect(config.runner.privileged).toBe(false);
    // Every job pulls with its own credentials: no private image another job left on the node.
    expect(config.runner.jobs).toEqual({
      automountServiceAccountToken: false,
      allowedImages: [],
      pullPolicy: ["always"],
      allowedPullPolicies: ["always"],
      // Production pins the helper (the fixture's test value: there is no default).
      helperImage: PINNED_HELPER_IMAGE,
    });
    expect(config.agent.accessAs).toBe("impersonate");
    expect(config.apps[0]?.method).toBe("agent");
    expect(config.gitlab.environmentScope).toBe("production");
    expect(config.environments).toEqual({
      name: "production",
      tier: "production",
      protected: true,
      deployAccessLevel: "maintainer",
      requiredApprovals: 0,
    });
  });

  test("review: no runner, agent or Flux of its own; apps deploy direct into review/* scopes", () => {
    const config = parseEnvironmentConfig(
      source(
        { environment: "review", kubeApiServer: "https://k8s.example.com", apps: [app()] },
        { stack: "review-42" },
      ),
    );
    expect(config.apps[0]?.method).toBe("direct");
    expect(config.apps[0]?.namespace).toBe("web-review-42");
    expect(config.gitlab.environmentScope).toBe("review/*");
    expect(config.features).toEqual({
      runner: false,
      registryAuth: true,
      ciVariables: true,
      agent: false,
      flux: false,
      apps: true,
      environments: false,
    });
  });

  test("derived values: registry host, image repository, agent projects; KAS is left to the instance", () => {
    const selfManaged = parseEnvironmentConfig(source({ apps: [app({ project: "Acme/Web" })] }));
    expect(selfManaged.gitlab).toEqual({
      url: "https://gitlab.example.com",
      host: "gitlab.example.com",
      projectPath: "acme/platform",
      projectId: 42,
      groupPath: "acme",
      groupId: undefined,
      registryHost: "registry.gitlab.example.com",
      defaultBranch: "main",
      environmentScope: "dev",
      protectPublishedCredentials: false,
      adoptExisting: [],
    });
    // No guess at the host: GET /metadata says where KAS is (stacks/instance.ts).
    expect(selfManaged.agent.kasAddress).toBeUndefined();
    expect(selfManaged.agent.imageTag).toBeUndefined();
    expect(selfManaged.apps[0]?.image.repository).toBe("registry.gitlab.example.com/acme/web");
    expect(selfManaged.agent.projects).toEqual(["Acme/Web"]);
    expect(selfManaged.agent.namespace).toBe("gitlab-agent");
    // One deploy token per app project, in that app's namespace only.
    expect(selfManaged.registryAuth.scope).toBe("app");
    // Only apps deployed through the agent are authorized to use it.
    const mixed = parseEnvironmentConfig(
      source({
        kubeApiServer: "https://k8s.example.com",
        apps: [app({ method: "direct" }), app({ name: "api", project: "acme/api" })],
      }),
    );
    expect(mixed.agent.projects).toEqual(["acme/api"]);

    const saas = parseEnvironmentConfig(source({}, { gitlabBaseUrl: "https://gitlab.com/api/v4" }));
    expect(saas.gitlab.url).toBe("https://gitlab.com");
    expect(saas.gitlab.registryHost).toBe("registry.gitlab.com");
  });

  test("the default job image is alpine 3.22.2 by its digest in every environment", () => {
    for (const environment of ["dev", "staging", "production", "review"]) {
      const config = parseEnvironmentConfig(
        source(
          { environment, kubeApiServer: "https://k8s.example.com" },
          { stack: environment === "review" ? "review-1" : environment },
        ),
      );
      expect(config.runner.jobImage).toBe(
        "alpine:3.22.2@sha256:4b7ce07002c69e8f3d704a9c5d6fd3053be500b7f1c69fc0d80990c2ad8dd412",
      );
    }
  });

  test("Flux images: the pinned chart's own by digest, each replaceable; none with another chart version", () => {
    const pinned = {
      sourceController:
        "ghcr.io/fluxcd/source-controller:v1.8.2@sha256:f2f6fd483b9a8b8c69f8ebe9f2277be23093a2b552b3578a6db15710d736bb0e",
      kustomizeController:
        "ghcr.io/fluxcd/kustomize-controller:v1.8.3@sha256:c59e81059330a55203bf60806229a052617134d8b557c1bd83cdc69a8ece7ea2",
      cli: "ghcr.io/fluxcd/flux-cli:v2.8.5@sha256:f1947272d998247ce959adf8ffe13626f153e8b373ccd0322a18b4f7aad132f1",
    };
    expect(parseEnvironmentConfig(source({})).flux.images).toEqual(pinned);
    // The same chart from a mirror renders the same images.
    expect(
      parseEnvironmentConfig(
        source({
          flux: { chartVersion: "2.18.3", chartRepository: "oci://registry.example.com/charts" },
        }),
      ).flux.images,
    ).toEqual(pinned);
    const mirror = `registry.example.com/mirror/source-controller@sha256:${"d".repeat(64)}`;
    expect(
      parseEnvironmentConfig(source({ flux: { images: { sourceController: mirror } } })).flux
        .images,
    ).toEqual({ ...pinned, sourceController: mirror });
    // Another chart version's controllers would not match the pinned images: it runs its own.
    expect(
      parseEnvironmentConfig(source({ flux: { chartVersion: "2.19.0" } })).flux.images,
    ).toEqual({});
    expect(
      parseEnvironmentConfig(
        source({
          flux: { chartVersion: "2.19.0", images: { cli: "ghcr.io/fluxcd/flux-cli:v2.9.0" } },
        }),
      ).flux.images,
    ).toEqual({ cli: "ghcr.io/fluxcd/flux-cli:v2.9.0" });
  });

  test("explicit values win over environment defaults", () => {
    const config = parseEnvironmentConfig(
      source({
        apps: [app({ replicas: 4, podDisruptionBudget: true })],
        runner: { concurrent: 2, accessLevel: "ref_protected" },
      }),
    );
    expect(config.apps[0]?.replicas).toBe(4);
    expect(config.apps[0]?.podDisruptionBudget).toBe(true);
    expect(config.runner.concurrent).toBe(2);
    expect(config.runner.accessLevel).toBe("ref_protected");
  });

  test("a privileged runner's jobs get a namespace of their own; config may name it", () => {
    const jobs = (values: Record<string, unknown>) =>
      parseEnvironmentConfig(source(values)).runner.jobNamespace;
    expect(jobs({ runner: { privileged: true } })).toBe("gitlab-managed-apps-jobs");
    expect(jobs({ namespace: { name: "ci" }, runner: { privileged: true } })).toBe("ci-jobs");
    expect(jobs({ runner: { privileged: true, jobs: { namespace: "builds" } } })).toBe("builds");
    expect(jobs({ runner: { jobs: { namespace: "builds" } } })).toBe("builds");
    expect(jobs({ runner: { privileged: false } })).toBeUndefined();
  });
});

describe("the result", () => {
  test("is deeply frozen", () => {
    const config = parseEnvironmentConfig(source({ apps: [app()] }));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.apps[0])).toBe(true);
    expect(Object.isFrozen(config.runner.resources.build)).toBe(true);
  });

  test("carries credentials as secret Outputs", async () => {
    const config = parseEnvironmentConfig(
      source({
        ciVariables: [{ key: "API_TOKEN", value: "abcdefgh12345678" }],
        runner: {
          cache: {
            type: "s3",
            serverAddress: "s3.example.com",
            bucketName: "cache",
            accessKey: "AKIA123",
            secretKey: "s3cr3t",
          },
        },
      }),
    );
    const variable = config.ciVariables[0];
    expect(pulumi.Output.isInstance(variable?.value)).toBe(true);
    expect(await isSecret(variable?.value ?? "")).toBe(true);
    expect(await unwrap(variable?.value ?? "")).toBe("abcdefgh12345678");
    expect(await isSecret(config.runner.cache?.accessKey ?? "")).toBe(true);
    expect(await isSecret(config.runner.cache?.secretKey ?? "")).toBe(true);
  });
});
