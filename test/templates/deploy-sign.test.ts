import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PreviewJob, REPO_ROOT } from "../harness/gitlab-ci-local";
import { FakeCall, fakeTools, FakeTools, runJobScript, ScriptResult } from "../harness/fake-tools";
import { consumerJobs, DEPLOY_CI, DIGEST, REPOSITORY, SHA } from "./consumer";

/**
 * The deploy component's `sign` input: the flux job signs the pushed artifact's digest with cosign
 * before tagging it (what the platform stack's `flux.verify` makes Flux require). The consumer
 * pipeline's deploy-production job (method flux) is run against fake flux and cosign, with
 * DEPLOY_SIGN set as the input would set it.
 */

const ARTIFACT = `oci://${REPOSITORY}/manifests:${SHA}`;
const ARTIFACT_DIGEST = `sha256:${"d".repeat(64)}`;
const SIGNED = `${REPOSITORY}/manifests@${ARTIFACT_DIGEST}`;

const ENV = {
  ...DEPLOY_CI,
  BUILT_IMAGE_REPOSITORY: REPOSITORY,
  BUILT_IMAGE_DIGEST: DIGEST,
  KUBE_NAMESPACE: "api",
  IMAGE_REPOSITORY: REPOSITORY,
  FAKE_ARTIFACT_DIGEST: ARTIFACT_DIGEST,
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
  fs.mkdirSync(path.join(project, "deploy"), { recursive: true });
  fs.writeFileSync(path.join(project, "deploy", "kustomization.yaml"), "resources: []\n");
});

afterEach(() => {
  tools.remove();
});

function runJob(name: string, env: Record<string, string>): ScriptResult {
  const job = jobs[name] as PreviewJob;
  return runJobScript(
    job.script ?? [],
    {
      ...(job.variables as Record<string, string>),
      CI_ENVIRONMENT_NAME: String(job.environment?.["name"]),
      ...ENV,
      ...env,
    },
    tools,
    project,
  );
}

const REGISTRY_FLAGS = [
  "--yes",
  "--registry-username=gitlab-ci-token",
  "--registry-password=job-token-value",
];

describe("sign: the flux job signs the pushed digest, then tags it", () => {
  test("keyless: push reports the digest, cosign signs it with the job's ID token, then the tag moves", () => {
    const result = runJob("deploy-production", {
      DEPLOY_SIGN: "keyless",
      SIGSTORE_ID_TOKEN: "id-token-for-sigstore",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const calls = tools.calls();
    expect(calls.map((c) => [c.tool, c.argv[0]])).toEqual([
      ["flux", "push"],
      ["cosign", "sign"],
      ["flux", "tag"],
    ]);
    const [push, sign] = calls as [FakeCall, FakeCall];
    expect(push.argv.slice(-2)).toEqual(["--output", "json"]);
    expect(sign.argv).toEqual(["sign", ...REGISTRY_FLAGS, SIGNED]);
    expect(sign.sigstoreIdToken).toBe("id-token-for-sigstore");
    expect(result.stdout).toContain(`signed ${SIGNED} (keyless)\n`);
  });

  test("key: cosign signs with the private key from the CI/CD variable", () => {
    const result = runJob("deploy-production", {
      DEPLOY_SIGN: "key",
      COSIGN_PRIVATE_KEY: "encrypted-private-key",
      COSIGN_PASSWORD: "pw",
    });
    expect(result.status).toBe(0);
    const sign = tools.calls().find((c) => c.tool === "cosign") as FakeCall;
    expect(sign.argv).toEqual([
      "sign",
      ...REGISTRY_FLAGS,
      "--key",
      "env://COSIGN_PRIVATE_KEY",
      SIGNED,
    ]);
    expect(sign.cosignPrivateKey).toBe("encrypted-private-key");
  });

  test.each<[string, Record<string, string>, string]>([
    [
      "keyless without the ID token",
      { DEPLOY_SIGN: "keyless" },
      "ERROR: sign: keyless needs the SIGSTORE_ID_TOKEN ID token, which the component requests; GitLab gives it only to pipelines whose CI configuration is in the project",
    ],
    [
      "key without the private key",
      { DEPLOY_SIGN: "key" },
      "ERROR: sign: key needs the CI/CD variable COSIGN_PRIVATE_KEY (masked, protected, scoped to production) and COSIGN_PASSWORD: only protected refs of this environment may sign",
    ],
  ])("%s: fails before pushing anything", (_case, env, message) => {
    const result = runJob("deploy-production", env);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(message);
    expect(tools.calls()).toEqual([]);
  });

  test("an image without cosign fails before pushing, naming the input to change", () => {
    fs.rmSync(path.join(tools.binDir, "cosign"));
    const result = runJob("deploy-production", { DEPLOY_SIGN: "keyless", SIGSTORE_ID_TOKEN: "t" });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      "ERROR: sign: keyless needs cosign on PATH, and ghcr.io/fluxcd/flux-cli:v2.8.5 has none: set the flux_image input to an image with both flux and cosign",
    );
    expect(tools.calls()).toEqual([]);
  });

  test("a failed signature leaves the environment's tag where it was", () => {
    const result = runJob("deploy-production", {
      DEPLOY_SIGN: "keyless",
      SIGSTORE_ID_TOKEN: "t",
      FAKE_COSIGN_FAIL: "1",
    });
    expect(result.status).toBe(1);
    expect(tools.calls().map((c) => [c.tool, c.argv[0]])).toEqual([
      ["flux", "push"],
      ["cosign", "sign"],
    ]);
    expect(result.stderr.trim().split("\n").pop()).toBe(
      `ERROR: cosign could not sign ${SIGNED}; it is not tagged production, so Flux keeps applying the previous artifact`,
    );
  });

  test("a push that reports no digest is not signed or tagged", () => {
    const result = runJob("deploy-production", {
      DEPLOY_SIGN: "keyless",
      SIGSTORE_ID_TOKEN: "t",
      FAKE_ARTIFACT_DIGEST: "",
    });
    expect(result.status).toBe(1);
    expect(tools.calls().map((c) => c.tool)).toEqual(["flux"]);
    expect(result.stderr).toContain(
      `ERROR: flux push artifact reported no digest for ${ARTIFACT}: `,
    );
  });

  test("direct and agent refuse a sign input: they deploy an image, not an artifact", () => {
    const result = runJob("deploy-staging", {
      DEPLOY_SIGN: "key",
      KUBECONFIG: "/tmp/k",
      KUBE_TOKEN: "t",
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      "ERROR: sign: key signs flux artifacts; method direct deploys an image, which the image job signs if at all: set sign to none",
    );
    expect(tools.calls()).toEqual([]);
  });
});

describe("the component's sign input", () => {
  const [header, body] = fs
    .readFileSync(path.join(REPO_ROOT, "templates", "deploy.yml"), "utf8")
    .split(/^---$/m)
    .map((doc) => parse(doc) as Record<string, unknown>) as [
    { spec: { inputs: Record<string, unknown> } },
    Record<string, Record<string, unknown>>,
  ];

  test("defaults to none, and keyless requests an ID token with audience sigstore", () => {
    expect(header.spec.inputs["sign"]).toMatchObject({
      options: ["none", "keyless", "key"],
      default: "none",
    });
    expect(body[".platform-deploy-sign-keyless"]).toEqual({
      id_tokens: { SIGSTORE_ID_TOKEN: { aud: "sigstore" } },
    });
    expect(body[".platform-deploy-sign-none"]).toEqual({});
    expect(body[".platform-deploy-sign-key"]).toEqual({});
    // No job gets an ID token unless it signs keyless.
    expect(jobs["deploy-production"]).not.toHaveProperty("id_tokens");
  });
});
