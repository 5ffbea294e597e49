import * as fs from "fs";
import {
  ListedJob,
  listJobs,
  PIPELINES,
  PreviewJob,
  runningJobs,
} from "../harness/gitlab-ci-local";
import {
  COMPONENTS,
  componentDocuments,
  componentText,
  consumerJobs,
  consumerRepo,
} from "./consumer";

/**
 * The components' contract: their inputs (documented, defaults, pinned images), the jobs a
 * pipeline gets per source, environments, and GitLab's CI schema (gitlab-ci-local 4.60.1 validates
 * the merged configuration of a pipeline that includes every component).
 */

// Keywords GitLab reads at the top level of a configuration. A component must not set them: they
// would apply to (or fight with) the including project's whole pipeline.
const GLOBAL_KEYWORDS = [
  "default",
  "include",
  "stages",
  "variables",
  "workflow",
  "image",
  "services",
  "cache",
  "before_script",
  "after_script",
  "spec",
];

describe.each(COMPONENTS)("templates/%s.yml", (name) => {
  const { header, spec, jobs } = componentDocuments(name);

  test("is a spec:inputs header, then jobs and hidden templates only (no global keywords)", () => {
    expect(Object.keys(header)).toEqual(["spec"]);
    expect(Object.keys(spec)).toEqual(["inputs"]);
    expect(Object.keys(jobs).filter((k) => GLOBAL_KEYWORDS.includes(k))).toEqual([]);
  });

  test("documents every input with a description", () => {
    const undocumented = Object.entries(spec.inputs)
      .filter(([, input]) => (input.description ?? "").trim().length < 10)
      .map(([input]) => input);
    expect(undocumented).toEqual([]);
  });

  test("opens with a comment naming the component and how to include it", () => {
    const text = componentText(name);
    expect(text.startsWith(`# ${name}: `)).toBe(true);
    expect(text).toContain(`component: $CI_SERVER_FQDN/acme/platform/${name}@1.0.0`);
  });

  test("keeps every script free of input interpolation (inputs reach scripts as variables)", () => {
    const scripts = JSON.stringify(
      Object.values(jobs).map((j) => (j as { script?: unknown }).script ?? []),
    );
    expect(scripts).not.toContain("$[[");
  });
});

type PipelineName = keyof typeof PIPELINES;
const PIPELINE_NAMES = Object.keys(PIPELINES) as PipelineName[];

/** `name → default` (or "required") of a component's inputs. */
function inputTable(name: string): Record<string, unknown> {
  const { spec } = componentDocuments(name);
  return Object.fromEntries(
    Object.entries(spec.inputs).map(([input, s]) => [
      input,
      "default" in s ? s.default : "required",
    ]),
  );
}

describe("inputs", () => {
  test("build-maven: stage, Maven image, artifacts and their lifetime", () => {
    expect(inputTable("build-maven")).toEqual({
      stage: "build",
      maven_image: "maven:3.9.14-eclipse-temurin-21",
      artifact_paths: ["target/*.jar"],
      artifacts_expire_in: "1 week",
    });
  });

  test("build-image: stage, context, Dockerfile and the rootless BuildKit image", () => {
    expect(inputTable("build-image")).toEqual({
      stage: "build",
      context: ".",
      dockerfile: "Dockerfile",
      buildkit_image: "moby/buildkit:v0.33.0-rootless",
    });
  });

  test("deploy: method, app, environment and url are required; tool images pinned", () => {
    expect(inputTable("deploy")).toEqual({
      method: "required",
      app: "required",
      environment: "required",
      url: "required",
      stage: "deploy",
      image_job: "maven-image",
      rollout_timeout: "5m",
      manifests: "deploy",
      kubectl_image: "alpine/kubectl:1.36.3",
      flux_image: "ghcr.io/fluxcd/flux-cli:v2.8.5",
      sign: "none",
    });
    const { spec } = componentDocuments("deploy");
    expect(spec.inputs["method"]?.options).toEqual(["direct", "agent", "flux"]);
    expect(spec.inputs["environment"]?.options).toEqual(["dev", "staging", "production"]);
  });

  test("review: app and domain are required; direct by default, as review stacks are", () => {
    expect(inputTable("review")).toEqual({
      app: "required",
      domain: "required",
      method: "direct",
      port: 8080,
      auto_stop_in: "1 week",
      stage: "deploy",
      image_job: "maven-image",
      rollout_timeout: "5m",
      ingress_class: "",
      cpu_request: "50m",
      cpu_limit: "250m",
      memory_request: "64Mi",
      memory_limit: "256Mi",
      kubectl_image: "alpine/kubectl:1.36.3",
    });
    const { spec } = componentDocuments("review");
    expect(spec.inputs["method"]?.options).toEqual(["direct", "agent"]);
    expect(spec.inputs["port"]?.type).toBe("number");
  });

  // gitlab-ci-local 4.60 ignores spec:inputs:regex (a warning, no check), so the patterns are
  // checked here: every default matches its pattern, and the table below shows what each admits.
  test("every input default matches the input's regex", () => {
    const mismatches = COMPONENTS.flatMap((name) =>
      Object.entries(componentDocuments(name).spec.inputs)
        .filter(([, s]) => s.regex !== undefined && "default" in s)
        .filter(([, s]) => !new RegExp(s.regex as string).test(String(s.default)))
        .map(([input]) => `${name}.${input}`),
    );
    expect(mismatches).toEqual([]);
  });

  test.each([
    ["deploy", "app", "api", true],
    ["deploy", "app", "java-app", true],
    ["deploy", "app", "Api", false],
    ["deploy", "app", "9api", false],
    ["deploy", "app", "api-", false],
    ["deploy", "app", `a${"b".repeat(63)}`, false],
    ["deploy", "rollout_timeout", "90s", true],
    ["deploy", "rollout_timeout", "10m", true],
    ["deploy", "rollout_timeout", "0s", false],
    ["deploy", "rollout_timeout", "5", false],
    ["deploy", "rollout_timeout", "5 m", false],
    ["deploy", "url", "https://api.example.com", true],
    ["deploy", "url", "api.example.com", false],
    ["deploy", "url", "https://api example", false],
    ["review", "domain", "api.review.example.com", true],
    ["review", "domain", "example", false],
    ["review", "domain", "Api.example.com", false],
    ["review", "domain", ".example.com", false],
    ["review", "cpu_limit", "1", true],
    ["review", "cpu_limit", "1.5", true],
    ["review", "cpu_limit", "250m", true],
    ["review", "cpu_limit", "250M", false],
    ["review", "memory_limit", "512Mi", true],
    ["review", "memory_limit", "512", false],
    ["review", "memory_limit", "1G", false],
  ])("%s input %s admits %j: %s", (name, input, value, admitted) => {
    const regex = componentDocuments(name).spec.inputs[input]?.regex;
    expect(regex).toBeDefined();
    expect(new RegExp(regex as string).test(value)).toBe(admitted);
  });
});

describe("a pipeline including every component (gitlab-ci-local 4.60.1)", () => {
  let dir: string;
  let jobs: Record<string, PreviewJob>;
  const listed = new Map<PipelineName, ListedJob[]>();

  beforeAll(async () => {
    dir = await consumerRepo();
    jobs = await consumerJobs();
    // One gitlab-ci-local run per pipeline source. The schema check does not depend on the
    // source (rules do not change what is validated): it runs with the first.
    for (const [index, name] of PIPELINE_NAMES.entries()) {
      listed.set(name, await listJobs(dir, PIPELINES[name], index === 0));
    }
  }, 120_000);

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const builds = {
    "maven-verify": "on_success",
    "maven-image": "on_success",
    "container-image": "on_success",
  };
  const deploys = {
    ...builds,
    "deploy-dev": "on_success",
    "deploy-staging": "on_success",
    "deploy-production": "manual",
  };

  test.each<[PipelineName, string, Record<string, string>]>([
    [
      "mergeRequest",
      "the review app and its manual stop job, no deploy",
      {
        ...builds,
        review: "on_success",
        "stop-review": "manual",
      },
    ],
    ["defaultBranch", "dev and staging deploy, production waits for a click", deploys],
    ["tag", "dev and staging deploy, production waits for a click", deploys],
    ["unprotectedDefaultBranch", "builds only", builds],
    ["unprotectedTag", "builds only", builds],
    ["featureBranch", "builds only", builds],
  ])("%s pipeline: %s", (name, _behaviour, expected) => {
    expect(runningJobs(listed.get(name) ?? [])).toEqual(expected);
  });

  test("a failed manual production deploy fails the pipeline; a failed stop does not", () => {
    const allowFailure = (source: PipelineName, job: string) =>
      listed.get(source)?.find((j) => j.name === job)?.allow_failure;
    expect(allowFailure("tag", "deploy-production")).toBe(false);
    expect(allowFailure("mergeRequest", "stop-review")).toBe(true);
  });

  test("deploy jobs: environment, tier, URL, one resource group each, the image job's dotenv", () => {
    const summary = Object.fromEntries(
      ["deploy-dev", "deploy-staging", "deploy-production"].map((name) => {
        const job = jobs[name] as PreviewJob;
        return [
          name,
          {
            environment: job.environment,
            resource_group: job.resource_group,
            needs: job.needs,
            image: job.image,
            stage: job.stage,
          },
        ];
      }),
    );
    expect(summary).toEqual({
      "deploy-dev": {
        environment: {
          name: "dev",
          deployment_tier: "development",
          url: "https://api.dev.example.com",
        },
        resource_group: "deploy-dev",
        needs: [{ job: "maven-image", artifacts: true, optional: false }],
        image: { name: "$DEPLOY_KUBECTL_IMAGE", entrypoint: [""] },
        stage: "deploy",
      },
      "deploy-staging": {
        environment: {
          name: "staging",
          deployment_tier: "staging",
          url: "https://api.staging.example.com",
        },
        resource_group: "deploy-staging",
        needs: [{ job: "container-image", artifacts: true, optional: false }],
        image: { name: "$DEPLOY_KUBECTL_IMAGE", entrypoint: [""] },
        stage: "deploy",
      },
      "deploy-production": {
        environment: {
          name: "production",
          deployment_tier: "production",
          url: "https://api.example.com",
        },
        resource_group: "deploy-production",
        needs: [{ job: "maven-image", artifacts: true, optional: false }],
        image: { name: "$DEPLOY_FLUX_IMAGE", entrypoint: [""] },
        stage: "deploy",
      },
    });
  });

  test("deploy jobs carry their inputs as variables (the scripts read nothing else of the component)", () => {
    expect(jobs["deploy-staging"]?.variables).toEqual({
      DEPLOY_METHOD: "direct",
      DEPLOY_APP: "api",
      DEPLOY_ENVIRONMENT: "staging",
      DEPLOY_IMAGE_JOB: "container-image",
      DEPLOY_ROLLOUT_TIMEOUT: "90s",
      DEPLOY_MANIFESTS: "deploy",
      DEPLOY_KUBECTL_IMAGE: "alpine/kubectl:1.36.3",
      DEPLOY_FLUX_IMAGE: "ghcr.io/fluxcd/flux-cli:v2.8.5",
      DEPLOY_SIGN: "none",
    });
  });

  test("deploy rules: never in merge request pipelines; protected default branch or tag only", () => {
    const rules = (name: string) => jobs[name]?.rules;
    const protectedRef =
      '$CI_COMMIT_REF_PROTECTED == "true" && ($CI_COMMIT_TAG || $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH)';
    const noMergeRequests = { if: '$CI_PIPELINE_SOURCE == "merge_request_event"', when: "never" };
    expect(rules("deploy-dev")).toEqual([noMergeRequests, { if: protectedRef }]);
    expect(rules("deploy-staging")).toEqual([noMergeRequests, { if: protectedRef }]);
    expect(rules("deploy-production")).toEqual([
      noMergeRequests,
      { if: protectedRef, when: "manual" },
    ]);
  });

  test("the flux job holds no cluster credentials and never calls kubectl", () => {
    const job = jobs["deploy-production"] as PreviewJob;
    const script = (job.script ?? []).join("\n");
    expect(script).not.toMatch(/\bkubectl\b/);
    expect(script).not.toContain("KUBECONFIG");
    expect(script).toContain("flux push artifact");
    expect(Object.keys(job.variables ?? {}).filter((k) => k.startsWith("KUBE"))).toEqual([]);
  });

  test("review: environment review/<slug>, URL from the slug, auto stop, its own resource group", () => {
    expect(jobs["review"]?.environment).toEqual({
      name: "review/$CI_COMMIT_REF_SLUG",
      url: "https://$CI_COMMIT_REF_SLUG.api.review.example.com",
      deployment_tier: "development",
      on_stop: "stop-review",
      auto_stop_in: "1 week",
    });
    expect(jobs["review"]?.resource_group).toBe("review/$CI_COMMIT_REF_SLUG");
    expect(jobs["review"]?.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
  });

  test("every job that starts an environment with on_stop has that stop job, same environment and rule", () => {
    const starts = Object.entries(jobs).filter(([, j]) => j.environment?.["on_stop"] !== undefined);
    expect(starts.map(([name]) => name)).toEqual(["review"]);
    for (const [, start] of starts) {
      const stop = jobs[start.environment?.["on_stop"] as string] as PreviewJob;
      expect(stop.environment).toEqual({ name: start.environment?.["name"], action: "stop" });
      expect(stop.rules).toEqual([{ if: start.rules?.[0]?.if, when: "manual" }]);
      expect(stop.resource_group).toBe(start.resource_group);
      expect(stop.variables?.["GIT_STRATEGY"]).toBe("none");
      expect(stop.needs).toEqual([]);
    }
  });

  test("maven-verify: mvn verify, .m2 cache keyed on pom.xml, junit reports, artifacts for a week", () => {
    const job = jobs["maven-verify"] as PreviewJob;
    expect(job.image).toEqual({ name: "maven:3.9.14-eclipse-temurin-21" });
    expect(job.script).toEqual(["mvn $MAVEN_CLI_OPTS verify"]);
    expect(job.variables).toEqual({
      MAVEN_OPTS: "-Dmaven.repo.local=$CI_PROJECT_DIR/.m2/repository",
      MAVEN_CLI_OPTS: "--batch-mode --errors --fail-at-end --show-version --no-transfer-progress",
    });
    expect(job.cache).toEqual([
      {
        key: { files: ["pom.xml"], prefix: "maven" },
        paths: [".m2/repository"],
        policy: "pull-push",
        when: "on_success",
      },
    ]);
    expect(job.artifacts).toEqual({
      when: "always",
      expire_in: "1 week",
      paths: ["target/*.jar"],
      reports: {
        junit: ["target/surefire-reports/TEST-*.xml", "target/failsafe-reports/TEST-*.xml"],
      },
    });
  });

  test("maven-image: after maven-verify, pulls the cache, publishes the image as a dotenv report", () => {
    const job = jobs["maven-image"] as PreviewJob;
    expect(job.needs).toEqual([{ job: "maven-verify", artifacts: false, optional: false }]);
    expect(job.cache).toEqual([
      {
        key: { files: ["pom.xml"], prefix: "maven" },
        paths: [".m2/repository"],
        policy: "pull",
        when: "on_success",
      },
    ]);
    expect(job.artifacts).toEqual({ expire_in: "never", reports: { dotenv: "image.env" } });
  });

  test("container-image: rootless BuildKit without its daemon entrypoint, no process sandbox", () => {
    const job = jobs["container-image"] as PreviewJob;
    expect(job.image).toEqual({ name: "moby/buildkit:v0.33.0-rootless", entrypoint: [""] });
    expect(job.variables).toEqual({
      BUILDKITD_FLAGS: "--oci-worker-no-process-sandbox",
      BUILD_CONTEXT: ".",
      BUILD_DOCKERFILE: "docker/Dockerfile",
    });
    expect(job.artifacts).toEqual({ expire_in: "never", reports: { dotenv: "image.env" } });
  });
});

test("deploy.yml and review.yml connect to the cluster and check the image with the same text", () => {
  const deploy = componentDocuments("deploy").jobs[".platform-deploy-method-direct"] as {
    script: string[];
  };
  const review = componentDocuments("review").jobs["review"] as { script: string[] };
  // deploy: [connect, image, rollout]; review: [connect, name, image, apply].
  expect(review.script[0]).toBe(deploy.script[0]);
  expect(review.script[2]).toBe(deploy.script[1]);
});
