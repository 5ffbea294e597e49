import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import {
  component,
  componentFiles,
  platformRepo,
  preview,
  PreviewJob,
  REPO_ROOT,
} from "../harness/gitlab-ci-local";

/**
 * One app pipeline that uses every component of templates/, included from the platform project at
 * HEAD: build-maven, build-image (for the staging deploy), deploy once per environment with each
 * method (dev: agent, staging: direct, production: flux) and review. Real projects use one method
 * everywhere but review; mixing them here exercises every method in one pipeline.
 */
export function consumerIncludes(sha: string): Record<string, unknown>[] {
  return [
    component("build-maven", sha),
    component("build-image", sha, { dockerfile: "docker/Dockerfile" }),
    component("deploy", sha, {
      method: "agent",
      app: "api",
      environment: "dev",
      url: "https://api.dev.example.com",
    }),
    component("deploy", sha, {
      method: "direct",
      app: "api",
      environment: "staging",
      url: "https://api.staging.example.com",
      image_job: "container-image",
      rollout_timeout: "90s",
    }),
    component("deploy", sha, {
      method: "flux",
      app: "api",
      environment: "production",
      url: "https://api.example.com",
    }),
    component("review", sha, { app: "api", domain: "api.review.example.com" }),
  ];
}

/** A scratch platform repository whose pipeline is {@link consumerIncludes}. */
export function consumerRepo(): Promise<string> {
  return platformRepo(consumerIncludes);
}

/**
 * The consumer pipeline's merged jobs, as gitlab-ci-local resolves them. Several test files need
 * them; the result is kept in the temp directory under a hash of everything it depends on (the
 * components, the includes, gitlab-ci-local's version), so the 2 cores run gitlab-ci-local once.
 */
export async function consumerJobs(): Promise<Record<string, PreviewJob>> {
  const { version } = JSON.parse(
    fs.readFileSync(
      path.join(REPO_ROOT, "node_modules", "gitlab-ci-local", "package.json"),
      "utf8",
    ),
  ) as { version: string };
  const key = createHash("sha256")
    .update(JSON.stringify([componentFiles(), consumerIncludes("ref"), version]))
    .digest("hex")
    .slice(0, 16);
  const cached = path.join(os.tmpdir(), `platform-consumer-preview-${key}.json`);
  if (fs.existsSync(cached)) {
    return JSON.parse(fs.readFileSync(cached, "utf8")) as Record<string, PreviewJob>;
  }
  const dir = await consumerRepo();
  try {
    const jobs = await preview(dir);
    // Written whole, then renamed: a parallel reader sees the complete file or none.
    const partial = `${cached}.${process.pid}`;
    fs.writeFileSync(partial, JSON.stringify(jobs));
    fs.renameSync(partial, cached);
    return jobs;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The component files, by name (`deploy` → templates/deploy.yml). */
export const COMPONENTS = ["build-maven", "build-image", "deploy", "review"] as const;

/** A component file's text. */
export function componentText(name: string): string {
  return fs.readFileSync(path.join(REPO_ROOT, "templates", `${name}.yml`), "utf8");
}

/** One `spec:inputs` entry. */
export interface InputSpec {
  readonly description?: string;
  readonly default?: unknown;
  readonly type?: string;
  readonly options?: unknown[];
  readonly regex?: string;
}

/** A component's two YAML documents: the `spec` header and the jobs (inputs not interpolated). */
export function componentDocuments(name: string): {
  spec: { inputs: Record<string, InputSpec> };
  header: Record<string, unknown>;
  jobs: Record<string, unknown>;
} {
  const docs = parseAllDocuments(componentText(name));
  if (docs.length !== 2) {
    throw new Error(`templates/${name}.yml: expected 2 YAML documents, got ${docs.length}`);
  }
  const header = docs[0]?.toJS() as Record<string, unknown>;
  const jobs = docs[1]?.toJS() as Record<string, unknown>;
  return { spec: header["spec"] as { inputs: Record<string, InputSpec> }, header, jobs };
}

/** The job script a platform-published environment gives a job, with the dotenv of the image job. */
export const DIGEST = `sha256:${"ab".repeat(32)}`;

/** The consumer's commit, and what GitLab predefines for its deploy jobs on the default branch. */
export const SHA = "0123456789abcdef0123456789abcdef01234567";
export const REPOSITORY = "registry.example.com/acme/api";
export const DEPLOY_CI = {
  CI_PROJECT_PATH: "acme/api",
  CI_PROJECT_URL: "https://gitlab.example.com/acme/api",
  CI_COMMIT_SHA: SHA,
  CI_COMMIT_REF_NAME: "main",
  CI_REGISTRY: "registry.example.com",
  CI_REGISTRY_IMAGE: REPOSITORY,
  CI_REGISTRY_USER: "gitlab-ci-token",
  CI_REGISTRY_PASSWORD: "job-token-value",
} as const;
