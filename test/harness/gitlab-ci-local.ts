import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { parse } from "yaml";

/**
 * Drives gitlab-ci-local 4.60.1 (a devDependency) over scratch git repositories, the way these
 * tests need it:
 *
 * - It wants a git repository and writes `.gitlab-ci-local/` into its working directory, so every
 *   run happens in a copy under the OS temp directory, never in this repository.
 * - `include: component:` is resolved locally in two cases only (parser-includes.js):
 *   1. the component's project path is the scratch repository's own remote path and its ref is
 *      the HEAD commit: `templates/<name>.yml` is read from the working tree (how the platform's
 *      own components are tested, {@link platformRepo});
 *   2. the file already sits in the include cache, `.gitlab-ci-local/includes/<remote host>/
 *      <project>/<ref>/templates/<name>.yml`: it is used without fetching (how an app's
 *      `.gitlab-ci.yml` is tested against this tree as if it were the released version,
 *      {@link seedComponents}).
 *   Anything else is fetched from the remote host, which these tests never reach.
 * - What it does not check, and the tests check themselves: `spec:inputs:regex` (a no-op with a
 *   warning), unknown input names, and `workflow:rules` (never evaluated).
 */

const run = promisify(execFile);

/** The repository root. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

const GITLAB_CI_LOCAL = path.join(REPO_ROOT, "node_modules", ".bin", "gitlab-ci-local");

/** The GitLab host of every scratch repository's `origin`. */
export const GITLAB_HOST = "gitlab.example.com";

/** What gitlab-ci-local lists for a job (`--list-json`). */
export interface ListedJob {
  readonly name: string;
  readonly stage: string;
  readonly when: string;
  readonly allow_failure: boolean;
  readonly needs?: readonly { job: string; artifacts?: boolean }[];
}

/** The variables a pipeline source sets (what GitLab predefines differently per source). */
export interface PipelineSource {
  /** For test names. */
  readonly label: string;
  /** `--variable` values. */
  readonly variables: Readonly<Record<string, string>>;
  /** `--unset-variable` names: predefined variables GitLab does not set for this source. */
  readonly unset: readonly string[];
}

const FEATURE_BRANCH = "feature/login";

/** The pipeline sources the components distinguish. The default branch is `main`. */
export const PIPELINES = {
  mergeRequest: {
    label: "merge request",
    variables: {
      CI_PIPELINE_SOURCE: "merge_request_event",
      CI_MERGE_REQUEST_IID: "7",
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: FEATURE_BRANCH,
      CI_COMMIT_REF_NAME: FEATURE_BRANCH,
      CI_COMMIT_REF_SLUG: "feature-login",
      CI_COMMIT_REF_PROTECTED: "false",
    },
    unset: ["CI_COMMIT_BRANCH"],
  },
  defaultBranch: {
    label: "protected default branch",
    variables: { CI_PIPELINE_SOURCE: "push", CI_COMMIT_REF_PROTECTED: "true" },
    unset: [],
  },
  unprotectedDefaultBranch: {
    label: "unprotected default branch",
    variables: { CI_PIPELINE_SOURCE: "push", CI_COMMIT_REF_PROTECTED: "false" },
    unset: [],
  },
  tag: {
    label: "protected tag",
    variables: {
      CI_PIPELINE_SOURCE: "push",
      CI_COMMIT_TAG: "v1.2.0",
      CI_COMMIT_REF_NAME: "v1.2.0",
      CI_COMMIT_REF_SLUG: "v1-2-0",
      CI_COMMIT_REF_PROTECTED: "true",
    },
    unset: ["CI_COMMIT_BRANCH"],
  },
  unprotectedTag: {
    label: "unprotected tag",
    variables: {
      CI_PIPELINE_SOURCE: "push",
      CI_COMMIT_TAG: "v1.2.0",
      CI_COMMIT_REF_NAME: "v1.2.0",
      CI_COMMIT_REF_SLUG: "v1-2-0",
      CI_COMMIT_REF_PROTECTED: "false",
    },
    unset: ["CI_COMMIT_BRANCH"],
  },
  featureBranch: {
    label: "feature branch push",
    variables: {
      CI_PIPELINE_SOURCE: "push",
      CI_COMMIT_BRANCH: FEATURE_BRANCH,
      CI_COMMIT_REF_NAME: FEATURE_BRANCH,
      CI_COMMIT_REF_SLUG: "feature-login",
      CI_COMMIT_REF_PROTECTED: "false",
    },
    unset: [],
  },
} as const satisfies Record<string, PipelineSource>;

function git(dir: string, ...args: string[]): Promise<unknown> {
  return run("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", ...args], {
    cwd: dir,
  });
}

/**
 * A scratch git repository in a new temp directory holding `files` (path → content), committed
 * on `main`, with `origin` at `git@gitlab.example.com:<projectPath>.git` and `origin/HEAD` →
 * `main` (gitlab-ci-local reads the default branch from it). Returns the directory and the HEAD
 * commit.
 */
export async function scratchRepo(
  projectPath: string,
  files: Readonly<Record<string, string>>,
): Promise<{ dir: string; sha: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitlab-ci-local-"));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "remote", "add", "origin", `git@${GITLAB_HOST}:${projectPath}.git`);
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "scratch");
  await git(dir, "update-ref", "refs/remotes/origin/main", "HEAD");
  await git(dir, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main");
  const { stdout } = (await run("git", ["rev-parse", "HEAD"], { cwd: dir })) as { stdout: string };
  return { dir, sha: stdout.trim() };
}

/** Every file of `dir` (recursively) as path → content, for {@link scratchRepo}. */
export function readTree(dir: string, prefix = ""): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) {
      Object.assign(files, readTree(full, rel));
    } else {
      files[rel] = fs.readFileSync(full, "utf8");
    }
  }
  return files;
}

/** The components under `templates/` of this repository, as files for {@link scratchRepo}. */
export function componentFiles(): Record<string, string> {
  const dir = path.join(REPO_ROOT, "templates");
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".yml"))
      .map((f) => [`templates/${f}`, fs.readFileSync(path.join(dir, f), "utf8")]),
  );
}

/**
 * Puts this tree's components into `dir`'s include cache as `<componentProject>@<version>`, so
 * that `include: component: $CI_SERVER_FQDN/<componentProject>/<name>@<version>` resolves to them
 * without a network fetch.
 */
export function seedComponents(dir: string, componentProject: string, version: string): void {
  const target = path.join(dir, ".gitlab-ci-local", "includes", GITLAB_HOST, componentProject);
  for (const [file, content] of Object.entries(componentFiles())) {
    fs.mkdirSync(path.dirname(path.join(target, version, file)), { recursive: true });
    fs.writeFileSync(path.join(target, version, file), content);
  }
}

async function gitlabCiLocal(dir: string, args: string[]): Promise<string> {
  const home = path.join(dir, ".gitlab-ci-local-home");
  fs.mkdirSync(home, { recursive: true });
  try {
    const { stdout } = await run(GITLAB_CI_LOCAL, ["--home", home, ...args], {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `gitlab-ci-local ${args.join(" ")} failed:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

function pipelineArgs(source: PipelineSource): string[] {
  return [
    ...Object.entries(source.variables).flatMap(([k, v]) => ["--variable", `${k}=${v}`]),
    ...source.unset.flatMap((name) => ["--unset-variable", name]),
  ];
}

/**
 * The jobs of `dir`'s pipeline for `source` (`--list-json`), including those whose rules say
 * `never`. With `validate` (the default) gitlab-ci-local first checks the merged configuration
 * against GitLab's CI JSON schema and fails on any violation; the rules do not change what is
 * validated, so callers validate one source per configuration and skip it for the others.
 */
export async function listJobs(
  dir: string,
  source: PipelineSource,
  validate = true,
): Promise<ListedJob[]> {
  const stdout = await gitlabCiLocal(dir, [
    "--list-json",
    ...(validate ? [] : ["--no-json-schema-validation"]),
    ...pipelineArgs(source),
  ]);
  // Warnings (e.g. about spec:inputs:regex) precede the JSON on stdout.
  const start = stdout.search(/^\[$/m);
  if (start < 0) {
    throw new Error(`no job list in gitlab-ci-local's output:\n${stdout}`);
  }
  return JSON.parse(stdout.slice(start)) as ListedJob[];
}

/** `name → when` of the jobs that run for `source` (rules other than `never`). */
export function runningJobs(jobs: readonly ListedJob[]): Record<string, string> {
  return Object.fromEntries(jobs.filter((j) => j.when !== "never").map((j) => [j.name, j.when]));
}

/** A job of the merged configuration (`--preview`): extends, anchors and inputs resolved. */
export interface PreviewJob {
  readonly stage?: string;
  readonly image?: { name: string; entrypoint?: string[] };
  readonly script?: string[];
  readonly variables?: Record<string, string>;
  readonly environment?: Record<string, string>;
  readonly rules?: { if?: string; when?: string }[];
  readonly needs?: ({ job: string; artifacts?: boolean } | string)[];
  readonly resource_group?: string;
  readonly allow_failure?: boolean;
  readonly cache?: unknown;
  readonly artifacts?: unknown;
  readonly extends?: unknown;
}

/** The merged configuration gitlab-ci-local builds for `dir` (hidden jobs removed). */
export async function preview(dir: string): Promise<Record<string, PreviewJob>> {
  const stdout = await gitlabCiLocal(dir, ["--preview", "--no-json-schema-validation"]);
  const start = stdout.search(/^---$/m);
  if (start < 0) {
    throw new Error(`no configuration in gitlab-ci-local's output:\n${stdout}`);
  }
  const config = parse(stdout.slice(start + 4)) as Record<string, PreviewJob>;
  delete config["stages"];
  return config;
}

/** The platform project's path in every scratch repository. */
export const PLATFORM_PROJECT = "acme/platform";

/**
 * A scratch copy of the platform project (this tree's `templates/`) whose `.gitlab-ci.yml`
 * includes its own components at HEAD, as `include` entries built by `includes(sha)`.
 */
export async function platformRepo(
  includes: (sha: string) => readonly Record<string, unknown>[],
): Promise<string> {
  const { dir, sha } = await scratchRepo(PLATFORM_PROJECT, componentFiles());
  fs.writeFileSync(
    path.join(dir, ".gitlab-ci.yml"),
    JSON.stringify({ include: includes(sha) }, null, 2),
  );
  return dir;
}

/** `include` entry of the platform's component `name` at `ref`, with `inputs`. */
export function component(
  name: string,
  ref: string,
  inputs?: Record<string, unknown>,
): Record<string, unknown> {
  return {
    component: `$CI_SERVER_FQDN/${PLATFORM_PROJECT}/${name}@${ref}`,
    ...(inputs === undefined ? {} : { inputs }),
  };
}
