import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { PreviewJob } from "../harness/gitlab-ci-local";
import { FakeCall, fakeTools, FakeTools, runJobScript, ScriptResult } from "../harness/fake-tools";
import { validateManifest } from "../harness/k8s-schema";
import { consumerJobs, DIGEST } from "./consumer";

/**
 * The review component's scripts (review, stop-review) as gitlab-ci-local merges them into the
 * consumer pipeline, run by /bin/sh against a fake kubectl, in the environment GitLab gives a
 * merge request pipeline's job in environment review/<slug> (the review stack publishes to
 * review/*: KUBE_NAMESPACE, IMAGE_REPOSITORY and, for its direct apps, KUBECONFIG and KUBE_TOKEN).
 */

const REPOSITORY = "registry.example.com/acme/api";
const IMAGE = `${REPOSITORY}@${DIGEST}`;
const SLUG = "feature-login";

const PUBLISHED = {
  KUBE_NAMESPACE: "api-review",
  IMAGE_REPOSITORY: REPOSITORY,
  KUBECONFIG: "/builds/acme/api.tmp/KUBECONFIG",
  KUBE_TOKEN: "deployer-token",
};

let jobs: Record<string, PreviewJob>;
let tools: FakeTools;

beforeAll(async () => {
  jobs = await consumerJobs();
}, 60_000);

beforeEach(() => {
  tools = fakeTools();
});

afterEach(() => {
  tools.remove();
});

function runJob(name: string, env: Record<string, string | undefined> = {}): ScriptResult {
  const job = jobs[name] as PreviewJob;
  const slug = env["CI_COMMIT_REF_SLUG"] ?? SLUG;
  const all: Record<string, string | undefined> = {
    ...job.variables,
    CI_ENVIRONMENT_NAME: `review/${slug}`,
    CI_PROJECT_PATH: "acme/api",
    CI_COMMIT_REF_SLUG: slug,
    BUILT_IMAGE_REPOSITORY: REPOSITORY,
    BUILT_IMAGE_DIGEST: DIGEST,
    ...PUBLISHED,
    ...env,
  };
  const defined = Object.fromEntries(
    Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const cwd = path.join(tools.dir, "project");
  fs.mkdirSync(cwd, { recursive: true });
  return runJobScript(job.script ?? [], defined, tools, cwd);
}

const kubectl = (calls: FakeCall[]) => calls.filter((c) => c.tool === "kubectl");
const lastLine = (text: string) => text.trim().split("\n").pop();

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
};

/** The objects `review` applied (kubectl apply -f - reads them from stdin). */
function applied(calls: FakeCall[]): Manifest[] {
  const apply = kubectl(calls).find((c) => c.argv.includes("apply"));
  return parseAllDocuments(apply?.stdin ?? "").map((d) => d.toJS() as Manifest);
}

/** The review objects' name for `slug`: what the script must compute. */
function expectedName(app: string, slug: string): string {
  const name = `${app}-${slug}`;
  if (name.length <= 63) {
    return name;
  }
  const hash = createHash("sha256").update(slug).digest("hex").slice(0, 8);
  return `${name.slice(0, 54).replace(/-+$/, "")}-${hash}`;
}

const labels = (name: string) => ({
  "app.kubernetes.io/name": "api",
  "app.kubernetes.io/instance": name,
  "app.kubernetes.io/component": "review",
  "app.kubernetes.io/managed-by": "gitlab-ci",
});

describe("review", () => {
  test("applies a Deployment, Service and Ingress for the branch, then waits for the rollout", () => {
    const result = runJob("review");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(kubectl(tools.calls()).map((c) => c.argv)).toEqual([
      ["--namespace", "api-review", "apply", "-f", "-"],
      [
        "--namespace",
        "api-review",
        "rollout",
        "status",
        "deployment/api-feature-login",
        "--timeout=5m",
      ],
    ]);
    expect(lastLine(result.stdout)).toBe(
      `Review app api-feature-login runs ${IMAGE} at https://feature-login.api.review.example.com`,
    );
  });

  test("the objects are schema-valid and as restricted as the platform's own apps", () => {
    runJob("review");
    const objects = applied(tools.calls());
    for (const object of objects) {
      validateManifest(object);
    }
    expect(objects.map((o) => [o.kind, o.metadata.name, o.metadata.labels])).toEqual([
      ["Deployment", "api-feature-login", labels("api-feature-login")],
      ["Service", "api-feature-login", labels("api-feature-login")],
      ["Ingress", "api-feature-login", labels("api-feature-login")],
    ]);
    const [deployment, service, ingress] = objects as [Manifest, Manifest, Manifest];
    const selector = {
      "app.kubernetes.io/name": "api",
      "app.kubernetes.io/instance": "api-feature-login",
    };
    expect(deployment.spec).toEqual({
      replicas: 1,
      revisionHistoryLimit: 2,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: labels("api-feature-login") },
        spec: {
          serviceAccountName: "api",
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "api",
              image: IMAGE,
              ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
              resources: {
                requests: { cpu: "50m", memory: "64Mi" },
                limits: { cpu: "250m", memory: "256Mi" },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
                readOnlyRootFilesystem: true,
              },
              startupProbe: { tcpSocket: { port: "http" }, periodSeconds: 5, failureThreshold: 30 },
              readinessProbe: { tcpSocket: { port: "http" }, periodSeconds: 10 },
              livenessProbe: { tcpSocket: { port: "http" }, periodSeconds: 20 },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        },
      },
    });
    expect(service.spec).toEqual({
      type: "ClusterIP",
      selector,
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    });
    expect(ingress.spec).toEqual({
      rules: [
        {
          host: "feature-login.api.review.example.com",
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "api-feature-login", port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    });
  });

  test("ingress_class sets the Ingress's class; none otherwise (the cluster's default)", () => {
    runJob("review", { REVIEW_INGRESS_CLASS: "nginx" });
    const ingress = applied(tools.calls())[2] as Manifest;
    expect(ingress.spec["ingressClassName"]).toBe("nginx");
  });

  test("a review that does not become ready fails and stays for inspection (no undo, no delete)", () => {
    const result = runJob("review", { FAKE_KUBECTL_ROLLOUT_STATUS: "1" });
    expect(result.status).toBe(1);
    expect(kubectl(tools.calls()).map((c) => c.argv.slice(2, 4))).toEqual([
      ["apply", "-f"],
      ["rollout", "status"],
      ["get", "pods"],
    ]);
    expect(lastLine(result.stderr)).toBe(
      "ERROR: the review app api-feature-login did not become ready within 5m; it stays for inspection until environment review/feature-login is stopped",
    );
  });

  test("agent: selects KUBE_CONTEXT first", () => {
    const result = runJob("review", {
      DEPLOY_METHOD: "agent",
      KUBECONFIG: undefined,
      KUBE_TOKEN: undefined,
      KUBE_CONTEXT: "acme/platform:review",
      FAKE_KUBECTL_CONTEXTS: "acme/platform:review",
    });
    expect(result.status).toBe(0);
    expect(kubectl(tools.calls())[0]?.argv).toEqual([
      "config",
      "use-context",
      "acme/platform:review",
    ]);
  });

  test("refuses when the review stack deploys the app through the agent but the input says direct", () => {
    const result = runJob("review", { KUBE_CONTEXT: "acme/platform:review" });
    expect(result.status).toBe(1);
    expect(lastLine(result.stderr)).toBe(
      "ERROR: method direct, but the platform published KUBE_CONTEXT for review/feature-login, i.e. the app's method in that stack is agent: make the component's method and apps[].method agree",
    );
    expect(kubectl(tools.calls())).toEqual([]);
  });
});

describe("stop-review", () => {
  test("deletes exactly the labelled objects review created, and waits", () => {
    const result = runJob("stop-review");
    expect(result.status).toBe(0);
    expect(kubectl(tools.calls()).map((c) => c.argv)).toEqual([
      [
        "--namespace",
        "api-review",
        "delete",
        "deployment,service,ingress",
        "--selector",
        "app.kubernetes.io/component=review,app.kubernetes.io/instance=api-feature-login",
        "--ignore-not-found",
        "--wait=true",
      ],
    ]);
    expect(lastLine(result.stdout)).toBe(
      "Removed review app api-feature-login from namespace api-review",
    );
  });

  test("needs neither the image nor the checkout (it runs after the branch is gone)", () => {
    const result = runJob("stop-review", {
      IMAGE_REPOSITORY: undefined,
      BUILT_IMAGE_REPOSITORY: undefined,
      BUILT_IMAGE_DIGEST: undefined,
    });
    expect(result.status).toBe(0);
    expect(jobs["stop-review"]?.variables?.["GIT_STRATEGY"]).toBe("none");
  });

  test("what it deletes covers every kind and object review applies", () => {
    runJob("review");
    const objects = applied(tools.calls());
    runJob("stop-review");
    const del = kubectl(tools.calls()).find((c) => c.argv.includes("delete")) as FakeCall;
    const kinds = (del.argv[3] as string).split(",");
    const selector = Object.fromEntries(
      (del.argv[5] as string).split(",").map((pair) => pair.split("=") as [string, string]),
    );
    expect(objects.map((o) => o.kind.toLowerCase())).toEqual(kinds);
    for (const object of objects) {
      expect(object.metadata.labels).toMatchObject(selector);
    }
  });
});

describe("names fit Kubernetes for any branch", () => {
  const long = "feature-" + "x".repeat(55); // a 63-character slug, GitLab's maximum
  test.each([
    ["feature-login", "api-feature-login"],
    ["1-fix", "api-1-fix"],
    [long, expectedName("api", long)],
    // Cut right after a '-': the '-' goes, so the name never has '--' before the hash.
    ["a".repeat(49) + "-bbbbbbbbbbbbb", expectedName("api", "a".repeat(49) + "-bbbbbbbbbbbbb")],
  ])("slug %s → %s", (slug, name) => {
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(name).not.toContain("--");
    runJob("review", { CI_COMMIT_REF_SLUG: slug });
    runJob("stop-review", { CI_COMMIT_REF_SLUG: slug });
    const objects = applied(tools.calls());
    expect(objects.map((o) => o.metadata.name)).toEqual([name, name, name]);
    const del = kubectl(tools.calls()).find((c) => c.argv.includes("delete")) as FakeCall;
    expect(del.argv[5]).toBe(
      `app.kubernetes.io/component=review,app.kubernetes.io/instance=${name}`,
    );
    const ingress = objects[2] as Manifest;
    expect(JSON.stringify(ingress.spec)).toContain(`"host":"${slug}.api.review.example.com"`);
  });

  test("two long branches that differ only at the end get different names", () => {
    const slugs = ["release-" + "y".repeat(50) + "-aaaa", "release-" + "y".repeat(50) + "-bbbb"];
    for (const slug of slugs) {
      runJob("review", { CI_COMMIT_REF_SLUG: slug });
    }
    const names = kubectl(tools.calls())
      .filter((c) => c.argv.includes("apply"))
      .map((c) => (parseAllDocuments(c.stdin ?? "")[0]?.toJS() as Manifest).metadata.name);
    expect(names).toEqual(slugs.map((slug) => expectedName("api", slug)));
    expect(names[0]).not.toBe(names[1]);
    expect(names[0]?.slice(0, 54)).toBe(names[1]?.slice(0, 54));
  });
});
