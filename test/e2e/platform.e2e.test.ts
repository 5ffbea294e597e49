// `npm run test:e2e`: the real Pulumi engine against a real API server (kwok, or E2E_KUBE_CONTEXT)
// and the loopback GitLab fake, through the project's own `npm run preview|up` wrapper and plain
// `pulumi`. The seven steps of issue 9 run in order on one stack; each depends on the one before.
// Step 2b, between them, probes the app namespaces' admission policies on the stack `up` made.
import { parse as parseYaml } from "yaml";
import { protections } from "../gitlab/fake-gitlab-protection";
import type { FakeGitLab } from "../gitlab/fake-gitlab";
import {
  Cluster,
  IngressStatus,
  Project,
  Result,
  engineOps,
  explain,
  findTools,
  previewSteps,
  startCluster,
  startFake,
  stopCluster,
  urnName,
  verdict,
} from "./support";

const tools = findTools();
const suite = "skip" in tools ? describe.skip : describe;
if ("skip" in tools) {
  console.warn(`[e2e] skipped: ${tools.skip}`);
}

/** The namespaces the e2e stack creates, with the Pod Security level each enforces. */
const NAMESPACES: Record<string, string> = {
  "gitlab-managed-apps": "baseline",
  "gitlab-agent": "restricted",
  "flux-system": "restricted",
  web: "restricted",
  api: "restricted",
  docs: "restricted",
};

/** A Service or an Ingress named in a refusal, and the guard (components/app-admission.ts) on it. */
interface Guarded {
  readonly guard: "ingress" | "service";
  /** As the API server names it: `services "x"`, `ingresses.networking.k8s.io "x"`. */
  readonly what: string;
}

const svc = (name: string): Guarded => ({ guard: "service", what: `services "${name}"` });
const ing = (name: string): Guarded => ({
  guard: "ingress",
  what: `ingresses.networking.k8s.io "${name}"`,
});

/**
 * A guard's refusal of `object` in `namespace`, exactly as the API server words it and kubectl
 * prints it: the Forbidden status, the policy and binding (both named after the namespace and the
 * guard), then the validation's message.
 */
function refused(namespace: string, object: Guarded, message: string): string {
  const policy = `${namespace}.${object.guard}-guard.gitlab-cd-platform`;
  return `Error from server (Forbidden): ${object.what} is forbidden: ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request: ${message}`;
}

/** A Service manifest named `name` with `spec` (one port added). */
function serviceManifest(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, labels: { "e2e.test/guard": "probe" } },
    spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }], ...spec },
  };
}

/** An Ingress manifest named `name` with `spec`. */
function ingressManifest(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, labels: { "e2e.test/guard": "probe" } },
    spec,
  };
}

/** The backend the probe Ingresses name (whether it exists does not matter to admission). */
const BACKEND = { service: { name: "web", port: { number: 8080 } } };

/** An Ingress rule routing every path of `host` (none: every host) to {@link BACKEND}. */
function rule(host?: string): Record<string, unknown> {
  return {
    ...(host === undefined ? {} : { host }),
    http: { paths: [{ path: "/", pathType: "Prefix", backend: BACKEND }] },
  };
}

/** What the suite measured, printed at the end (docs/testing.md keeps the figures). */
const timings: [string, number][] = [];
const started = Date.now();

/** Fails with everything the engine said unless `r` exited as expected. */
function expectExit(r: Result, code: "zero" | "nonzero" = "zero"): void {
  const ok = code === "zero" ? r.code === 0 : r.code !== 0;
  if (!ok) {
    throw new Error(`expected ${code === "zero" ? "success" : "a failure"}\n${explain(r)}`);
  }
}

/** Runs `body`, recording its time under `name`. */
async function timed<T>(name: string, body: () => Promise<T>): Promise<T> {
  const t = Date.now();
  try {
    return await body();
  } finally {
    timings.push([name, (Date.now() - t) / 1000]);
  }
}

/**
 * The GitLab objects of each kind that the fake holds, next to how many the stack's state has:
 * equal counts after an `up` mean no orphan (an object GitLab kept that the state lost) and no
 * ghost (a state entry GitLab lacks).
 */
function gitlabObjects(fake: FakeGitLab): Record<string, number> {
  const s = fake.state;
  const p = protections(s);
  const sum = (m: Map<string, unknown[]>) => [...m.values()].reduce((n, l) => n + l.length, 0);
  return {
    ProjectVariable: sum(s.variables),
    ProjectDeployToken: [...s.deployTokens.values()].flat().filter((t) => t["revoked"] !== true)
      .length,
    UserRunner: s.runners.size,
    // Each runner's settings are one more resource in the state, on the same GitLab object.
    UserRunnerSettings: s.runners.size,
    ClusterAgent: s.agents.size,
    ClusterAgentToken: [...s.agentTokens.values()].filter((t) => t["status"] === "active").length,
    RepositoryFile: s.files.size,
    ProjectEnvironment: s.environments.size,
    ProjectProtectedEnvironment: s.protectedEnvironments.size,
    BranchProtection: p.branches.size,
    TagProtection: p.tags.size,
    ProjectContainerTagProtection: p.containerTagRules.size,
  };
}

suite("the platform on a real engine and API server", () => {
  let toolsEnv: NodeJS.ProcessEnv;
  let cluster: Cluster;
  let fake: FakeGitLab;
  let project: Project;
  let ingress: IngressStatus;

  /** The dynamic resources of the stack's state, counted by kind. */
  async function stateObjects(): Promise<Record<string, number>> {
    const r = await project.pulumi(["stack", "export", "--stack", "e2e"]);
    expectExit(r);
    const doc = JSON.parse(r.stdout) as { deployment: { resources?: { type: string }[] } };
    const counts: Record<string, number> = Object.fromEntries(
      Object.keys(gitlabObjects(fake)).map((k) => [k, 0]),
    );
    for (const res of doc.deployment.resources ?? []) {
      const m = /^pulumi-nodejs:dynamic\/gitlab:(\w+)$/.exec(res.type);
      if (m !== null) counts[m[1]!] = (counts[m[1]!] ?? 0) + 1;
    }
    return counts;
  }

  beforeAll(async () => {
    if ("skip" in tools) return;
    toolsEnv = tools.env;
    await timed("cluster start", async () => {
      // The suite's own kwok cluster starts empty: a previous run's objects would collide.
      if (toolsEnv["E2E_CLUSTER_PROVIDER"] === "kwok") await stopCluster(toolsEnv);
      cluster = await startCluster(toolsEnv);
    });
    fake = await startFake();
    project = new Project(toolsEnv, cluster, fake);
    // Someone else's cluster (E2E_KUBE_CONTEXT) must not already hold the stack's namespaces.
    const ns = await project.getJson(["namespaces"]);
    const taken = ns.items
      .map((n) => (n["metadata"] as { name: string }).name)
      .filter((n) => n in NAMESPACES);
    if (taken.length > 0) {
      throw new Error(
        `the cluster already has the e2e stack's namespaces ${taken.join(", ")}: use an empty cluster`,
      );
    }
    // No ingress controller runs here: the suite gives Ingresses the address one would.
    ingress = new IngressStatus(project);
    await timed("stack init and secrets", async () => {
      expectExit(
        await project.pulumi(["stack", "init", "e2e", "--secrets-provider", "passphrase"]),
      );
      await project.setSecret("gitlab:token", fake.token);
      await project.setSecret("platform:runner.cache.accessKey", "e2e-access-key");
      await project.setSecret("platform:runner.cache.secretKey", "e2e-secret-key");
    });
  }, 30 * 60_000);

  afterAll(async () => {
    if ("skip" in tools) return;
    await ingress?.stop();
    await fake?.close();
    if (toolsEnv !== undefined) {
      const down = await stopCluster(toolsEnv);
      if (down.code !== 0) console.warn(`[e2e] cluster teardown failed\n${explain(down)}`);
    }
    if (project !== undefined && !process.env["E2E_KEEP"]) project.remove();
    timings.push(["whole run", (Date.now() - started) / 1000]);
    console.log(
      "[e2e] timings (seconds)\n" +
        timings.map(([n, s]) => `  ${n.padEnd(48)} ${s.toFixed(1).padStart(7)}`).join("\n"),
    );
  }, 10 * 60_000);

  test("1. preview succeeds on an empty stack", async () => {
    const r = await timed("1 preview (empty stack)", () => project.npm("preview", []));
    expectExit(r);
    expect(r.stdout).toMatch(/\+ \d+ to create/);
  });

  test("2. up creates the platform: namespaces, Secrets, RBAC, Deployments, Releases, GitLab objects", async () => {
    const r = await timed("2 up (create)", () => project.npm("up", ["--yes", "--skip-preview"]));
    expectExit(r);

    const ns = await project.getJson(["namespaces"]);
    const labels = Object.fromEntries(
      ns.items.map((n) => {
        const m = n["metadata"] as { name: string; labels?: Record<string, string> };
        return [m.name, m.labels?.["pod-security.kubernetes.io/enforce"]];
      }),
    );
    for (const [name, level] of Object.entries(NAMESPACES)) {
      expect([name, labels[name]]).toEqual([name, level]);
    }

    const secret = async (namespace: string, name: string) =>
      project.getJson<{ type: string; data: Record<string, string> }>([
        "secret",
        "-n",
        namespace,
        name,
      ]);
    const decode = (b64: string | undefined) => Buffer.from(b64 ?? "", "base64").toString("utf8");
    const token = await secret("gitlab-managed-apps", "gitlab-runner-token");
    expect(decode(token.data["runner-token"])).toMatch(/^glrt-/);
    const cache = await secret("gitlab-managed-apps", "gitlab-runner-cache-s3");
    expect(decode(cache.data["accesskey"])).toBe("e2e-access-key");
    for (const app of ["web", "api", "docs"]) {
      const pull = await secret(app, "gitlab-registry-auth");
      expect(pull.type).toBe("kubernetes.io/dockerconfigjson");
      expect(decode(pull.data[".dockerconfigjson"])).toMatch(
        /"username":"gitlab\+deploy-token-\d+"/,
      );
    }
    expect((await secret("gitlab-agent", "gitlab-agent-e2e-token")).data["token"]).toBeTruthy();

    // RBAC as the API server decides it.
    const can = async (verb: string, what: string, namespace: string, as: string) =>
      (
        await project.kubectl(["auth", "can-i", verb, what, "-n", namespace, "--as", as])
      ).stdout.trim();
    const apiDeployer = "system:serviceaccount:api:api-deployer";
    expect(await can("patch", "deployments", "api", apiDeployer)).toBe("yes");
    expect(await can("patch", "deployments", "web", apiDeployer)).toBe("no");
    expect(await can("get", "secrets", "kube-system", apiDeployer)).toBe("no");
    const runnerSa = "system:serviceaccount:gitlab-managed-apps:gitlab-runner";
    expect(await can("create", "pods", "gitlab-managed-apps", runnerSa)).toBe("yes");
    expect(await can("create", "pods", "api", runnerSa)).toBe("no");

    // Every Deployment rolled out (kwok makes the pods Ready).
    const deployments = await project.getJson<{
      items: {
        metadata: { namespace: string; name: string };
        spec: { replicas: number };
        status: { readyReplicas?: number };
      }[];
    }>(["deployments", "-A"]);
    const rollout = deployments.items
      .filter((d) => d.metadata.namespace in NAMESPACES)
      .map((d) => [
        `${d.metadata.namespace}/${d.metadata.name}`,
        d.status.readyReplicas ?? 0,
        d.spec.replicas,
      ]);
    expect(rollout.map(([n]) => n).sort()).toEqual([
      "api/api",
      "flux-system/kustomize-controller",
      "flux-system/source-controller",
      "gitlab-agent/gitlab-agent-e2e",
      "gitlab-managed-apps/gitlab-runner",
      "web/web",
    ]);
    for (const [name, ready, wanted] of rollout) expect([name, ready]).toEqual([name, wanted]);

    // Helm's release records: every release deployed.
    const releases = await project.getJson<{
      items: { metadata: { namespace: string; labels: Record<string, string> } }[];
    }>(["secrets", "-A", "-l", "owner=helm,status=deployed"]);
    expect(
      releases.items.map((s) => `${s.metadata.namespace}/${s.metadata.labels["name"]}`).sort(),
    ).toEqual([
      "flux-system/flux",
      "gitlab-agent/gitlab-agent-e2e",
      "gitlab-managed-apps/gitlab-runner",
    ]);

    // GitLab: what the stack registered, nothing more.
    const runners = [...fake.state.runners.values()];
    expect(runners.map((x) => [x["description"], [...(x["tag_list"] as string[])].sort()])).toEqual(
      [["platform-e2e", ["e2e", "kubernetes"]]],
    );
    expect([...fake.state.agents.values()].map((a) => a["name"])).toEqual(["e2e"]);
    expect(fake.state.variables.get("projects:1001")?.map((v) => v["key"])).toEqual(["LOG_LEVEL"]);
    const objects = gitlabObjects(fake);
    expect(objects).toEqual(await stateObjects());
    expect(Object.values(objects).every((n) => n > 0)).toBe(true);
  });

  test("2b. the tenant guard: the API server refuses what an app namespace may not expose, with the policy's messages, and admits what it may", async () => {
    // Each policy type-checks clean: one kind per policy, so no warning about the other kind's
    // fields hides a real mistake. The status controller fills status.typeChecking after the
    // policy is stored; its observedGeneration says it has.
    const policies = await timed("2b admission policies type-checked", async () => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const list = await project.getJson<{
          items: {
            metadata: { name: string; generation?: number };
            status?: { observedGeneration?: number; typeChecking?: unknown };
          }[];
        }>(["validatingadmissionpolicies", "-l", "app.kubernetes.io/part-of=gitlab-cd-platform"]);
        const checked = list.items.every(
          (p) => p.status?.observedGeneration === p.metadata.generation,
        );
        if (checked || Date.now() > deadline) return list.items;
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
    expect(
      policies
        .map((p) => [
          p.metadata.name,
          p.status?.observedGeneration === p.metadata.generation ? "checked" : "not checked",
          p.status?.typeChecking,
        ])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    ).toEqual(
      [
        "api.ingress-guard",
        "api.service-guard",
        "docs.ingress-guard",
        "web.ingress-guard",
        "web.service-guard",
      ].map((name) => [`${name}.gitlab-cd-platform`, "checked", {}]),
    );

    // The bindings match every request in their namespace (no matchConditions): the suite's
    // admin is restrained like anyone else. In docs (Flux), the probes run as Flux's applier, the
    // account the app's manifests are applied with there.
    const fluxApplier = "system:serviceaccount:docs:flux-applier";
    const webServices =
      "Services in namespace web stay inside the cluster (apps[].allowExternalServices is false)";
    const webHosts =
      "Ingresses in namespace web may route only web.e2e.example.test, *.web-review.e2e.example.test (apps[].ingress.host, apps[].allowedHosts)";
    const noHost = (ns: string) =>
      `Ingresses in namespace ${ns} may route no host (the app's config names none: apps[].ingress.host, apps[].allowedHosts)`;

    interface Probe {
      readonly namespace: string;
      readonly manifest: Record<string, unknown>;
      readonly as?: string;
      readonly expected: string;
    }
    const probes: Probe[] = [
      {
        namespace: "web",
        manifest: serviceManifest("guard-lb", { type: "LoadBalancer" }),
        expected: refused(
          "web",
          svc("guard-lb"),
          `${webServices}: expected type ClusterIP, got LoadBalancer`,
        ),
      },
      {
        namespace: "web",
        manifest: serviceManifest("guard-nodeport", { type: "NodePort" }),
        expected: refused(
          "web",
          svc("guard-nodeport"),
          `${webServices}: expected type ClusterIP, got NodePort`,
        ),
      },
      {
        namespace: "web",
        manifest: serviceManifest("guard-external-ips", {
          type: "ClusterIP",
          externalIPs: ["192.0.2.10"],
        }),
        expected: refused(
          "web",
          svc("guard-external-ips"),
          `${webServices}: expected no spec.externalIPs, got 192.0.2.10`,
        ),
      },
      {
        namespace: "web",
        manifest: serviceManifest("guard-cluster-ip", { type: "ClusterIP" }),
        expected: "admitted",
      },
      {
        namespace: "web",
        manifest: ingressManifest("guard-other-host", { rules: [rule("other.e2e.example.test")] }),
        expected: refused(
          "web",
          ing("guard-other-host"),
          `${webHosts}; got spec.rules[].host other.e2e.example.test`,
        ),
      },
      {
        namespace: "web",
        manifest: ingressManifest("guard-own-host", { rules: [rule("web.e2e.example.test")] }),
        expected: "admitted",
      },
      {
        namespace: "web",
        manifest: ingressManifest("guard-wildcard-host", {
          rules: [rule("feature-x.web-review.e2e.example.test")],
        }),
        expected: "admitted",
      },
      {
        // A wildcard admits one label under its domain, not two.
        namespace: "web",
        manifest: ingressManifest("guard-two-labels", {
          rules: [rule("a.b.web-review.e2e.example.test")],
        }),
        expected: refused(
          "web",
          ing("guard-two-labels"),
          `${webHosts}; got spec.rules[].host a.b.web-review.e2e.example.test`,
        ),
      },
      {
        namespace: "web",
        manifest: ingressManifest("guard-no-host", { rules: [rule()] }),
        expected: refused(
          "web",
          ing("guard-no-host"),
          `${webHosts}; got spec.rules[].host (none: every host)`,
        ),
      },
      {
        namespace: "web",
        manifest: ingressManifest("guard-default-backend", { defaultBackend: BACKEND }),
        expected: refused(
          "web",
          ing("guard-default-backend"),
          `${webHosts}; spec.defaultBackend is not allowed: it serves every host no rule names`,
        ),
      },
      {
        namespace: "web",
        manifest: ingressManifest("guard-tls-host", {
          tls: [{ hosts: ["web.e2e.example.test", "evil.e2e.example.test"] }],
          rules: [rule("web.e2e.example.test")],
        }),
        expected: refused(
          "web",
          ing("guard-tls-host"),
          `${webHosts}; got spec.tls[].hosts evil.e2e.example.test`,
        ),
      },
      {
        namespace: "api",
        manifest: ingressManifest("guard-any-host", { rules: [rule("api.e2e.example.test")] }),
        expected: refused(
          "api",
          ing("guard-any-host"),
          `${noHost("api")}; got spec.rules[].host api.e2e.example.test`,
        ),
      },
      {
        namespace: "api",
        manifest: serviceManifest("guard-lb", { type: "LoadBalancer" }),
        expected: refused(
          "api",
          svc("guard-lb"),
          "Services in namespace api stay inside the cluster (apps[].allowExternalServices is false): expected type ClusterIP, got LoadBalancer",
        ),
      },
      // docs: apps[].allowExternalServices, no host.
      {
        namespace: "docs",
        as: fluxApplier,
        manifest: serviceManifest("guard-lb", { type: "LoadBalancer" }),
        expected: "admitted",
      },
      {
        namespace: "docs",
        as: fluxApplier,
        manifest: serviceManifest("guard-nodeport", { type: "NodePort" }),
        expected: "admitted",
      },
      {
        namespace: "docs",
        as: fluxApplier,
        manifest: serviceManifest("guard-external-ips", { externalIPs: ["192.0.2.10"] }),
        expected: "admitted",
      },
      {
        namespace: "docs",
        as: fluxApplier,
        manifest: ingressManifest("guard-any-host", { rules: [rule("docs.e2e.example.test")] }),
        expected: refused(
          "docs",
          ing("guard-any-host"),
          `${noHost("docs")}; got spec.rules[].host docs.e2e.example.test`,
        ),
      },
    ];

    /** `Kind namespace/name [as who]`: a probe's row in the verdicts compared below. */
    const label = (p: { namespace: string; manifest: Record<string, unknown>; as?: string }) =>
      `${String(p.manifest["kind"])} ${p.namespace}/${(p.manifest["metadata"] as { name: string }).name}${p.as === undefined ? "" : ` as ${p.as}`}`;
    /** POSTs the manifest; with dryRun=All, admission runs in full and nothing is stored. */
    const create = (p: Probe, dryRun: boolean) => {
      const base =
        p.manifest["kind"] === "Ingress"
          ? `/apis/networking.k8s.io/v1/namespaces/${p.namespace}/ingresses`
          : `/api/v1/namespaces/${p.namespace}/services`;
      return project.kubectl(
        [
          ...(p.as === undefined ? [] : ["--as", p.as]),
          "create",
          "--raw",
          dryRun ? `${base}?dryRun=All` : base,
          "-f",
          "-",
        ],
        JSON.stringify(p.manifest),
      );
    };

    try {
      const answers = await timed("2b tenant guard probes", async () => {
        const created = await Promise.all(probes.map((p) => create(p, true)));
        // Updates of the program's own objects are guarded too (the policies match UPDATE).
        const hostChange = await project.kubectl([
          "patch",
          "ingress",
          "web",
          "-n",
          "web",
          "--dry-run=server",
          "--type=json",
          "-p",
          JSON.stringify([
            { op: "replace", path: "/spec/rules/0/host", value: "other.e2e.example.test" },
          ]),
        ]);
        const typeChange = await project.kubectl([
          "patch",
          "service",
          "web",
          "-n",
          "web",
          "--dry-run=server",
          "--type=merge",
          "-p",
          JSON.stringify({ spec: { type: "LoadBalancer" } }),
        ]);
        // The same refusal without dryRun: the dry-run verdicts above are the real ones.
        const real = await create(probes[0]!, false);
        return { created, hostChange, typeChange, real };
      });

      // Each probe with the API server's whole answer: a mismatch shows what it said.
      expect([
        ...probes.map((p, i) => [`${label(p)} (dry run)`, verdict(answers.created[i]!)]),
        ["update Ingress web/web host (dry run)", verdict(answers.hostChange)],
        ["update Service web/web type (dry run)", verdict(answers.typeChange)],
        [`${label(probes[0]!)} (stored)`, verdict(answers.real)],
      ]).toEqual([
        ...probes.map((p) => [`${label(p)} (dry run)`, p.expected]),
        [
          "update Ingress web/web host (dry run)",
          refused("web", ing("web"), `${webHosts}; got spec.rules[].host other.e2e.example.test`),
        ],
        [
          "update Service web/web type (dry run)",
          refused("web", svc("web"), `${webServices}: expected type ClusterIP, got LoadBalancer`),
        ],
        [`${label(probes[0]!)} (stored)`, probes[0]!.expected],
      ]);

      // Nothing stayed behind: no probe object, and the program's own unchanged.
      const left = await project.getJson<{
        items: { kind: string; metadata: { namespace: string; name: string } }[];
      }>(["services,ingresses", "-A", "-l", "e2e.test/guard=probe"]);
      expect(left.items.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual(
        [],
      );
      const webIngress = await project.getJson<{ spec: { rules: { host: string }[] } }>([
        "ingress",
        "web",
        "-n",
        "web",
      ]);
      expect(webIngress.spec.rules.map((r) => r.host)).toEqual(["web.e2e.example.test"]);
      const webService = await project.getJson<{ spec: { type: string } }>([
        "service",
        "web",
        "-n",
        "web",
      ]);
      expect(webService.spec.type).toBe("ClusterIP");
    } finally {
      // Whatever a wrong verdict let through goes, so that the later steps see the stack alone.
      await project.kubectl([
        "delete",
        "services,ingresses",
        "-A",
        "-l",
        "e2e.test/guard=probe",
        "--ignore-not-found",
      ]);
    }
  });

  test("3. a second preview --expect-no-changes finds nothing", async () => {
    const r = await timed("3 preview --expect-no-changes", () =>
      project.npm("preview", ["--expect-no-changes"]),
    );
    expectExit(r);
  });

  test("4. a config change (an app's replicas, a runner tag) previews and applies as exactly the expected updates", async () => {
    project.writeStack((config) => {
      const apps = config["platform:apps"] as { name: string; replicas?: number }[];
      apps.find((a) => a.name === "api")!.replicas = 3;
      (config["platform:runner"] as { tags: string[] }).tags.push("fast");
      // A new commit of the agent's config.yaml to the branch no one else may push to.
      (config["platform:agent"] as { groups?: string[] }).groups = ["acme"];
    });
    const preview = await timed("4 preview --json (change)", () =>
      project.npm("preview", ["--json"]),
    );
    expectExit(preview);
    const planned = previewSteps(preview.stdout)
      .filter((s) => s.op !== "same" && s.op !== "refresh")
      .map((s) => `${s.op} ${urnName(s.urn)}`)
      .sort();
    // Exactly the updates: the runner's settings change through their own resource, so the
    // runner's token and id, the token Secret and the release stay as they are.
    expect(planned).toEqual([
      "update Deployment::app-api",
      "update RepositoryFile::agent-config",
      "update UserRunnerSettings::runner-settings",
    ]);

    const up = await timed("4 up --json (change)", () =>
      project.npm("up", ["--yes", "--skip-preview", "--json"]),
    );
    expectExit(up);
    expect(engineOps(up.stdout)).toEqual([
      "update Deployment::app-api",
      "update RepositoryFile::agent-config",
      "update UserRunnerSettings::runner-settings",
    ]);
    const api = await project.getJson<{
      spec: { replicas: number };
      status: { readyReplicas?: number };
    }>(["deployment", "-n", "api", "api"]);
    expect(api.spec.replicas).toBe(3);
    const runner = [...fake.state.runners.values()][0]!;
    expect([...(runner["tag_list"] as string[])].sort()).toEqual(["e2e", "fast", "kubernetes"]);
    // The platform project's default branch lets no one push but the program's own user, whose
    // new config.yaml GitLab took (the fake refuses commits the user may not push, as GitLab does).
    const me = Number(fake.state.users.get(fake.token)?.["id"]);
    const pushers = (protections(fake.state).branches.get("1001:main")?.["push_access_levels"] ??
      []) as { access_level: number | null; user_id: number | null }[];
    expect(pushers.map((e) => [e.access_level, e.user_id])).toEqual([
      [0, null],
      [null, me],
    ]);
    const configYaml = fake.state.files.get("1001:main:.gitlab/agents/e2e/config.yaml");
    const agentConfig = parseYaml(
      Buffer.from(String(configYaml?.["content"]), "base64").toString(),
    );
    expect(
      (agentConfig as { ci_access: { groups: { id: string }[] } }).ci_access.groups.map(
        (g) => g.id,
      ),
    ).toEqual(["acme"]);
  });

  test("5. rotating the runner token replaces the runner and its Secret", async () => {
    const before = [...fake.state.runners.keys()];
    const oldToken = (
      await project.getJson<{ data: Record<string, string> }>([
        "secret",
        "-n",
        "gitlab-managed-apps",
        "gitlab-runner-token",
      ])
    ).data["runner-token"];
    project.writeStack((config) => {
      (config["platform:runner"] as { rotation?: string }).rotation = "2";
    });
    const up = await timed("5 up --json (token rotation)", () =>
      project.npm("up", ["--yes", "--skip-preview", "--json"]),
    );
    expectExit(up);
    expect(engineOps(up.stdout)).toEqual([
      "create-replacement Secret::runner-token",
      "create-replacement UserRunner::runner-runner",
      "create-replacement UserRunnerSettings::runner-settings",
      "delete-replaced Secret::runner-token",
      "delete-replaced UserRunner::runner-runner",
      "delete-replaced UserRunnerSettings::runner-settings",
      "replace Secret::runner-token",
      "replace UserRunner::runner-runner",
      "replace UserRunnerSettings::runner-settings",
      "update Release::runner-release",
    ]);
    const after = [...fake.state.runners.keys()];
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
    const newToken = (
      await project.getJson<{ data: Record<string, string> }>([
        "secret",
        "-n",
        "gitlab-managed-apps",
        "gitlab-runner-token",
      ])
    ).data["runner-token"];
    expect(newToken).not.toBe(oldToken);
    expect(gitlabObjects(fake)).toEqual(await stateObjects());
  });

  test("6. a GitLab fault mid-up fails with a clear message; the next up converges with no orphans", async () => {
    project.writeStack((config) => {
      (config["platform:ciVariables"] as unknown[]).push({
        key: "E2E_FAULTY",
        value: "on",
        credential: false,
        environmentScope: "staging",
      });
      const apps = config["platform:apps"] as { name: string; replicas?: number }[];
      apps.find((a) => a.name === "web")!.replicas = 3;
    });
    // Every attempt to create the new variable gets a 500 (retries included).
    fake.faults.push({
      method: "POST",
      path: /^\/projects\/(1001|acme%2Fplatform)\/variables$/,
      status: 500,
      body: { message: "500 Internal Server Error" },
      times: 1000,
    });
    const failed = await timed("6 up with a GitLab fault", () =>
      project.npm("up", ["--yes", "--skip-preview"]),
    );
    expectExit(failed, "nonzero");
    const said = failed.stdout + failed.stderr;
    if (!/ProjectVariable "[^"]*E2E_FAULTY[^"]*": POST \S+ failed with HTTP 500/.test(said)) {
      throw new Error(
        `the failure does not name the variable and GitLab's 500\n${explain(failed)}`,
      );
    }
    fake.faults.length = 0;

    const again = await timed("6 up after the fault", () =>
      project.npm("up", ["--yes", "--skip-preview"]),
    );
    expectExit(again);
    expect(
      fake.state.variables
        .get("projects:1001")
        ?.map((v) => v["key"])
        .sort(),
    ).toEqual(["E2E_FAULTY", "LOG_LEVEL"]);
    expect(gitlabObjects(fake)).toEqual(await stateObjects());
    const web = await project.getJson<{ spec: { replicas: number } }>([
      "deployment",
      "-n",
      "web",
      "web",
    ]);
    expect(web.spec.replicas).toBe(3);
    const settled = await timed("6 preview --expect-no-changes", () =>
      project.npm("preview", ["--expect-no-changes"]),
    );
    expectExit(settled);
  });

  test("7. destroy leaves no namespace and no GitLab object", async () => {
    const r = await timed("7 destroy", () =>
      project.pulumi(["destroy", "--yes", "--skip-preview", "--stack", "e2e"]),
    );
    expectExit(r);
    // Namespace deletion finishes asynchronously (the namespace controller empties them first).
    const left = await timed("7 namespaces gone", async () => {
      for (let i = 0; i < 120; i++) {
        const ns = await project.getJson(["namespaces"]);
        const names = ns.items
          .map((n) => (n["metadata"] as { name: string }).name)
          .filter((n) => n in NAMESPACES);
        if (names.length === 0) return names;
        await new Promise((res) => setTimeout(res, 1000));
      }
      return (await project.getJson(["namespaces"])).items
        .map((n) => (n["metadata"] as { name: string }).name)
        .filter((n) => n in NAMESPACES);
    });
    expect(left).toEqual([]);
    const objects = gitlabObjects(fake);
    expect(objects).toEqual(Object.fromEntries(Object.keys(objects).map((k) => [k, 0])));
    const clusterRoles = await project.getJson(["clusterroles"]);
    expect(
      clusterRoles.items
        .map((c) => (c["metadata"] as { name: string }).name)
        .filter((n) => n.startsWith("gitlab-agent")),
    ).toEqual([]);
    // The guards are cluster-scoped: nothing deletes them with the namespaces.
    for (const kind of ["validatingadmissionpolicies", "validatingadmissionpolicybindings"]) {
      const left = await project.getJson([kind]);
      expect([
        kind,
        left.items
          .map((p) => (p["metadata"] as { name: string }).name)
          .filter((n) => n.endsWith(".gitlab-cd-platform")),
      ]).toEqual([kind, []]);
    }
  });
});
