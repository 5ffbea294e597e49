import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Ajv from "ajv";
import { parse } from "yaml";
import { BootstrapDeps, main } from "../../scripts/bootstrap";
import { Prompter } from "../../scripts/bootstrap/prompt";
import { REPO_ROOT, ScriptIO } from "../../scripts/pulumi";
import { FakeGitLab, FakeOptions, startFakeGitLab } from "../gitlab/fake-gitlab";
import {
  BootstrapFakes,
  FAKE_CIPHERTEXT,
  FAKE_SALT,
  FAKE_SERVER_VERSION,
  bootstrapFakes,
} from "./bootstrap-fakes";

/**
 * `npm run bootstrap` end to end against a fake pulumi and kubectl on PATH and the loopback fake
 * GitLab, in a scratch project directory (a copy of Pulumi.yaml): what it prints, what it writes,
 * every call it makes, and that a failed check writes nothing.
 */

let fakes: BootstrapFakes;
let gitlab: FakeGitLab;
let root: string;

const PASSPHRASE = "correct horse battery staple";
const PLATFORM = { id: 1001, fullPath: "acme/platform" };
const GROUP = { id: 1000, fullPath: "acme" };

async function startGitLab(options: FakeOptions = {}): Promise<void> {
  await gitlab?.close();
  gitlab = await startFakeGitLab({ projects: [PLATFORM], groups: [GROUP], ...options });
}

beforeEach(async () => {
  fakes = bootstrapFakes();
  root = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-project-"));
  fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
  await startGitLab();
});

afterEach(async () => {
  await gitlab.close();
  fakes.remove();
  fs.rmSync(root, { recursive: true, force: true });
});

type Streams = ScriptIO & { out: string[]; err: string[] };

function io(env: Record<string, string> = {}, interactive = false): Streams {
  const out: string[] = [];
  const err: string[] = [];
  return {
    env: {
      PATH: fakes.binDir,
      ...fakes.env,
      FAKE_KUBE_CONTEXTS: "dev-cluster,qa-cluster",
      PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
      GITLAB_TOKEN: gitlab.token,
      ...env,
    },
    cwd: root,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    interactive,
    out,
    err,
  };
}

/** The flags of a complete, valid dev-like stack named qa. */
function flags(...extra: string[]): string[] {
  return [
    "qa",
    "--environment",
    "dev",
    "--kube-context",
    "qa-cluster",
    `--gitlab-url=${gitlab.url}`,
    "--project-path",
    "acme/platform",
    "--group-path",
    "acme",
    "--yes",
    ...extra,
  ];
}

const stackFile = () => path.join(root, "Pulumi.qa.yaml");
const readStackFile = () => fs.readFileSync(stackFile(), "utf8");
const backend = () => `file://${path.join(root, ".pulumi-state")}`;

const HEADER = [
  "# Stack qa (environment dev), written by `npm run bootstrap -- qa`",
  "# (docs/bootstrap.md). docs/configuration.md documents every key. gitlab:token is added",
  "# encrypted by `pulumi config set --secret`; never write credentials here in plain text.",
];

/** What the bootstrap writes for {@link flags}. */
function writtenFile(): string {
  return [
    ...HEADER,
    "config:",
    `  gitlab:baseUrl: ${gitlab.url}`,
    "  platform:environment: dev",
    "  platform:kubeContext: qa-cluster",
    "  platform:gitlab:",
    "    projectPath: acme/platform",
    "    projectId: 1001",
    "    groupPath: acme",
    "    groupId: 1000",
    // Its own agent: the dev stack's is named dev, after the environment.
    "  platform:agent:",
    "    name: qa",
    "",
  ].join("\n");
}

/** The same after the fake pulumi's stack init and config set, as the real CLI leaves it. */
function finishedFile(): string {
  return writtenFile().replace(
    "    name: qa\n",
    [
      "    name: qa",
      "  gitlab:token:",
      `    secure: ${FAKE_CIPHERTEXT}`,
      `encryptionsalt: ${FAKE_SALT}`,
      "",
    ].join("\n"),
  );
}

/** The report lines of the checks when all pass. */
function passingChecks(fileLine = "  ok    Pulumi.qa.yaml: new, to be written"): string[] {
  return [
    `Bootstrapping stack qa in ${root}`,
    "",
    "Checking prerequisites",
    `  ok    Pulumi CLI 3.248.0 (${path.join(fakes.binDir, "pulumi")})`,
    `  ok    kube context "qa-cluster" answers (Kubernetes ${FAKE_SERVER_VERSION})`,
    "  ok    Pulumi.qa.yaml: the values pass the program's validation (environment dev, 0 apps)",
    '  ok    GitLab token "platform": scopes api, expires 2027-01-01',
    `  ok    GitLab 18.6.1-ee at ${gitlab.url}: KAS 18.6.1 at wss://gitlab.fake.test/-/kubernetes-agent/; project acme/platform is 1001; group acme is 1000`,
    fileLine,
  ];
}

/** What was printed, line by line. */
const lines = (streams: Streams) => streams.out.join("").split("\n");

/** The pulumi commands run, without the policy pack's flags (test/scripts/pulumi.test.ts's concern). */
const pulumiArgv = () =>
  fakes.calls("pulumi").map((c) => {
    const policy = c.argv.indexOf("--policy-pack");
    return (policy < 0 ? c.argv : c.argv.slice(0, policy)).join(" ");
  });
const NOTHING_WRITTEN = (n: number) =>
  `error: ${n} ${n === 1 ? "check" : "checks"} failed (FAIL above); nothing was written.\n`;

/** Nothing in the project directory but Pulumi.yaml, no stack, only `pulumi version` run. */
function expectNothingWritten(): void {
  expect(fs.readdirSync(root)).toEqual(["Pulumi.yaml"]);
  expect(fakes.stacks()).toEqual([]);
  expect(pulumiArgv().filter((a) => a !== "version")).toEqual([]);
  expect(gitlab.log.filter((r) => r.method !== "GET")).toEqual([]);
}

describe("a new stack", () => {
  test("checks everything, writes the stack file, creates the stack, stores the token, previews", async () => {
    const streams = io();
    expect(await main(flags(), streams)).toBe(0);
    expect(streams.err).toEqual([]);
    expect(streams.out.join("")).toBe(
      [
        ...passingChecks(),
        "",
        "Setting up",
        "  done  wrote Pulumi.qa.yaml",
        `  done  created stack qa on ${backend()} (secrets provider passphrase)`,
        "  done  stored the GitLab token in Pulumi.qa.yaml, encrypted (gitlab:token)",
        "",
        "Preview (npm run preview -- qa)",
        `Using state backend ${backend()}`,
        "",
        "Stack qa is ready. Review the preview above, commit Pulumi.qa.yaml, then run `npm run up -- qa`.",
        "",
      ].join("\n"),
    );
    expect(readStackFile()).toBe(finishedFile());
    expect(fakes.stacks()).toEqual(["qa"]);
    expect(fs.statSync(path.join(root, ".pulumi-state")).isDirectory()).toBe(true);
  });

  test("runs exactly these commands; the token reaches pulumi on standard input only", async () => {
    expect(await main(flags(), io())).toBe(0);
    expect(fakes.calls("pulumi")).toEqual([
      { tool: "pulumi", argv: ["version"], passphrase: PASSPHRASE },
      {
        tool: "pulumi",
        argv: ["stack", "select", "qa", "--non-interactive"],
        backend: backend(),
        passphrase: PASSPHRASE,
      },
      {
        tool: "pulumi",
        argv: ["stack", "init", "qa", "--secrets-provider", "passphrase", "--non-interactive"],
        backend: backend(),
        passphrase: PASSPHRASE,
      },
      {
        tool: "pulumi",
        argv: ["config", "set", "gitlab:token", "--secret", "--stack", "qa", "--non-interactive"],
        stdin: gitlab.token,
        backend: backend(),
        passphrase: PASSPHRASE,
      },
      {
        tool: "pulumi",
        argv: ["stack", "select", "--create", "qa", "--secrets-provider", "passphrase"],
        backend: backend(),
        passphrase: PASSPHRASE,
      },
      {
        tool: "pulumi",
        argv: [
          "preview",
          "--diff",
          "--refresh",
          "--stack",
          "qa",
          // The policy pack of the project directory, at the stack's levels (npm run preview's code).
          "--policy-pack",
          path.join(root, "policy"),
          "--policy-pack-config",
          expect.stringMatching(/\/pulumi-policy-[^/]+\/qa\.json$/),
        ],
        backend: backend(),
        passphrase: PASSPHRASE,
      },
    ]);
    expect(fakes.calls("kubectl").map((c) => c.argv)).toEqual([
      ["config", "get-contexts", "-o", "name"],
      ["--context", "qa-cluster", "version", "--output=json", "--request-timeout=10s"],
    ]);
    // Read-only requests: the token, the instance, the project and the group.
    expect(gitlab.log.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /personal_access_tokens/self",
      "GET /metadata",
      "GET /projects/acme%2Fplatform",
      "GET /groups/acme",
    ]);
  });

  test("the token is never an argument and never printed", async () => {
    const streams = io();
    expect(await main(flags(), streams)).toBe(0);
    for (const call of fakes.calls()) {
      expect(call.argv.join(" ")).not.toContain(gitlab.token);
    }
    expect(streams.out.join("") + streams.err.join("")).not.toContain(gitlab.token);
    expect(readStackFile()).not.toContain(gitlab.token);
  });

  test("PULUMI_BACKEND_URL picks another backend", async () => {
    const other = path.join(fakes.dir, "state");
    expect(await main(flags(), io({ PULUMI_BACKEND_URL: `file://${other}` }))).toBe(0);
    expect(
      new Set(
        fakes
          .calls("pulumi")
          .slice(1)
          .map((c) => c.backend),
      ),
    ).toEqual(new Set([`file://${other}`]));
    expect(fs.statSync(other).isDirectory()).toBe(true);
    expect(fs.existsSync(path.join(root, ".pulumi-state"))).toBe(false);
  });

  test("--no-agent writes features.agent: false, and then KAS may be disabled", async () => {
    await startGitLab({ metadata: { kas: { enabled: false, externalUrl: null, version: null } } });
    const streams = io();
    expect(await main(flags("--no-agent"), streams)).toBe(0);
    expect(streams.out.join("")).toContain(
      `  ok    GitLab 18.6.1-ee at ${gitlab.url}: KAS disabled; project acme/platform is 1001; group acme is 1000\n`,
    );
    // No agent, so no agent name either.
    expect(readStackFile()).toBe(
      finishedFile().replace(
        "  platform:agent:\n    name: qa\n",
        "  platform:features:\n    agent: false\n",
      ),
    );
  });

  test("the GitLab URL is written without /api/v4; the kube API server when given", async () => {
    const given = flags("--kube-api-server", "https://k8s.qa.example.com:6443").map((f) =>
      f === `--gitlab-url=${gitlab.url}` ? `--gitlab-url=${gitlab.url}/api/v4/` : f,
    );
    expect(await main(given, io())).toBe(0);
    expect(readStackFile()).toBe(
      finishedFile().replace(
        "  platform:kubeContext: qa-cluster\n",
        "  platform:kubeContext: qa-cluster\n  platform:kubeApiServer: https://k8s.qa.example.com:6443\n",
      ),
    );
  });

  test("values come from the environment when no flag gives them", async () => {
    const streams = io({
      PLATFORM_ENVIRONMENT: "dev",
      PLATFORM_KUBE_CONTEXT: "qa-cluster",
      GITLAB_BASE_URL: gitlab.url,
      PLATFORM_PROJECT_PATH: "acme/platform",
      PLATFORM_GROUP_PATH: "acme",
    });
    expect(await main(["qa", "--yes"], streams)).toBe(0);
    expect(readStackFile()).toBe(finishedFile());
  });

  test("a flag wins over its environment variable", async () => {
    expect(await main(flags(), io({ PLATFORM_KUBE_CONTEXT: "dev-cluster" }))).toBe(0);
    expect(readStackFile()).toContain("  platform:kubeContext: qa-cluster\n");
  });

  test("the file names the repository's JSON schema for editors, and passes it", async () => {
    fs.mkdirSync(path.join(root, "schema"));
    const schema = path.join("schema", "stack.schema.json");
    fs.copyFileSync(path.join(REPO_ROOT, schema), path.join(root, schema));
    expect(await main(flags("--kube-api-server", "https://k8s.qa.example.com:6443"), io())).toBe(0);
    const text = readStackFile();
    expect(
      text.startsWith(`# yaml-language-server: $schema=./schema/stack.schema.json\n${HEADER[0]}\n`),
    ).toBe(true);
    const validate = new Ajv({ allErrors: true }).compile(
      JSON.parse(fs.readFileSync(path.join(root, schema), "utf8")) as object,
    );
    expect(validate(parse(text))).toBe(true);
    // The check is real: the schema refuses what the program refuses.
    expect(validate(parse(text.replace("environment: dev", "environment: qa")))).toBe(false);
  });

  test("without the JSON schema, no modeline", async () => {
    expect(await main(flags(), io())).toBe(0);
    expect(readStackFile()).not.toContain("yaml-language-server");
  });

  test("a failed preview keeps what was set up and returns pulumi's exit code", async () => {
    const streams = io({ FAKE_PULUMI_EXIT_PREVIEW: "2" });
    expect(await main(flags(), streams)).toBe(2);
    expect(streams.err.join("")).toBe(
      "error: the preview of qa failed (exit code 2). Pulumi.qa.yaml, the stack and its token are in place: fix the cause, then run `npm run preview -- qa` or this command again.\n",
    );
    expect(readStackFile()).toBe(finishedFile());
  });

  test("a failure to store the token is reported with the token redacted", async () => {
    const streams = io({ FAKE_PULUMI_FAIL: "config set" });
    expect(await main(flags(), streams)).toBe(255);
    expect(streams.err.join("")).toBe(
      "error: pulumi config set --secret gitlab:token failed (exit code 255):\nerror: fake failure of config set (input: [secret])\n",
    );
    expect(pulumiArgv()).not.toContain("preview --diff --refresh --stack qa");
  });
});

describe("a missing prerequisite stops everything before the first write", () => {
  const PULUMI_INSTALL =
    "`curl -fsSL https://get.pulumi.com | sh` (or https://www.pulumi.com/docs/install/)";

  test("no Pulumi CLI on PATH", async () => {
    fs.rmSync(path.join(fakes.binDir, "pulumi"));
    const streams = io();
    expect(await main(flags(), streams)).toBe(1);
    expect(streams.out.join("")).toBe(
      [
        `Bootstrapping stack qa in ${root}`,
        "",
        "Checking prerequisites",
        `  FAIL  Pulumi CLI: not found on PATH; install it with ${PULUMI_INSTALL}, then open a new shell`,
        ...passingChecks().slice(4),
        "",
      ].join("\n"),
    );
    expect(streams.err.join("")).toBe(NOTHING_WRITTEN(1));
    expectNothingWritten();
  });

  test("a Pulumi CLI older than the program accepts", async () => {
    const streams = io({ FAKE_PULUMI_VERSION: "v3.207.1" });
    expect(await main(flags(), streams)).toBe(1);
    expect(lines(streams)[3]).toBe(
      `  FAIL  Pulumi CLI 3.207.1 (${path.join(fakes.binDir, "pulumi")}) is older than 3.208.0, the oldest the program runs on (runner token rotation needs the replacementTrigger resource option); upgrade it with ${PULUMI_INSTALL}`,
    );
    expect(streams.err.join("")).toBe(NOTHING_WRITTEN(1));
    expectNothingWritten();
  });

  test("a kube context the kubeconfig does not have", async () => {
    const streams = io({ FAKE_KUBE_CONTEXTS: "dev-cluster,staging-cluster" });
    expect(await main(flags(), streams)).toBe(1);
    expect(lines(streams)[4]).toBe(
      '  FAIL  kube context "qa-cluster": not in your kubeconfig (it has dev-cluster, staging-cluster); add it, or point KUBECONFIG at the file that has it',
    );
    expect(streams.err.join("")).toBe(NOTHING_WRITTEN(1));
    expectNothingWritten();
  });

  test("a kube context whose cluster does not answer", async () => {
    const streams = io({ FAKE_KUBE_UNREACHABLE: "qa-cluster" });
    expect(await main(flags(), streams)).toBe(1);
    expect(lines(streams)[4]).toBe(
      '  FAIL  kube context "qa-cluster": its cluster does not answer (`kubectl --context qa-cluster version`: Unable to connect to the server: dial tcp 10.11.12.13:6443: i/o timeout)',
    );
    expectNothingWritten();
  });

  test("no kubectl on PATH", async () => {
    fs.rmSync(path.join(fakes.binDir, "kubectl"));
    const streams = io();
    expect(await main(flags(), streams)).toBe(1);
    expect(lines(streams)[4]).toBe(
      '  FAIL  kube context "qa-cluster": kubectl was not found on PATH; it is needed to check the context (https://kubernetes.io/docs/tasks/tools/)',
    );
    expectNothingWritten();
  });

  test("a token GitLab rejects; the instance is then not asked", async () => {
    const streams = io({ GITLAB_TOKEN: "glpat-revoked-token-0002" });
    expect(await main(flags(), streams)).toBe(1);
    expect(lines(streams).slice(6).join("\n")).toBe(
      [
        `  FAIL  GitLab token: GitLab at ${gitlab.url} rejected the token (HTTP 401: 401 Unauthorized): it is wrong, expired or revoked; set a valid one with \`pulumi config set --secret gitlab:token …\` (or GITLAB_TOKEN)`,
        "  skip  GitLab instance, project and group: not checked (needs a working token)",
        "  ok    Pulumi.qa.yaml: new, to be written",
        "",
      ].join("\n"),
    );
    expect(streams.err.join("")).toBe(NOTHING_WRITTEN(1));
    expect(streams.out.join("") + streams.err.join("")).not.toContain("glpat-revoked-token-0002");
    expect(gitlab.log.map((r) => r.path)).toEqual(["/personal_access_tokens/self"]);
    expectNothingWritten();
  });

  test.each<[string, string[], string]>([
    [
      "read_api only",
      ["read_api"],
      "has scopes read_api: the program needs api, and registering the runner needs create_runner or api",
    ],
    [
      "create_runner without api",
      ["create_runner", "read_api"],
      "has scopes create_runner, read_api: the program needs api",
    ],
  ])("a token without the api scope (%s)", async (_, scopes, message) => {
    await startGitLab({ tokens: { "glpat-narrow-token-0003": scopes } });
    const streams = io({ GITLAB_TOKEN: "glpat-narrow-token-0003" });
    expect(await main(flags(), streams)).toBe(1);
    expect(lines(streams)[6]).toBe(
      `  FAIL  GitLab token "platform" ${message} (docs/gitlab.md, Token scopes and roles); create a token with the api scope`,
    );
    expectNothingWritten();
  });

  test("KAS disabled while the stack has the agent on", async () => {
    await startGitLab({ metadata: { kas: { enabled: false, externalUrl: null, version: null } } });
    const streams = io();
    expect(await main(flags(), streams)).toBe(1);
    expect(lines(streams).slice(7, 9).join("\n")).toBe(
      [
        `  FAIL  GitLab 18.6.1-ee at ${gitlab.url}:`,
        `        - features.agent: expected the GitLab agent server (KAS) enabled on ${gitlab.url} for the agent (GET /metadata says kas.enabled: false); enable KAS on the instance, or set features.agent: false`,
      ].join("\n"),
    );
    expect(streams.err.join("")).toBe(NOTHING_WRITTEN(1));
    expectNothingWritten();
  });

  test("a platform project GitLab does not have (and a group it does not have)", async () => {
    await startGitLab({ projects: [], groups: [] });
    const streams = io();
    expect(await main(flags(), streams)).toBe(1);
    expect(lines(streams).slice(7, 10).join("\n")).toBe(
      [
        `  FAIL  GitLab at ${gitlab.url}:`,
        `        - gitlab.groupPath: GitLab at ${gitlab.url} has no group "acme" that the token can see (HTTP 404): check the path and that the token's user is a member`,
        `        - gitlab.projectPath: GitLab at ${gitlab.url} has no project "acme/platform" that the token can see (HTTP 404): check the path and that the token's user is a member`,
      ].join("\n"),
    );
    expectNothingWritten();
  });

  test("every failing check is reported in one run", async () => {
    fs.rmSync(path.join(fakes.binDir, "pulumi"));
    await startGitLab({ projects: [{ id: 7, fullPath: "other/app" }] });
    const streams = io({ FAKE_KUBE_UNREACHABLE: "qa-cluster" });
    expect(await main(flags(), streams)).toBe(1);
    expect(lines(streams).map((l) => l.slice(0, 8))).toEqual([
      "Bootstra",
      "",
      "Checking",
      "  FAIL  ",
      "  FAIL  ",
      "  ok    ",
      "  ok    ",
      "  FAIL  ",
      "        ",
      "  ok    ",
      "",
    ]);
    expect(streams.err.join("")).toBe(NOTHING_WRITTEN(3));
    expectNothingWritten();
  });
});

describe("re-running", () => {
  test("skips what is done: the same file, the existing stack, the stored token", async () => {
    expect(await main(flags(), io())).toBe(0);
    const first = readStackFile();
    const before = fakes.calls("pulumi").length;
    const streams = io();
    expect(await main(flags(), streams)).toBe(0);
    expect(streams.out.join("")).toBe(
      [
        ...passingChecks("  ok    Pulumi.qa.yaml: exists with these values"),
        "",
        "Setting up",
        "  skip  Pulumi.qa.yaml already has these values",
        `  skip  stack qa exists on ${backend()}`,
        "  skip  Pulumi.qa.yaml already holds an encrypted gitlab:token (--force stores the one given now)",
        "",
        "Preview (npm run preview -- qa)",
        `Using state backend ${backend()}`,
        "",
        "Stack qa is ready. Review the preview above, commit Pulumi.qa.yaml, then run `npm run up -- qa`.",
        "",
      ].join("\n"),
    );
    expect(readStackFile()).toBe(first);
    expect(pulumiArgv().slice(before)).toEqual([
      "version",
      "stack select qa --non-interactive",
      "stack select --create qa --secrets-provider passphrase",
      "preview --diff --refresh --stack qa",
    ]);
  });

  test("with --yes and no values given, the stack file supplies them", async () => {
    expect(await main(flags(), io())).toBe(0);
    const first = readStackFile();
    const streams = io();
    expect(await main(["qa", "--yes"], streams)).toBe(0);
    expect(streams.out.join("")).toContain("  ok    Pulumi.qa.yaml: exists with these values\n");
    expect(readStackFile()).toBe(first);
  });

  test("keys added or changed by hand where the bootstrap only sets a default are kept", async () => {
    expect(await main(flags(), io())).toBe(0);
    fs.writeFileSync(
      stackFile(),
      readStackFile()
        .replace(
          "    groupId: 1000\n",
          "    groupId: 1000\n  # More runners for qa.\n  platform:runner:\n    concurrent: 6\n",
        )
        .replace("    name: qa\n", "    name: qa-agent\n"),
    );
    const edited = readStackFile();
    expect(edited).toContain("concurrent: 6");
    const streams = io();
    expect(await main(flags(), streams)).toBe(0);
    expect(lines(streams)[8]).toBe("  ok    Pulumi.qa.yaml: exists with these values");
    expect(readStackFile()).toBe(edited);
  });

  test("a hand-written file without ids gets them, and keeps its comments", async () => {
    fs.writeFileSync(
      stackFile(),
      [
        "# QA, by hand.",
        "config:",
        `  gitlab:baseUrl: ${gitlab.url}`,
        "  platform:environment: dev # like dev",
        "  platform:kubeContext: qa-cluster",
        "  platform:gitlab:",
        "    projectPath: acme/platform",
        "    groupPath: acme",
        "",
      ].join("\n"),
    );
    const streams = io();
    expect(await main(["qa", "--yes"], streams)).toBe(0);
    expect(streams.out.join("")).toContain(
      "  ok    Pulumi.qa.yaml: exists, to get platform:gitlab.projectId, platform:gitlab.groupId, platform:agent.name\n",
    );
    expect(streams.out.join("")).toContain("  done  updated Pulumi.qa.yaml\n");
    expect(readStackFile()).toBe(
      [
        "# QA, by hand.",
        "config:",
        `  gitlab:baseUrl: ${gitlab.url}`,
        "  platform:environment: dev # like dev",
        "  platform:kubeContext: qa-cluster",
        "  platform:gitlab:",
        "    projectPath: acme/platform",
        "    groupPath: acme",
        "    projectId: 1001",
        "    groupId: 1000",
        "  platform:agent:",
        "    name: qa",
        "  gitlab:token:",
        `    secure: ${FAKE_CIPHERTEXT}`,
        `encryptionsalt: ${FAKE_SALT}`,
        "",
      ].join("\n"),
    );
  });

  test("different values are refused, naming each, and nothing is written", async () => {
    await startGitLab({ groups: [GROUP, { id: 1002, fullPath: "acme-ops" }] });
    expect(await main(flags(), io())).toBe(0);
    const first = readStackFile();
    const before = fakes.calls("pulumi").length;
    const streams = io();
    const changed = flags("--kube-context", "dev-cluster", "--group-path", "acme-ops");
    expect(await main(changed, streams)).toBe(1);
    expect(lines(streams).slice(8).join("\n")).toBe(
      [
        "  FAIL  Pulumi.qa.yaml exists with other values (--force replaces them):",
        '        - platform:kubeContext: "qa-cluster" in the file, "dev-cluster" given',
        '        - platform:gitlab.groupPath: "acme" in the file, "acme-ops" given',
        "        - platform:gitlab.groupId: 1000 in the file, 1002 given",
        "",
      ].join("\n"),
    );
    expect(streams.err.join("")).toBe(NOTHING_WRITTEN(1));
    expect(readStackFile()).toBe(first);
    expect(pulumiArgv().slice(before)).toEqual(["version"]);
  });

  test("--force replaces the differing values and the token, keeping Pulumi's own keys", async () => {
    expect(await main(flags(), io())).toBe(0);
    const before = fakes.calls("pulumi").length;
    const streams = io();
    expect(await main(flags("--kube-context", "dev-cluster", "--force"), streams)).toBe(0);
    expect(streams.out.join("")).toContain(
      "  ok    Pulumi.qa.yaml: exists, to have platform:kubeContext replaced (--force)\n",
    );
    expect(streams.out.join("")).toContain("  done  updated Pulumi.qa.yaml\n");
    expect(readStackFile()).toBe(
      finishedFile().replace(
        "platform:kubeContext: qa-cluster",
        "platform:kubeContext: dev-cluster",
      ),
    );
    expect(pulumiArgv().slice(before)).toEqual([
      "version",
      "stack select qa --non-interactive",
      "config set gitlab:token --secret --stack qa --non-interactive",
      "stack select --create qa --secrets-provider passphrase",
      "preview --diff --refresh --stack qa",
    ]);
  });
});

describe("bad input gets a clear message and nothing is written", () => {
  test("values that do not pass the program's validation", async () => {
    const given = flags().map((f) => (f === "dev" ? "prod" : f));
    const streams = io();
    expect(await main(given, streams)).toBe(1);
    expect(lines(streams).slice(5, 9).join("\n")).toBe(
      [
        "  FAIL  Pulumi.qa.yaml: the values do not pass the program's validation:",
        '        - environment: expected one of "dev", "staging", "production", "review", got "prod"',
        '  ok    GitLab token "platform": scopes api, expires 2027-01-01',
        "  skip  GitLab instance, project and group: not checked (needs valid values)",
      ].join("\n"),
    );
    expectNothingWritten();
  });

  test("a GitLab URL that is not one", async () => {
    const given = flags().map((f) => (f.startsWith("--gitlab-url=") ? "--gitlab-url=gitlab" : f));
    const streams = io();
    expect(await main(given, streams)).toBe(1);
    expect(lines(streams).slice(5, 9).join("\n")).toBe(
      [
        "  FAIL  Pulumi.qa.yaml: the values do not pass the program's validation:",
        '        - gitlab:baseUrl: expected the GitLab URL such as "https://gitlab.example.com" (pulumi config set gitlab:baseUrl …, or GITLAB_BASE_URL), got "gitlab"',
        "  skip  GitLab token: not checked (needs a valid GitLab URL)",
        "  skip  GitLab instance, project and group: not checked (needs valid values and a working token)",
      ].join("\n"),
    );
    expect(gitlab.log).toEqual([]);
    expectNothingWritten();
  });

  test("without prompts, every missing value is listed at once", async () => {
    const streams = io({ GITLAB_TOKEN: "", PULUMI_CONFIG_PASSPHRASE: "" });
    delete streams.env["PULUMI_CONFIG_PASSPHRASE"];
    expect(await main(["qa", "--kube-context", "qa-cluster", "--yes"], streams)).toBe(1);
    expect(streams.err.join("")).toBe(
      [
        "error: 5 values are missing; nothing was written:",
        "  - environment: --environment or PLATFORM_ENVIRONMENT (dev, staging, production or review)",
        "  - GitLab URL: --gitlab-url or GITLAB_BASE_URL (such as https://gitlab.example.com)",
        "  - platform project path: --project-path or PLATFORM_PROJECT_PATH (such as acme/platform)",
        "  - GitLab token: GITLAB_TOKEN, or the prompt (never a flag: the process list and shell history would show it)",
        "  - passphrase of the stack's secrets: PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE (or another secrets provider in PULUMI_SECRETS_PROVIDER)",
        "",
      ].join("\n"),
    );
    expect(streams.out).toEqual([]);
    expect(fakes.calls()).toEqual([]);
    expectNothingWritten();
  });

  test("a stack named dev needs no --environment; another secrets provider needs no passphrase", async () => {
    const streams = io({ PULUMI_SECRETS_PROVIDER: "awskms://alias/platform" });
    delete streams.env["PULUMI_CONFIG_PASSPHRASE"];
    const given = ["dev", ...flags().slice(3)];
    expect(await main(given, streams)).toBe(0);
    expect(fakes.calls("pulumi")[2]?.argv).toEqual([
      "stack",
      "init",
      "dev",
      "--secrets-provider",
      "awskms://alias/platform",
      "--non-interactive",
    ]);
  });

  test.each<[string, string[], string]>([
    [
      "a token on the command line",
      ["qa", "--token", "glpat-on-argv-0004"],
      "error: --token: the GitLab token is never taken from the command line (the process list and shell history would show it); set GITLAB_TOKEN or answer the prompt\n",
    ],
    [
      "a token flag with =",
      ["qa", "--gitlab-token=glpat-on-argv-0004"],
      "error: --gitlab-token: the GitLab token is never taken from the command line (the process list and shell history would show it); set GITLAB_TOKEN or answer the prompt\n",
    ],
    [
      "a flag without its value",
      ["qa", "--kube-context"],
      "error: --kube-context: expected a value (a context of your kubeconfig)\n",
    ],
    ["two stacks", ["qa", "qa2"], 'error: one stack at a time: unexpected "qa2"\n'],
    [
      "a stack name that cannot name a file",
      ["../qa"],
      `error: stack name "../qa" must start with a letter or digit and use only letters, digits, '-', '_' and '.'\n`,
    ],
  ])("%s", async (_, argv, message) => {
    const streams = io();
    expect(await main(argv, streams)).toBe(1);
    expect(streams.err.join("")).toBe(message);
    expect(fakes.calls()).toEqual([]);
    expectNothingWritten();
  });

  test("an unknown flag prints the usage", async () => {
    const streams = io();
    expect(await main(["qa", "--enviroment", "dev"], streams)).toBe(1);
    expect(streams.err.join("")).toMatch(
      /^error: unknown flag "--enviroment"\nusage: npm run bootstrap -- <stack> \[flags\]\n/,
    );
    expectNothingWritten();
  });

  test("an existing stack file that is not YAML", async () => {
    fs.writeFileSync(stackFile(), "config: [unclosed\n");
    const streams = io();
    expect(await main(flags(), streams)).toBe(1);
    expect(streams.err.join("")).toMatch(/^error: Pulumi\.qa\.yaml: not valid YAML \(/);
    expect(readStackFile()).toBe("config: [unclosed\n");
    expect(fakes.calls()).toEqual([]);
  });
});

describe("at a terminal", () => {
  /** Answers in order; fails the test on a question it has no answer for. */
  function scripted(answers: string[]): Prompter & { asked: string[] } {
    const asked: string[] = [];
    const next = async (question: string) => {
      asked.push(question);
      const answer = answers.shift();
      if (answer === undefined) {
        throw new Error(`unexpected question: ${question}`);
      }
      return answer;
    };
    return { asked, ask: next, secret: next };
  }

  function terminal(prompter: Prompter): [Streams, BootstrapDeps] {
    const streams = io({ GITLAB_TOKEN: "" }, true);
    delete streams.env["GITLAB_TOKEN"];
    delete streams.env["PULUMI_CONFIG_PASSPHRASE"];
    return [streams, { prompter }];
  }

  test("asks for each missing value, the token and a new passphrase twice, then confirms", async () => {
    const prompter = scripted([
      "dev",
      "qa-cluster",
      gitlab.url,
      "",
      "acme/platform",
      "",
      "",
      gitlab.token,
      PASSPHRASE,
      PASSPHRASE,
      "y",
    ]);
    const [streams, deps] = terminal(prompter);
    expect(await main(["qa"], streams, deps)).toBe(0);
    expect(prompter.asked).toEqual([
      "Environment (dev, staging, production or review): ",
      "Kube context (a context of your kubeconfig): ",
      "GitLab URL (such as https://gitlab.example.com): ",
      "Platform project path (such as acme/platform): ",
      "Platform project path (such as acme/platform): ",
      "Group path (such as acme; optional: group runners, group deploy tokens and variables): ",
      "Kube API server URL (such as https://k8s.example.com:6443; optional: needed once an app deploys direct): ",
      "GitLab token (api scope; not shown): ",
      "Passphrase for the stack's secrets (not shown): ",
      "The same passphrase again: ",
      "Go ahead? [y/N] ",
    ]);
    // No group: a project deploy token, and no group lookup.
    expect(readStackFile()).toBe(
      finishedFile().replace("    groupPath: acme\n    groupId: 1000\n", ""),
    );
    expect(new Set(fakes.calls("pulumi").map((c) => c.passphrase))).toEqual(new Set([PASSPHRASE]));
    // The typed passphrase goes to Pulumi only.
    expect(fakes.calls("kubectl").map((c) => c.passphrase)).toEqual([undefined, undefined]);
    expect(fakes.calls("pulumi")[3]?.stdin).toBe(gitlab.token);
    expect(streams.out.join("")).toContain(
      [
        "About to:",
        "  - write Pulumi.qa.yaml:",
        ...HEADER.map((l) => `      ${l}`),
        "      config:",
        `        gitlab:baseUrl: ${gitlab.url}`,
        "        platform:environment: dev",
        "        platform:kubeContext: qa-cluster",
        "        platform:gitlab:",
        "          projectPath: acme/platform",
        "          projectId: 1001",
        "        platform:agent:",
        "          name: qa",
        `  - create stack qa on ${backend()} unless it exists (secrets provider passphrase)`,
        "  - store the GitLab token, encrypted, as gitlab:token",
        "  - run npm run preview -- qa",
        "",
      ].join("\n"),
    );
  });

  test("passphrases that differ are asked again", async () => {
    const prompter = scripted(["", gitlab.token, "one", "two", PASSPHRASE, PASSPHRASE, "yes"]);
    const [streams, deps] = terminal(prompter);
    expect(
      await main(
        flags().filter((f) => f !== "--yes"),
        streams,
        deps,
      ),
    ).toBe(0);
    expect(prompter.asked.slice(2)).toEqual([
      "Passphrase for the stack's secrets (not shown): ",
      "The same passphrase again: ",
      "The two differed. Passphrase for the stack's secrets (not shown): ",
      "The same passphrase again: ",
      "Go ahead? [y/N] ",
    ]);
    expect(new Set(fakes.calls("pulumi").map((c) => c.passphrase))).toEqual(new Set([PASSPHRASE]));
  });

  test("an existing stack's passphrase is asked once", async () => {
    expect(await main(flags(), io())).toBe(0);
    const prompter = scripted([gitlab.token, PASSPHRASE]);
    const [streams, deps] = terminal(prompter);
    expect(await main(["qa"], streams, deps)).toBe(0);
    // Nothing to write: no confirmation either.
    expect(prompter.asked).toEqual([
      "GitLab token (api scope; not shown): ",
      "Passphrase for the stack's secrets (not shown): ",
    ]);
  });

  test("answering no writes nothing", async () => {
    // The optional kube API server is asked for too: every value but it came from flags.
    const prompter = scripted(["", gitlab.token, PASSPHRASE, PASSPHRASE, "n"]);
    const [streams, deps] = terminal(prompter);
    expect(
      await main(
        flags().filter((f) => f !== "--yes"),
        streams,
        deps,
      ),
    ).toBe(1);
    expect(prompter.asked).toEqual([
      "Kube API server URL (such as https://k8s.example.com:6443; optional: needed once an app deploys direct): ",
      "GitLab token (api scope; not shown): ",
      "Passphrase for the stack's secrets (not shown): ",
      "The same passphrase again: ",
      "Go ahead? [y/N] ",
    ]);
    expect(streams.err.join("")).toBe("error: cancelled: nothing was written\n");
    expectNothingWritten();
  });

  test("--yes asks nothing, even at a terminal", async () => {
    const prompter = scripted([]);
    const [streams, deps] = terminal(prompter);
    expect(await main(flags(), streams, deps)).toBe(1);
    expect(prompter.asked).toEqual([]);
    expect(streams.err.join("")).toContain("error: 2 values are missing; nothing was written:\n");
  });
});

/** What `npm run bootstrap -- --help` printed, and its exit code. */
let help: Promise<{ stdout: string; status: number | null }>;

// npm and ts-node take seconds to load the script: the run starts before the file's first test
// and overlaps the others, which mostly wait on their fake tools.
beforeAll(() => {
  const { spawn } = jest.requireActual<typeof import("child_process")>("child_process");
  help = new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "bootstrap", "--", "--help"], {
      cwd: REPO_ROOT,
      env: { PATH: `${path.dirname(process.execPath)}${path.delimiter}/usr/bin:/bin` },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.on("error", (error) => resolve({ stdout: `${stdout}${error}`, status: null }));
    child.on("close", (status) => resolve({ stdout, status }));
  });
});

test("`npm run bootstrap -- --help` prints the usage", async () => {
  const result = await help;
  expect(result.stdout).toMatch(/^usage: npm run bootstrap -- <stack> \[flags\]\n/);
  expect(result.stdout).toContain(
    "  --kube-context <value>       a context of your kubeconfig (PLATFORM_KUBE_CONTEXT)\n",
  );
  expect(result.status).toBe(0);
});
