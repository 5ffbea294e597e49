import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";

/**
 * This repository's .gitlab-ci.yml, checked by gitlab-ci-local 4.60.1 (GitLab's CI JSON schema,
 * then each job's rules for a pipeline source) on a scratch copy: it needs a git repository and
 * writes `.gitlab-ci-local/` where it runs. gitlab-ci-local does not apply `workflow:rules` when
 * listing jobs, so whether a pipeline is created at all is evaluated here with its own rule
 * evaluator (`Utils.evaluateRuleIf`), the one it applies to job rules.
 */

const ROOT = path.resolve(__dirname, "..", "..");
const PACKAGE = path.join(ROOT, "node_modules", "gitlab-ci-local");
const CLI = path.join(PACKAGE, "src", "index.js");
const CI_FILE = fs.readFileSync(path.join(ROOT, ".gitlab-ci.yml"), "utf8");

interface ListedJob {
  readonly name: string;
  readonly stage: string;
  readonly when: string;
  readonly allow_failure: boolean;
}

/** A scratch git repository holding `ciFile`. */
function scratch(ciFile: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitlab-ci-"));
  fs.writeFileSync(path.join(dir, ".gitlab-ci.yml"), ciFile);
  const git = (...args: string[]) => {
    const r = spawnSync("git", args, { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    }
  };
  git("init", "-q", "-b", "main");
  git("add", ".gitlab-ci.yml");
  git("-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-q", "-m", "ci");
  return dir;
}

/** What a gitlab-ci-local run returned. */
interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs gitlab-ci-local; several runs proceed side by side (beforeAll starts them together). */
function gitlabCiLocal(dir: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: dir,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, FORCE_COLOR: "0" },
      },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        resolve({
          status: error === null ? 0 : typeof code === "number" ? code : null,
          stdout,
          stderr: error !== null && typeof code !== "number" ? `${stderr}\n${error}` : stderr,
        });
      },
    );
  });
}

/** A pipeline source: the predefined variables GitLab sets for it (null: not set). */
type Variables = Record<string, string | null>;

const COMMON: Variables = { CI_DEFAULT_BRANCH: "main", CI_PROJECT_ID: "1001" };
const SOURCES: Record<string, Variables> = {
  "merge request": {
    CI_PIPELINE_SOURCE: "merge_request_event",
    CI_COMMIT_BRANCH: null,
    CI_MERGE_REQUEST_IID: "7",
    CI_MERGE_REQUEST_PROJECT_ID: "1001",
    CI_MERGE_REQUEST_SOURCE_PROJECT_ID: "1001",
  },
  "fork merge request": {
    CI_PIPELINE_SOURCE: "merge_request_event",
    CI_COMMIT_BRANCH: null,
    CI_MERGE_REQUEST_IID: "8",
    CI_MERGE_REQUEST_PROJECT_ID: "1001",
    CI_MERGE_REQUEST_SOURCE_PROJECT_ID: "2002",
  },
  "default branch push": { CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: "main" },
  tag: { CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: null, CI_COMMIT_TAG: "1.4.0" },
  // Not a semantic version as the CI/CD catalog reads them: deploys, but no component release.
  "v-prefixed tag": { CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: null, CI_COMMIT_TAG: "v1.4.0" },
  schedule: { CI_PIPELINE_SOURCE: "schedule", CI_COMMIT_BRANCH: "main" },
  "other branch push": { CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: "feature/runner" },
};

function cliVariables(vars: Variables): string[] {
  return Object.entries({ ...COMMON, ...vars }).flatMap(([k, v]) =>
    v === null ? ["--unset-variable", k] : ["--variable", `${k}=${v}`],
  );
}

/** `--list-json` for a source; only `validate` runs check GitLab's CI schema (one is enough). */
function listJobs(dir: string, vars: Variables, validate: boolean): Promise<Run> {
  return gitlabCiLocal(dir, [
    "--list-json",
    ...(validate ? [] : ["--no-json-schema-validation"]),
    ...cliVariables(vars),
  ]);
}

/** The jobs gitlab-ci-local listed for a source, with the `when` its rules give each. */
function listedJobs(r: Run): ListedJob[] {
  if (r.status !== 0) {
    throw new Error(`gitlab-ci-local --list-json failed:\n${r.stdout}\n${r.stderr}`);
  }
  // Warnings (about overriding predefined variables) precede the JSON on stdout.
  const start = r.stdout.search(/^\[/m);
  return JSON.parse(r.stdout.slice(start)) as ListedJob[];
}

/**
 * Whether each of `cases`' rules create a pipeline (or run a job) for its variables: the first
 * rule whose `if` matches decides, as GitLab and gitlab-ci-local decide. One node process
 * evaluates them all (gitlab-ci-local's ESM modules load once).
 */
function rulesCreate(cases: readonly { rules: unknown; vars: Variables }[]): Promise<boolean[]> {
  const input = cases.map(({ rules, vars }) => ({
    rules,
    variables: Object.fromEntries(
      Object.entries({ ...COMMON, ...vars }).filter(([, v]) => v !== null),
    ),
  }));
  const program = [
    `import { Utils } from ${JSON.stringify(path.join(PACKAGE, "src", "utils.js"))};`,
    "const cases = JSON.parse(process.argv[1]);",
    "process.stdout.write(JSON.stringify(cases.map(({ rules, variables }) => {",
    "  const rule = rules.find((r) => Utils.evaluateRuleIf(r.if, variables));",
    "  return rule !== undefined && rule.when !== 'never';",
    "})));",
  ].join("\n");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", program, JSON.stringify(input)],
      { encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`${error}\n${stderr}`));
          return;
        }
        const results = JSON.parse(stdout) as boolean[];
        if (results.length !== cases.length) {
          reject(new Error(`expected ${cases.length} results, got ${stdout}`));
          return;
        }
        resolve(results);
      },
    );
  });
}

/** Job definitions after `extends` and `default:` are applied (gitlab-ci-local --preview). */
type JobDefinition = Record<string, unknown> & {
  script?: string[];
  environment?: { name?: string; deployment_tier?: string; action?: string };
  resource_group?: string;
};

/** Tags and whether they release the components (semantic versions as the catalog reads them). */
const RELEASE_TAGS: [string, boolean][] = [
  ["1.4.0", true],
  ["0.1.0", true],
  ["2.0.0-rc.1", true],
  ["10.20.30-beta-2", true],
  ["v1.4.0", false],
  ["1.4", false],
  ["01.4.0", false],
  ["1.4.0+build.5", false],
  ["release-1.4.0", false],
];
const tagPush = (tag: string): Variables => ({
  CI_PIPELINE_SOURCE: "push",
  CI_COMMIT_BRANCH: null,
  CI_COMMIT_TAG: tag,
});

/** The source whose `--list-json` run also validates the file against GitLab's CI schema. */
const VALIDATED_SOURCE = "tag";
const BROKEN_CI_FILE = `${CI_FILE}\nbroken-job:\n  stage: verify\n  script: [echo]\n  enviroment: dev\n`;

let dir: string;
let brokenDir: string;
let listed: Record<string, ListedJob[]>;
let created: Record<string, boolean>;
let releases: Record<string, boolean>;
let validatedRun: Run;
let brokenRun: Run;
let expanded: Record<string, JobDefinition>;

// Every gitlab-ci-local run and rule evaluation the tests read, started together: each is a node
// process of its own, so they overlap on the cores instead of queueing behind each other.
beforeAll(async () => {
  dir = scratch(CI_FILE);
  brokenDir = scratch(BROKEN_CI_FILE);
  const parsed = parse(CI_FILE) as {
    workflow: { rules: unknown };
    "release-components": { rules: unknown };
  };
  const sources = Object.entries(SOURCES);
  const previewRun = gitlabCiLocal(dir, ["--preview"]);
  const broken = gitlabCiLocal(brokenDir, ["--list-json"]);
  const evaluated = await rulesCreate([
    ...sources.map(([, vars]) => ({ rules: parsed.workflow.rules, vars })),
    ...RELEASE_TAGS.map(([tag]) => ({
      rules: parsed["release-components"].rules,
      vars: tagPush(tag),
    })),
  ]);
  created = Object.fromEntries(sources.map(([source], i) => [source, evaluated[i] as boolean]));
  releases = Object.fromEntries(
    RELEASE_TAGS.map(([tag], i) => [tag, evaluated[sources.length + i] as boolean]),
  );
  // No pipeline, no jobs: listing them would only cost time.
  const runs = await Promise.all(
    sources.map(([source, vars]) =>
      created[source]
        ? listJobs(dir, vars, source === VALIDATED_SOURCE)
        : Promise.resolve(undefined),
    ),
  );
  listed = Object.fromEntries(
    sources.map(([source], i) => {
      const run = runs[i];
      return [source, run === undefined ? [] : listedJobs(run)];
    }),
  );
  const validated = runs[sources.findIndex(([source]) => source === VALIDATED_SOURCE)];
  if (validated === undefined) {
    throw new Error(`no pipeline for ${VALIDATED_SOURCE}`);
  }
  validatedRun = validated;
  brokenRun = await broken;
  const preview = await previewRun;
  if (preview.status !== 0) {
    throw new Error(preview.stderr);
  }
  expanded = parse(preview.stdout.slice(preview.stdout.search(/^---$/m))) as Record<
    string,
    JobDefinition
  >;
}, 240_000);

afterAll(() => {
  for (const d of [dir, brokenDir]) {
    if (d !== undefined) {
      fs.rmSync(d, { recursive: true, force: true });
    }
  }
});

/** The jobs that run for a source, as `name: when` (manual jobs say so). */
function running(source: string): string[] {
  if (!created[source]) {
    return [];
  }
  return (listed[source] ?? [])
    .filter((j) => j.when !== "never")
    .map((j) => (j.when === "on_success" ? j.name : `${j.name}: ${j.when}`));
}

/** The definition behind a listed job (`preview: [dev]` comes from `preview`). */
function definition(name: string): JobDefinition {
  const job = expanded[name.replace(/: \[.*\]$/, "")];
  if (job === undefined) {
    throw new Error(`no job ${name}`);
  }
  return job;
}

describe("GitLab's CI schema", () => {
  test("the file passes gitlab-ci-local's schema validation", () => {
    // The --list-json run of the tag pipeline (its jobs are checked below) validated the file.
    expect(validatedRun.stderr).toContain("json schema validated");
    expect(validatedRun.status).toBe(0);
  });

  test("the validation is real: a misspelt keyword fails it", () => {
    expect(brokenRun.status).toBe(1);
    expect(brokenRun.stderr).toContain("Invalid .gitlab-ci.yml configuration!");
    expect(brokenRun.stderr).toContain(
      "'enviroment' property is not expected to be here at broken-job [#/additionalProperties]",
    );
  });
});

describe("jobs per pipeline source", () => {
  test.each<[string, string[]]>([
    [
      "merge request",
      [
        "typecheck",
        "lint",
        "test",
        "preview: [dev]",
        "preview: [staging]",
        "preview: [production]",
      ],
    ],
    ["fork merge request", ["typecheck", "lint", "test", "validate-config"]],
    [
      "default branch push",
      [
        "typecheck",
        "lint",
        "test",
        "deploy-dev",
        "deploy-staging: manual",
        "deploy-production: manual",
      ],
    ],
    [
      "tag",
      [
        "typecheck",
        "lint",
        "test",
        "deploy-staging: manual",
        "deploy-production: manual",
        "release-components",
      ],
    ],
    [
      "v-prefixed tag",
      ["typecheck", "lint", "test", "deploy-staging: manual", "deploy-production: manual"],
    ],
    ["schedule", ["drift: [dev]", "drift: [staging]", "drift: [production]"]],
    // Its merge request pipeline covers it: never a branch pipeline beside a merge request one.
    ["other branch push", []],
  ])("%s", (source, jobs) => {
    expect(running(source)).toEqual(jobs);
  });

  test("workflow rules create a pipeline for exactly the intended sources", () => {
    expect(created).toEqual({
      "merge request": true,
      "fork merge request": true,
      "default branch push": true,
      tag: true,
      "v-prefixed tag": true,
      schedule: true,
      "other branch push": false,
    });
  });

  test("no merge request pipeline runs pulumi up", () => {
    for (const source of ["merge request", "fork merge request"]) {
      for (const name of running(source)) {
        const script = (definition(name).script ?? []).join("\n");
        expect(script).not.toMatch(/npm run up\b|pulumi up\b/);
      }
    }
  });

  test("production is never automatic, whatever the source", () => {
    const sources = Object.keys(SOURCES).filter((source) => created[source]);
    expect(sources).toHaveLength(6);
    for (const source of sources) {
      const production = listed[source]?.find((j) => j.name === "deploy-production");
      expect(["manual", "never"]).toContain(production?.when);
    }
  });

  test("only semantic-version tag pipelines release the components", () => {
    const releasing = Object.keys(SOURCES).filter((source) =>
      running(source).includes("release-components"),
    );
    expect(releasing).toEqual(["tag"]);
  });

  test.each<[string, boolean]>(RELEASE_TAGS)(
    "tag %s releases the components: %s",
    (tag, released) => {
      expect(releases[tag]).toBe(released);
    },
  );

  test("fork pipelines run nothing that needs this project's secrets", () => {
    for (const name of running("fork merge request")) {
      const job = definition(name);
      expect(job.environment).toBeUndefined();
      expect((job.script ?? []).join("\n")).not.toMatch(/ci:preview|ci:drift|npm run up/);
    }
    expect(definition("validate-config").script?.[0]).toMatch(
      /^echo "Previews skipped - this merge request comes from a fork /,
    );
  });
});

describe("job definitions", () => {
  test.each([
    ["deploy-dev", "dev", "development"],
    ["deploy-staging", "staging", "staging"],
    ["deploy-production", "production", "production"],
  ])("%s deploys %s (tier %s), one deploy of the stack at a time", (name, stack, tier) => {
    const job = definition(name);
    expect(job.environment).toEqual({ name: stack, deployment_tier: tier });
    expect(job.resource_group).toBe(`pulumi-${stack}`);
    expect(job.variables).toEqual({ STACK: stack });
    expect(job.script).toEqual(['npm run up -- "$STACK" --yes']);
    expect(job.interruptible).toBe(false);
  });

  test("previews and drift checks get their own environment scope without deploying", () => {
    expect(definition("preview").environment).toEqual({
      name: "preview/$STACK",
      action: "access",
    });
    expect(definition("preview").script).toEqual(['npm run ci:preview -- "$STACK"']);
    expect(definition("drift").environment).toEqual({ name: "$STACK", action: "verify" });
    expect(definition("drift").resource_group).toBe("pulumi-$STACK");
    expect(definition("drift").script).toEqual(['npm run ci:drift -- "$STACK"']);
  });

  test("the component release: the release keyword, the GitLab CLI image pinned, no npm", () => {
    const job = definition("release-components");
    expect(job.image).toEqual({ name: "registry.gitlab.com/gitlab-org/cli:v1.58.0" });
    expect(job.release).toEqual({
      tag_name: "$CI_COMMIT_TAG",
      name: "$CI_COMMIT_TAG",
      description:
        "CI/CD components of $CI_PROJECT_PATH at $CI_COMMIT_TAG (templates/; docs/app-pipelines.md shows how to include them).",
    });
    expect(job.stage).toBe("release");
    expect(job.needs).toEqual(
      ["typecheck", "lint", "test"].map((name) => ({
        job: name,
        artifacts: true,
        optional: false,
      })),
    );
    expect(job.before_script).toEqual([]);
    expect(job.cache).toEqual([]);
    expect(job.interruptible).toBe(false);
    expect(job.script).toEqual([
      'echo "Releasing the CI/CD components in templates/ of $CI_PROJECT_PATH as $CI_COMMIT_TAG"',
    ]);
  });

  test("each preview job hands GitLab its Terraform report", () => {
    expect(definition("preview").artifacts).toEqual({
      when: "always",
      expire_in: "30 days",
      reports: { terraform: ".pulumi-preview/*.terraform.json" },
    });
  });

  test("one image, pinned to the Pulumi version the SDK is pinned to; npm cache keyed on the lockfile", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const defaults = (parse(CI_FILE) as { default: Record<string, unknown> }).default;
    expect(defaults.image).toBe(`pulumi/pulumi-nodejs-22:${pkg.dependencies["@pulumi/pulumi"]}`);
    expect(defaults.before_script).toEqual([
      "npm ci --cache .npm --prefer-offline --no-audit --no-fund",
    ]);
    expect(defaults.cache).toEqual([
      { key: { files: ["package-lock.json"] }, paths: [".npm/"] },
      {
        key: { prefix: "pulumi-plugins", files: ["package-lock.json"] },
        paths: [".pulumi-home/plugins/"],
      },
    ]);
  });

  test("every `npm run` in the file names a script of package.json", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    const used = [...CI_FILE.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1] as string);
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((s) => !(s in pkg.scripts))).toEqual([]);
  });

  test("no job prints the environment or traces commands", () => {
    const code = CI_FILE.split("\n")
      .filter((line) => !/^\s*#/.test(line))
      .join("\n");
    expect(code).toContain("npm run ci:preview");
    expect(code).not.toMatch(
      /set -x|\benv\b\s*$|printenv|echo \$(PULUMI_CONFIG_PASSPHRASE|PIPELINE_GITLAB_TOKEN|GITLAB_TOKEN)/m,
    );
  });
});
