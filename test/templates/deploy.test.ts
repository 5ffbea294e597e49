import * as fs from "fs";
import * as path from "path";
import { PreviewJob } from "../harness/gitlab-ci-local";
import { FakeCall, fakeTools, FakeTools, runJobScript, ScriptResult } from "../harness/fake-tools";
import { consumerJobs, DEPLOY_CI, DIGEST, REPOSITORY, SHA } from "./consumer";

/**
 * The deploy component's scripts, as gitlab-ci-local merges them into the consumer pipeline's
 * jobs (deploy-dev: agent, deploy-staging: direct, deploy-production: flux), run by /bin/sh
 * against fake kubectl and flux. The environment is what GitLab gives the job: the job's
 * variables, predefined CI variables, the image job's dotenv report, and the variables the
 * platform publishes for the environment's scope.
 */

const IMAGE = `${REPOSITORY}@${DIGEST}`;
const CI = DEPLOY_CI;

const DOTENV = { BUILT_IMAGE_REPOSITORY: REPOSITORY, BUILT_IMAGE_DIGEST: DIGEST };

/** What the platform publishes per method (components/ci-variables.ts). */
const PUBLISHED = {
  agent: { KUBE_NAMESPACE: "api", IMAGE_REPOSITORY: REPOSITORY, KUBE_CONTEXT: "acme/platform:dev" },
  direct: {
    KUBE_NAMESPACE: "api",
    IMAGE_REPOSITORY: REPOSITORY,
    KUBECONFIG: "/builds/acme/api.tmp/KUBECONFIG",
    KUBE_TOKEN: "deployer-token",
  },
  flux: { KUBE_NAMESPACE: "api", IMAGE_REPOSITORY: REPOSITORY },
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
  fs.writeFileSync(
    path.join(project, "deploy", "kustomization.yaml"),
    "resources:\n  - deployment.yaml\n",
  );
  fs.writeFileSync(path.join(project, "deploy", "deployment.yaml"), "kind: Deployment\n");
});

afterEach(() => {
  tools.remove();
});

/** Runs job `name` with its variables, CI's, the dotenv and `env` (undefined values unset). */
function runJob(name: string, env: Record<string, string | undefined>): ScriptResult {
  const job = jobs[name] as PreviewJob;
  const all: Record<string, string | undefined> = {
    ...job.variables,
    CI_ENVIRONMENT_NAME: job.environment?.["name"],
    ...CI,
    ...DOTENV,
    ...env,
  };
  const defined = Object.fromEntries(
    Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return runJobScript(job.script ?? [], defined, tools, project);
}

const kubectl = (calls: FakeCall[]) => calls.filter((c) => c.tool === "kubectl").map((c) => c.argv);
const lastLine = (text: string) => text.trim().split("\n").pop();

describe("direct and agent: set image, rollout status, rollback on failure", () => {
  test("agent: selects KUBE_CONTEXT, sets the container's image to the digest, waits", () => {
    const result = runJob("deploy-dev", {
      ...PUBLISHED.agent,
      FAKE_KUBECTL_CONTEXTS: "acme/platform:dev",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(kubectl(tools.calls())).toEqual([
      ["config", "use-context", "acme/platform:dev"],
      ["--namespace", "api", "set", "image", "deployment/api", `api=${IMAGE}`],
      ["--namespace", "api", "rollout", "status", "deployment/api", "--timeout=5m"],
    ]);
    expect(lastLine(result.stdout)).toBe(`deployment/api in api runs ${IMAGE}`);
  });

  test("direct: uses the published KUBECONFIG as it is (no context switch), its own timeout", () => {
    const result = runJob("deploy-staging", PUBLISHED.direct);
    expect(result.status).toBe(0);
    expect(kubectl(tools.calls())).toEqual([
      ["--namespace", "api", "set", "image", "deployment/api", `api=${IMAGE}`],
      ["--namespace", "api", "rollout", "status", "deployment/api", "--timeout=90s"],
    ]);
  });

  test("a rollout that does not become ready is undone, the undo awaited, the job fails saying so", () => {
    const result = runJob("deploy-staging", {
      ...PUBLISHED.direct,
      FAKE_KUBECTL_ROLLOUT_STATUS: "1,0",
    });
    expect(result.status).toBe(1);
    expect(kubectl(tools.calls())).toEqual([
      ["--namespace", "api", "set", "image", "deployment/api", `api=${IMAGE}`],
      ["--namespace", "api", "rollout", "status", "deployment/api", "--timeout=90s"],
      ["--namespace", "api", "get", "pods", "--selector", "app.kubernetes.io/name=api"],
      ["--namespace", "api", "rollout", "undo", "deployment/api"],
      ["--namespace", "api", "rollout", "status", "deployment/api", "--timeout=90s"],
    ]);
    expect(lastLine(result.stderr)).toBe(
      `ERROR: the rollout of ${IMAGE} failed; deployment/api was rolled back to its previous revision`,
    );
    expect(result.stderr).toContain("Rolling deployment/api back to its previous revision");
  });

  test("a rollback that fails too is reported as such", () => {
    const result = runJob("deploy-staging", {
      ...PUBLISHED.direct,
      FAKE_KUBECTL_ROLLOUT_STATUS: "1",
      FAKE_KUBECTL_FAIL: "rollout undo",
    });
    expect(result.status).toBe(1);
    expect(kubectl(tools.calls()).map((argv) => argv.slice(2, 4))).toEqual([
      ["set", "image"],
      ["rollout", "status"],
      ["get", "pods"],
      ["rollout", "undo"],
    ]);
    expect(lastLine(result.stderr)).toBe(
      `ERROR: the rollout of ${IMAGE} failed and the rollback did not complete either: check deployment/api in namespace api`,
    );
  });

  test("a rollback that does not become ready either is reported as such", () => {
    const result = runJob("deploy-dev", {
      ...PUBLISHED.agent,
      FAKE_KUBECTL_CONTEXTS: "acme/platform:dev",
      FAKE_KUBECTL_ROLLOUT_STATUS: "1,1",
    });
    expect(result.status).toBe(1);
    expect(kubectl(tools.calls()).filter((argv) => argv[3] === "status")).toHaveLength(2);
    expect(lastLine(result.stderr)).toBe(
      `ERROR: the rollout of ${IMAGE} failed and the rollback did not complete either: check deployment/api in namespace api`,
    );
  });

  test.each<[string, string, Record<string, string | undefined>, string]>([
    [
      "agent job, but the platform deploys the app directly",
      "deploy-dev",
      { ...PUBLISHED.direct, KUBE_CONTEXT: "acme/platform:dev" },
      "ERROR: method agent, but the platform published KUBE_TOKEN for dev, i.e. the app's method in that stack is direct: make the component's method and apps[].method agree",
    ],
    [
      "agent job, no KUBE_CONTEXT published",
      "deploy-dev",
      PUBLISHED.flux,
      "ERROR: method agent needs KUBE_CONTEXT, which the platform publishes only for apps with method: agent; the app's method in the dev stack must be agent",
    ],
    [
      "direct job, but the platform deploys the app through the agent",
      "deploy-staging",
      PUBLISHED.agent,
      "ERROR: method direct, but the platform published KUBE_CONTEXT for staging, i.e. the app's method in that stack is agent: make the component's method and apps[].method agree",
    ],
    [
      "direct job on an unprotected ref (protected KUBE_TOKEN withheld)",
      "deploy-staging",
      { ...PUBLISHED.direct, KUBE_TOKEN: undefined },
      "ERROR: method direct needs KUBECONFIG and KUBE_TOKEN, which the platform publishes for apps with method: direct, protected in staging and production: run on a protected branch or tag",
    ],
    [
      "no variables for this environment (app not in the stack)",
      "deploy-staging",
      {},
      "ERROR: KUBE_NAMESPACE is not set for environment staging: the platform publishes it to acme/api in that environment scope once the app is in the stack's apps[] (project: acme/api)",
    ],
    [
      "image pushed elsewhere than the platform deploys from",
      "deploy-staging",
      { ...PUBLISHED.direct, IMAGE_REPOSITORY: "registry.example.com/acme/other" },
      `ERROR: the image was pushed to "${REPOSITORY}" but the platform deploys staging from IMAGE_REPOSITORY "registry.example.com/acme/other": set apps[].image.repository to this project's registry path`,
    ],
    [
      "no digest from the image job",
      "deploy-staging",
      { ...PUBLISHED.direct, BUILT_IMAGE_DIGEST: undefined },
      'ERROR: BUILT_IMAGE_DIGEST is "", not sha256:<64 hex>: the job container-image must run in this pipeline and publish it in its dotenv report',
    ],
    [
      "a digest that is not sha256:<64 hex>",
      "deploy-staging",
      { ...PUBLISHED.direct, BUILT_IMAGE_DIGEST: "sha256:abc" },
      'ERROR: BUILT_IMAGE_DIGEST is "sha256:abc", not sha256:<64 hex>: the job container-image must run in this pipeline and publish it in its dotenv report',
    ],
  ])("refuses before touching the cluster: %s", (_case, job, env, message) => {
    const result = runJob(job, env);
    expect(result.status).toBe(1);
    expect(lastLine(result.stderr)).toBe(message);
    expect(kubectl(tools.calls())).toEqual([]);
  });

  test("agent: a context missing from the job's kubeconfig points at the agent's ci_access", () => {
    const result = runJob("deploy-dev", { ...PUBLISHED.agent, FAKE_KUBECTL_CONTEXTS: "other:ctx" });
    expect(result.status).toBe(1);
    expect(lastLine(result.stderr)).toBe(
      "ERROR: the job's kubeconfig has no context acme/platform:dev: the agent's ci_access must list acme/api (the platform lists the projects of agent apps)",
    );
    expect(kubectl(tools.calls())).toEqual([["config", "use-context", "acme/platform:dev"]]);
  });
});

describe("flux: push the manifests as an OCI artifact, tag it with the environment", () => {
  const ARTIFACT = `oci://${REPOSITORY}/manifests:${SHA}`;
  const CREDS = "--creds=gitlab-ci-token:job-token-value";

  test("pushes <repository>/manifests:<sha> with source and revision, then tags it production", () => {
    const result = runJob("deploy-production", PUBLISHED.flux);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const calls = tools.calls();
    expect(calls.map((c) => c.tool)).toEqual(["flux", "flux"]);
    const [push, tag] = calls as [FakeCall, FakeCall];
    const pathArg = push.argv.find((a) => a.startsWith("--path=")) as string;
    expect(push.argv).toEqual([
      "push",
      "artifact",
      ARTIFACT,
      pathArg,
      "--source=https://gitlab.example.com/acme/api",
      `--revision=main@sha1:${SHA}`,
      CREDS,
    ]);
    expect(tag.argv).toEqual(["tag", "artifact", ARTIFACT, "--tag=production", CREDS]);
    expect(lastLine(result.stdout)).toBe(
      `${ARTIFACT} (${IMAGE}) is tagged production; Flux applies it at its next reconciliation`,
    );
    // The pushed directory was a private temp copy, removed when the job ended.
    expect(pathArg.startsWith(`--path=${tools.dir}/`)).toBe(true);
    expect(fs.existsSync(pathArg.slice("--path=".length))).toBe(false);
  });

  test("the artifact is the manifests directory plus a root kustomization pinning the built digest", () => {
    runJob("deploy-production", PUBLISHED.flux);
    const push = tools.calls()[0] as FakeCall;
    expect(push.artifact).toEqual({
      files: ["app/deployment.yaml", "app/kustomization.yaml", "kustomization.yaml"],
      kustomization: [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        "  - app",
        "images:",
        "  - name: api",
        `    newName: ${REPOSITORY}`,
        `    digest: ${DIGEST}`,
        "",
      ].join("\n"),
    });
  });

  test("a tag pipeline records the tag as the artifact's revision", () => {
    runJob("deploy-production", { ...PUBLISHED.flux, CI_COMMIT_REF_NAME: "v1.2.0" });
    expect(tools.calls()[0]?.argv).toContain(`--revision=v1.2.0@sha1:${SHA}`);
  });

  test("a failed push fails the job before anything is tagged", () => {
    const result = runJob("deploy-production", { ...PUBLISHED.flux, FAKE_FLUX_FAIL: "push" });
    expect(result.status).toBe(1);
    expect(tools.calls().map((c) => c.argv[0])).toEqual(["push"]);
  });

  test.each<[string, Record<string, string | undefined>, string]>([
    [
      "the platform deploys the app through the agent",
      PUBLISHED.agent,
      "ERROR: method flux, but the platform published cluster credentials (KUBE_CONTEXT or KUBE_TOKEN) for production, i.e. the app's method in that stack is agent or direct: make the component's method and apps[].method agree",
    ],
    [
      "the platform deploys the app directly",
      PUBLISHED.direct,
      "ERROR: method flux, but the platform published cluster credentials (KUBE_CONTEXT or KUBE_TOKEN) for production, i.e. the app's method in that stack is agent or direct: make the component's method and apps[].method agree",
    ],
    [
      "no manifests directory",
      { ...PUBLISHED.flux, DEPLOY_MANIFESTS: "k8s" },
      "ERROR: k8s/kustomization.yaml not found: the manifests input names a directory of Kubernetes manifests with a kustomization.yaml",
    ],
  ])("refuses before pushing: %s", (_case, env, message) => {
    const result = runJob("deploy-production", env);
    expect(result.status).toBe(1);
    expect(lastLine(result.stderr)).toBe(message);
    expect(tools.calls()).toEqual([]);
  });
});
