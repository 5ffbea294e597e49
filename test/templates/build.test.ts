import * as fs from "fs";
import * as path from "path";
import { PreviewJob } from "../harness/gitlab-ci-local";
import { FakeCall, fakeTools, FakeTools, runJobScript, ScriptResult } from "../harness/fake-tools";
import { consumerJobs, DIGEST } from "./consumer";

/**
 * The image jobs' scripts (maven-image from build-maven, container-image from build-image) as
 * gitlab-ci-local merges them into the consumer pipeline, run by /bin/sh against fake `mvn` and
 * `buildctl-daemonless.sh`: what they push where, with which credentials and cache, and the dotenv
 * report the deploy and review jobs read.
 */

const SHA = "0123456789abcdef0123456789abcdef01234567";
const CI = {
  CI_COMMIT_SHA: SHA,
  CI_COMMIT_REF_SLUG: "feature-login",
  CI_COMMIT_REF_PROTECTED: "false",
  CI_REGISTRY: "registry.example.com",
  CI_REGISTRY_IMAGE: "registry.example.com/acme/api",
  CI_REGISTRY_USER: "gitlab-ci-token",
  CI_REGISTRY_PASSWORD: "job-token-value",
  FAKE_IMAGE_DIGEST: DIGEST,
};

let jobs: Record<string, PreviewJob>;
let tools: FakeTools;
let project: string;

beforeAll(async () => {
  jobs = await consumerJobs();
}, 60_000);

beforeEach(() => {
  tools = fakeTools();
  project = path.join(tools.dir, "project");
  fs.mkdirSync(path.join(project, "docker"), { recursive: true });
  fs.writeFileSync(path.join(project, "docker", "Dockerfile"), "FROM scratch\n");
});

afterEach(() => {
  tools.remove();
});

function runJob(name: string, env: Record<string, string> = {}): ScriptResult {
  const job = jobs[name] as PreviewJob;
  // GitLab expands variable references inside job variables before the script runs.
  const variables = Object.fromEntries(
    Object.entries(job.variables ?? {}).map(([k, v]) => [k, v.replace("$CI_PROJECT_DIR", project)]),
  );
  return runJobScript(
    job.script ?? [],
    { ...variables, CI_PROJECT_DIR: project, ...CI, ...env },
    tools,
    project,
  );
}

const dotenv = () => fs.readFileSync(path.join(project, "image.env"), "utf8");

describe("maven-image", () => {
  test("builds with Jib to $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA with the job's registry credentials", () => {
    const result = runJob("maven-image");
    expect(result.status).toBe(0);
    expect(tools.calls()).toEqual([
      {
        tool: "mvn",
        argv: [
          "--batch-mode",
          "--errors",
          "--fail-at-end",
          "--show-version",
          "--no-transfer-progress",
          "compile",
          "com.google.cloud.tools:jib-maven-plugin:build",
          `-Dimage=registry.example.com/acme/api:${SHA}`,
          "-Djib.to.auth.username=gitlab-ci-token",
          "-Djib.to.auth.password=job-token-value",
        ],
        mavenOpts: `-Dmaven.repo.local=${project}/.m2/repository`,
      },
    ]);
  });

  test("publishes the pushed repository and Jib's digest as the dotenv report", () => {
    runJob("maven-image");
    expect(dotenv()).toBe(
      `BUILT_IMAGE_REPOSITORY=registry.example.com/acme/api\nBUILT_IMAGE_DIGEST=${DIGEST}\n`,
    );
  });

  test("fails when Jib leaves no sha256 digest", () => {
    const result = runJob("maven-image", { FAKE_IMAGE_DIGEST: "" });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'ERROR: target/jib-image.digest holds "", not sha256:<64 hex>',
    );
    expect(fs.existsSync(path.join(project, "image.env"))).toBe(false);
  });
});

describe("container-image", () => {
  const cache = "registry.example.com/acme/api/buildcache";
  const build = (cacheArgs: string[]): string[] => [
    "build",
    "--frontend",
    "dockerfile.v0",
    "--local",
    "context=.",
    "--local",
    "dockerfile=docker",
    "--opt",
    "filename=Dockerfile",
    ...cacheArgs,
    "--output",
    `type=image,name=registry.example.com/acme/api:${SHA},push=true`,
    "--metadata-file",
    expect.stringMatching(/\/metadata\.json$/) as unknown as string,
  ];

  test("an unprotected ref reads the protected cache and its own, writes only its own", () => {
    const result = runJob("container-image");
    expect(result.status).toBe(0);
    const [call] = tools.calls() as [FakeCall];
    expect(call.argv).toEqual(
      build([
        "--import-cache",
        `type=registry,ref=${cache}:protected`,
        "--import-cache",
        `type=registry,ref=${cache}:feature-login`,
        "--export-cache",
        `type=registry,ref=${cache}:feature-login,mode=max`,
      ]),
    );
  });

  test("a protected ref reads and writes the protected cache only", () => {
    runJob("container-image", { CI_COMMIT_REF_PROTECTED: "true" });
    const [call] = tools.calls() as [FakeCall];
    expect(call.argv).toEqual(
      build([
        "--import-cache",
        `type=registry,ref=${cache}:protected`,
        "--export-cache",
        `type=registry,ref=${cache}:protected,mode=max`,
      ]),
    );
  });

  test("runs rootless without a process sandbox, with the job's registry credentials", () => {
    runJob("container-image");
    const [call] = tools.calls() as [FakeCall];
    expect(call.buildkitdFlags).toBe("--oci-worker-no-process-sandbox");
    const auth = Buffer.from("gitlab-ci-token:job-token-value").toString("base64");
    expect(JSON.parse(call.dockerConfig ?? "")).toEqual({
      auths: { "registry.example.com": { auth } },
    });
  });

  test("publishes the image digest (not the config digest) as the dotenv report", () => {
    runJob("container-image");
    expect(dotenv()).toBe(
      `BUILT_IMAGE_REPOSITORY=registry.example.com/acme/api\nBUILT_IMAGE_DIGEST=${DIGEST}\n`,
    );
  });

  test("fails without a Dockerfile, before building", () => {
    fs.rmSync(path.join(project, "docker", "Dockerfile"));
    const result = runJob("container-image");
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe("ERROR: docker/Dockerfile not found (the dockerfile input)");
    expect(tools.calls()).toEqual([]);
  });
});
