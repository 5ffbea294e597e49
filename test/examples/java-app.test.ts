import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { fluxApplierRules } from "../../components/flux-bootstrap";
import { FakeCall, fakeTools, runJobScript } from "../harness/fake-tools";
import {
  ListedJob,
  listJobs,
  PIPELINES,
  PipelineSource,
  preview,
  PreviewJob,
  runningJobs,
} from "../harness/gitlab-ci-local";
import { validateManifest } from "../harness/k8s-schema";
import {
  COMPONENT_PROJECT,
  COMPONENT_VERSION,
  EXAMPLE_DIR,
  exampleRepo,
  exampleYaml,
  WORKFLOW_PROBE,
} from "./java-app";

/**
 * examples/java-app: its pipeline (the components, as the app's `.gitlab-ci.yml` includes them,
 * through gitlab-ci-local 4.60.1), its Flux manifests, and the pom's image settings. The real Maven
 * build and the Jib image are java-app.slow.test.ts (`npm run test:slow`).
 */

const openMergeRequest: PipelineSource = {
  label: "feature branch push with an open merge request",
  variables: { ...PIPELINES.featureBranch.variables, CI_OPEN_MERGE_REQUESTS: "acme/java-app!7" },
  unset: [],
};

describe("the example's pipeline", () => {
  let dir: string;
  let jobs: Record<string, PreviewJob>;
  const listed = new Map<string, ListedJob[]>();
  const sources: Record<string, PipelineSource> = {
    mergeRequest: PIPELINES.mergeRequest,
    defaultBranch: PIPELINES.defaultBranch,
    tag: PIPELINES.tag,
    featureBranch: PIPELINES.featureBranch,
    openMergeRequest,
  };

  beforeAll(async () => {
    dir = await exampleRepo(true);
    jobs = await preview(dir);
    for (const [index, [name, source]] of Object.entries(sources).entries()) {
      listed.set(name, await listJobs(dir, source, index === 0));
    }
  }, 120_000);

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("includes only the platform's components, at a released version", () => {
    const config = exampleYaml(".gitlab-ci.yml") as { include: { component: string }[] };
    expect(config.include.map((i) => i.component)).toEqual(
      ["build-maven", "deploy", "deploy", "review"].map(
        (name) => `$CI_SERVER_FQDN/${COMPONENT_PROJECT}/${name}@${COMPONENT_VERSION}`,
      ),
    );
  });

  const probe = { [WORKFLOW_PROBE]: "on_success" };
  const builds = { "maven-verify": "on_success", "maven-image": "on_success" };

  test.each<[string, string, Record<string, string>]>([
    [
      "mergeRequest",
      "build, test, image, the review app and its stop job",
      { ...probe, ...builds, review: "on_success", "stop-review": "manual" },
    ],
    [
      "defaultBranch",
      "build, test, image, Flux to dev, production on a click",
      { ...probe, ...builds, "deploy-dev": "on_success", "deploy-production": "manual" },
    ],
    [
      "tag",
      "build, test, image, Flux to dev, production on a click",
      { ...probe, ...builds, "deploy-dev": "on_success", "deploy-production": "manual" },
    ],
    ["featureBranch", "build, test and image only", { ...probe, ...builds }],
    // The merge request pipeline runs instead (workflow:rules): no duplicate branch pipeline.
    ["openMergeRequest", "no pipeline", {}],
  ])("%s: %s", (name, _behaviour, expected) => {
    const jobsOf = listed.get(name) ?? [];
    const pipelineRuns = runningJobs(jobsOf)[WORKFLOW_PROBE] !== undefined;
    expect(pipelineRuns ? runningJobs(jobsOf) : {}).toEqual(expected);
  });

  test("deploys with method flux, app java-app, to dev and production with their URLs", () => {
    const summary = (name: string) => ({
      method: jobs[name]?.variables?.["DEPLOY_METHOD"],
      app: jobs[name]?.variables?.["DEPLOY_APP"],
      manifests: jobs[name]?.variables?.["DEPLOY_MANIFESTS"],
      environment: jobs[name]?.environment,
    });
    expect(summary("deploy-dev")).toEqual({
      method: "flux",
      app: "java-app",
      manifests: "deploy",
      environment: {
        name: "dev",
        deployment_tier: "development",
        url: "https://java-app.dev.example.com",
      },
    });
    expect(summary("deploy-production")).toEqual({
      method: "flux",
      app: "java-app",
      manifests: "deploy",
      environment: {
        name: "production",
        deployment_tier: "production",
        url: "https://java-app.example.com",
      },
    });
  });

  test("its Flux deploy job ships deploy/ with the built image pinned on the placeholder java-app", () => {
    const tools = fakeTools();
    try {
      const job = jobs["deploy-production"] as PreviewJob;
      const repository = "registry.example.com/acme/java-app";
      const digest = `sha256:${"cd".repeat(32)}`;
      const result = runJobScript(
        job.script ?? [],
        {
          ...job.variables,
          CI_ENVIRONMENT_NAME: "production",
          CI_PROJECT_PATH: "acme/java-app",
          CI_PROJECT_URL: "https://gitlab.example.com/acme/java-app",
          CI_COMMIT_SHA: "f".repeat(40),
          CI_COMMIT_REF_NAME: "v1.2.0",
          CI_REGISTRY_USER: "gitlab-ci-token",
          CI_REGISTRY_PASSWORD: "job-token-value",
          KUBE_NAMESPACE: "java-app",
          IMAGE_REPOSITORY: repository,
          BUILT_IMAGE_REPOSITORY: repository,
          BUILT_IMAGE_DIGEST: digest,
        },
        tools,
        EXAMPLE_DIR,
      );
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      const push = tools.calls()[0] as FakeCall;
      expect(push.artifact?.files).toEqual([
        "app/deployment.yaml",
        "app/kustomization.yaml",
        "app/pdb.yaml",
        "app/service.yaml",
        "kustomization.yaml",
      ]);
      expect(push.artifact?.kustomization).toContain(
        `  - name: java-app\n    newName: ${repository}\n    digest: ${digest}\n`,
      );
      expect(tools.calls().map((c) => c.argv.slice(0, 3))).toEqual([
        ["push", "artifact", `oci://${repository}/manifests:${"f".repeat(40)}`],
        ["tag", "artifact", `oci://${repository}/manifests:${"f".repeat(40)}`],
      ]);
    } finally {
      tools.remove();
    }
  });
});

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
};

function manifests(): Manifest[] {
  const kustomization = exampleYaml("deploy/kustomization.yaml") as { resources: string[] };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(fs.readFileSync(path.join(EXAMPLE_DIR, "deploy", file), "utf8")).map(
      (d) => d.toJS() as Manifest,
    ),
  );
}

describe("the example's Flux manifests (deploy/)", () => {
  test("kustomization lists every manifest file of the directory", () => {
    const kustomization = exampleYaml("deploy/kustomization.yaml") as { resources: string[] };
    const files = fs
      .readdirSync(path.join(EXAMPLE_DIR, "deploy"))
      .filter((f) => f !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  test("every object is schema-valid, namespace-free (the platform's Kustomization sets it)", () => {
    for (const object of manifests()) {
      validateManifest(object);
      expect(object.metadata).not.toHaveProperty("namespace");
    }
    expect(manifests().map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Deployment/java-app",
      "Service/java-app",
      "PodDisruptionBudget/java-app",
    ]);
  });

  test("flux-applier, the identity Flux applies them as, may create every kind", () => {
    const resourceOf: Record<string, [string, string]> = {
      Deployment: ["apps", "deployments"],
      Service: ["", "services"],
      PodDisruptionBudget: ["policy", "poddisruptionbudgets"],
    };
    const rules = fluxApplierRules();
    for (const object of manifests()) {
      const [group, resource] = resourceOf[object.kind] as [string, string];
      const allowed = rules.some(
        (r) =>
          (r.apiGroups as string[]).includes(group) &&
          (r.resources as string[]).includes(resource) &&
          (r.verbs as string[]).includes("create"),
      );
      expect([object.kind, allowed]).toEqual([object.kind, true]);
    }
  });

  test("the Deployment runs restricted, with requests, limits and probes, as the app's ServiceAccount", () => {
    const deployment = manifests()[0] as Manifest;
    const pod = (deployment.spec["template"] as { spec: Record<string, unknown> }).spec;
    const [container] = pod["containers"] as Record<string, unknown>[];
    expect(pod["serviceAccountName"]).toBe("java-app");
    expect(pod["automountServiceAccountToken"]).toBe(false);
    expect(pod["securityContext"]).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container?.["name"]).toBe("java-app");
    // The placeholder the deploy job's kustomization pins to the built digest (input app).
    expect(container?.["image"]).toBe("java-app");
    expect(container?.["securityContext"]).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
    });
    expect(container?.["resources"]).toEqual({
      requests: { cpu: "100m", memory: "192Mi" },
      limits: { cpu: "500m", memory: "384Mi" },
    });
    expect(container?.["readinessProbe"]).toEqual({
      httpGet: { path: "/ready", port: "http" },
      periodSeconds: 10,
      failureThreshold: 3,
    });
    expect(container?.["startupProbe"]).toEqual({
      httpGet: { path: "/ready", port: "http" },
      periodSeconds: 2,
      failureThreshold: 30,
    });
    expect(container?.["livenessProbe"]).toEqual({
      tcpSocket: { port: "http" },
      periodSeconds: 20,
      failureThreshold: 3,
    });
    expect(container?.["ports"]).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(container?.["volumeMounts"]).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
  });

  test("Service and PodDisruptionBudget select exactly the Deployment's pods", () => {
    const [deployment, service, pdb] = manifests() as [Manifest, Manifest, Manifest];
    const podLabels = (deployment.spec["template"] as { metadata: { labels: object } }).metadata
      .labels;
    const selector = (deployment.spec["selector"] as { matchLabels: object }).matchLabels;
    expect(podLabels).toMatchObject(selector);
    expect(service.spec["selector"]).toEqual(selector);
    expect(service.spec["ports"]).toEqual([
      { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
    ]);
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: "AlwaysAllow",
      selector: { matchLabels: selector },
    });
  });
});

describe("the example's pom.xml", () => {
  const pom = fs.readFileSync(path.join(EXAMPLE_DIR, "pom.xml"), "utf8");
  const element = (name: string): string[] =>
    [...pom.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, "g"))].map((m) => m[1] as string);

  test("declares Jib with a pinned Temurin base, the Deployment's user and the container port", () => {
    expect(element("jib.version")).toEqual(["3.5.2"]);
    expect(element("jib.from.image")).toEqual(["eclipse-temurin:21.0.10_7-jre"]);
    expect(element("user")).toEqual(["10001:10001"]);
    expect(element("port")).toEqual(["8080"]);
    expect(element("mainClass")).toEqual(["${main.class}", "${main.class}"]);
    expect(element("main.class")).toEqual(["com.example.javaapp.App"]);
  });

  test("pins every plugin it uses", () => {
    const plugins = [
      ...pom.matchAll(
        /<plugin>\s*<groupId>[^<]+<\/groupId>\s*<artifactId>([^<]+)<\/artifactId>\s*<version>([^<]+)<\/version>/g,
      ),
    ];
    expect(plugins.map((m) => [m[1], m[2]])).toEqual([
      ["maven-clean-plugin", "3.5.0"],
      ["maven-resources-plugin", "3.5.0"],
      ["maven-compiler-plugin", "3.16.0"],
      ["maven-surefire-plugin", "3.5.6"],
      ["maven-jar-plugin", "3.5.0"],
      ["jib-maven-plugin", "${jib.version}"],
    ]);
  });

  test("the example's .gitignore keeps build output out of the repository", () => {
    expect(fs.readFileSync(path.join(EXAMPLE_DIR, ".gitignore"), "utf8")).toBe("target/\n.m2/\n");
  });
});
