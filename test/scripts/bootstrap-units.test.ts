import * as fs from "fs";
import * as path from "path";
import { PassThrough } from "stream";
import { parseDocument } from "yaml";
import { CommandResult, runCommand } from "../../scripts/bootstrap/command";
import { parseBootstrapArgs, usage } from "../../scripts/bootstrap/options";
import {
  MIN_PULUMI_VERSION,
  checkKubeContext,
  checkToken,
} from "../../scripts/bootstrap/prerequisites";
import { PromptCancelled, RawInput, readHidden } from "../../scripts/bootstrap/prompt";
import {
  ExistingFile,
  agentNameFor,
  existingValues,
  hasSecureToken,
  header,
  keyName,
  planStackFile,
  stackEntries,
} from "../../scripts/bootstrap/stack-file";
import { passphraseNeed } from "../../scripts/bootstrap/values";
import { REPO_ROOT } from "../../scripts/pulumi";
import { startFakeGitLab } from "../gitlab/fake-gitlab";

/** The bootstrap's pieces on their own: arguments, the stack file, checks, prompts, commands. */

describe("arguments", () => {
  test("flags with a space or =, switches, the stack anywhere", () => {
    expect(
      parseBootstrapArgs([
        "--environment=staging",
        "qa",
        "--kube-context",
        " qa-cluster ",
        "--gitlab-url=https://gitlab.example.com/?a=b",
        "--no-agent",
        "-y",
        "--force",
      ]),
    ).toEqual({
      stack: "qa",
      flags: {
        environment: "staging",
        kubeContext: "qa-cluster",
        gitlabUrl: "https://gitlab.example.com/?a=b",
      },
      noAgent: true,
      yes: true,
      force: true,
      help: false,
    });
  });

  test("--help needs no stack", () => {
    expect(parseBootstrapArgs(["--help"]).help).toBe(true);
  });

  test.each<[string[], string]>([
    [[], "missing stack name\nusage: npm run bootstrap -- <stack> [flags]"],
    [["qa", "--project-path", "--yes"], "--project-path: expected a value (such as acme/platform)"],
    [["qa", "--yes=no"], 'unknown flag "--yes=no"'],
    [["qa", "--private-token", "x"], "--private-token: the GitLab token is never taken"],
  ])("%j is refused", (argv, message) => {
    expect(() => parseBootstrapArgs(argv)).toThrow(message);
  });

  test("the usage lists every value with its flag and environment variable", () => {
    expect(usage().split("\n").slice(6, 12)).toEqual([
      "  --environment <env>          dev, staging, production or review (PLATFORM_ENVIRONMENT)",
      "  --kube-context <value>       a context of your kubeconfig (PLATFORM_KUBE_CONTEXT)",
      "  --gitlab-url <value>         such as https://gitlab.example.com (GITLAB_BASE_URL)",
      "  --project-path <value>       such as acme/platform (PLATFORM_PROJECT_PATH)",
      "  --group-path <value>         such as acme; optional: group runners, group deploy tokens and variables (PLATFORM_GROUP_PATH)",
      "  --kube-api-server <value>    such as https://k8s.example.com:6443; optional: needed once an app deploys direct (PLATFORM_KUBE_API_SERVER)",
    ]);
  });
});

describe("the stack file", () => {
  const values = {
    environment: "staging",
    kubeContext: "acme/platform:staging",
    gitlabUrl: "https://gitlab.example.com/api/v4/",
    projectPath: "acme/platform",
  };
  const existing = (text: string): ExistingFile => ({ text, document: parseDocument(text) });

  test("owned keys in order, the URL without /api/v4, optional ones only when given", () => {
    expect(stackEntries(values, { projectId: 5, noAgent: false })).toEqual([
      { path: ["config", "gitlab:baseUrl"], value: "https://gitlab.example.com" },
      { path: ["config", "platform:environment"], value: "staging" },
      { path: ["config", "platform:kubeContext"], value: "acme/platform:staging" },
      { path: ["config", "platform:gitlab", "projectPath"], value: "acme/platform" },
      { path: ["config", "platform:gitlab", "projectId"], value: 5 },
    ]);
    expect(stackEntries({}, { noAgent: true })).toEqual([
      { path: ["config", "platform:features", "agent"], value: false },
    ]);
    expect(keyName(["config", "platform:gitlab", "projectId"])).toBe("platform:gitlab.projectId");
    expect(stackEntries({}, { agentName: "qa", noAgent: false })).toEqual([
      { path: ["config", "platform:agent", "name"], value: "qa", soft: true },
    ]);
  });

  test.each<[string, string | undefined, boolean, string | undefined]>([
    ["qa", "dev", false, "qa"],
    ["dev", "dev", false, undefined],
    ["qa", "dev", true, undefined],
    ["review-42", "review", false, undefined],
    ["team.qa", "staging", false, undefined],
    ["q".repeat(41), "staging", false, undefined],
    ["qa", undefined, false, undefined],
  ])("agent name of stack %j in environment %j (no agent: %j): %j", (stack, env, off, name) => {
    expect(agentNameFor(stack, env, off)).toBe(name);
  });

  test("an agent name in the file is kept whatever the default would be", () => {
    const text = "config:\n  platform:agent:\n    name: qa-east\n";
    expect(
      planStackFile("qa", existing(text), stackEntries({}, { agentName: "qa", noAgent: false }), {
        force: true,
        schema: false,
      }),
    ).toEqual({ action: "unchanged", text, added: [], conflicts: [] });
  });

  test("a new file: the header, then the values", () => {
    const plan = planStackFile("staging-2", undefined, stackEntries(values, { noAgent: false }), {
      force: false,
      schema: false,
    });
    expect(plan).toEqual({
      action: "create",
      text: [
        "# Stack staging-2 (environment staging), written by `npm run bootstrap -- staging-2`",
        "# (docs/bootstrap.md). docs/configuration.md documents every key. gitlab:token is added",
        "# encrypted by `pulumi config set --secret`; never write credentials here in plain text.",
        "config:",
        "  gitlab:baseUrl: https://gitlab.example.com",
        "  platform:environment: staging",
        "  platform:kubeContext: acme/platform:staging",
        "  platform:gitlab:",
        "    projectPath: acme/platform",
        "",
      ].join("\n"),
      added: [
        "gitlab:baseUrl",
        "platform:environment",
        "platform:kubeContext",
        "platform:gitlab.projectPath",
      ],
      conflicts: [],
    });
    expect(parseDocument(plan.text).toJS()).toEqual({
      config: {
        "gitlab:baseUrl": "https://gitlab.example.com",
        "platform:environment": "staging",
        "platform:kubeContext": "acme/platform:staging",
        "platform:gitlab": { projectPath: "acme/platform" },
      },
    });
  });

  test("the editor modeline comes first when the repository has the schema", () => {
    expect(header("qa", "dev", true).split("\n")[0]).toBe(
      "# yaml-language-server: $schema=./schema/stack.schema.json",
    );
    expect(header("qa", "dev", false)).not.toContain("yaml-language-server");
  });

  test("a kube context that YAML would read as a number stays a string", () => {
    const plan = planStackFile(
      "qa",
      undefined,
      stackEntries({ kubeContext: "1234" }, { noAgent: false }),
      {
        force: false,
        schema: false,
      },
    );
    expect(plan.text.endsWith('config:\n  platform:kubeContext: "1234"\n')).toBe(true);
  });

  test("the same values in other spellings are not conflicts; the file stays byte for byte", () => {
    const text =
      "config:\n  gitlab:baseUrl: https://gitlab.example.com/ # ours\n  platform:environment: staging\n  platform:kubeContext: acme/platform:staging\n  platform:gitlab: {projectPath: acme/platform}\n";
    expect(
      planStackFile("qa", existing(text), stackEntries(values, { noAgent: false }), {
        force: false,
        schema: true,
      }),
    ).toEqual({ action: "unchanged", text, added: [], conflicts: [] });
  });

  test("without --force a differing value is a conflict and the file keeps its value", () => {
    const text = "config:\n  platform:environment: dev\n";
    const plan = planStackFile(
      "qa",
      existing(text),
      stackEntries({ environment: "staging" }, { noAgent: false }),
      { force: false, schema: false },
    );
    expect(plan).toEqual({
      action: "unchanged",
      text,
      added: [],
      conflicts: [{ key: "platform:environment", file: "dev", given: "staging" }],
    });
    const forced = planStackFile(
      "qa",
      existing(text),
      stackEntries({ environment: "staging" }, { noAgent: false }),
      { force: true, schema: false },
    );
    expect(forced.action).toBe("update");
    expect(forced.text).toBe("config:\n  platform:environment: staging\n");
  });

  test("what an existing file holds", () => {
    const file = existing(
      "encryptionsalt: v1:x\nconfig:\n  gitlab:baseUrl: https://g.example.com\n  platform:kubeContext: 42\n  platform:gitlab:\n    groupPath: acme\n  gitlab:token:\n    secure: v1:abc\n",
    );
    expect(existingValues(file)).toEqual({
      gitlabUrl: "https://g.example.com",
      kubeContext: "42",
      groupPath: "acme",
    });
    expect(hasSecureToken(file)).toBe(true);
    expect(hasSecureToken(existing("config:\n  gitlab:token: glpat-plain\n"))).toBe(false);
    expect(existingValues(undefined)).toEqual({});
  });
});

describe("prerequisites", () => {
  test("the minimum Pulumi version is the one index.ts requires", () => {
    const program = fs.readFileSync(path.join(REPO_ROOT, "index.ts"), "utf8");
    const { major, minor } = MIN_PULUMI_VERSION;
    expect(program).toContain(`await pulumi.requirePulumiVersion(">=${major}.${minor}.0");`);
  });

  test("the kube context is looked up, then asked for its version, through the kubectl given", async () => {
    const calls: (readonly string[])[] = [];
    const kubectl = async (args: readonly string[]): Promise<CommandResult> => {
      calls.push(args);
      return args[0] === "config"
        ? { code: 0, stdout: "a\nqa\n", stderr: "" }
        : { code: 0, stdout: "not json", stderr: "" };
    };
    expect(await checkKubeContext("qa", kubectl)).toEqual({
      status: "ok",
      text: 'kube context "qa" answers (Kubernetes version unknown)',
    });
    expect(calls).toEqual([
      ["config", "get-contexts", "-o", "name"],
      ["--context", "qa", "version", "--output=json", "--request-timeout=10s"],
    ]);
  });

  test("a kubeconfig kubectl cannot read, and one without contexts", async () => {
    const broken = async (): Promise<CommandResult> => ({
      code: 1,
      stdout: "",
      stderr: '\nerror: error loading config file "/root/.kube/config": yaml: line 3\n',
    });
    expect(await checkKubeContext("qa", broken)).toEqual({
      status: "fail",
      text: 'kube context "qa": `kubectl config get-contexts` failed: error: error loading config file "/root/.kube/config": yaml: line 3',
    });
    const empty = async (): Promise<CommandResult> => ({ code: 0, stdout: "", stderr: "" });
    expect((await checkKubeContext("qa", empty)).text).toBe(
      'kube context "qa": not in your kubeconfig (it has none); add it, or point KUBECONFIG at the file that has it',
    );
  });

  test("a token GitLab reports as inactive; one without expiry", async () => {
    const gitlab = await startFakeGitLab();
    try {
      const connection = { host: gitlab.url, token: gitlab.token };
      gitlab.faults.push({
        path: "/personal_access_tokens/self",
        status: 200,
        body: { name: "old", scopes: ["api"], active: false, expires_at: "2024-01-01" },
      });
      expect(await checkToken(connection, true)).toEqual({
        status: "fail",
        text: 'GitLab token "old" is not active (revoked or expired); create a new one with the api scope',
      });
      gitlab.faults.push({
        path: "/personal_access_tokens/self",
        status: 200,
        body: { name: "bot", scopes: ["api", "create_runner"], active: true, expires_at: null },
      });
      expect(await checkToken(connection, true)).toEqual({
        status: "ok",
        text: 'GitLab token "bot": scopes api, create_runner, no expiry',
      });
    } finally {
      await gitlab.close();
    }
  });
});

describe("values", () => {
  test.each<[Record<string, string>, unknown, boolean, string]>([
    [{}, undefined, false, "new"],
    [{}, undefined, true, "existing"],
    [{ PULUMI_CONFIG_PASSPHRASE: "" }, undefined, false, "none"],
    [{ PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secrets/pp" }, undefined, true, "none"],
    [{ PULUMI_SECRETS_PROVIDER: "awskms://alias/x" }, undefined, false, "none"],
    [{}, "gcpkms://projects/p/keys/k", false, "none"],
    [{ PULUMI_SECRETS_PROVIDER: "awskms://alias/x" }, "passphrase", true, "existing"],
  ])("passphrase for env %j, file provider %j, salt %j: %s", (env, provider, salt, need) => {
    expect(passphraseNeed(env, provider, salt)).toBe(need);
  });
});

describe("prompts", () => {
  function fakeTerminal(): RawInput & PassThrough & { modes: boolean[] } {
    const input = new PassThrough() as PassThrough & { modes: boolean[]; isRaw: boolean };
    input.modes = [];
    input.isRaw = false;
    return Object.assign(input, {
      setRawMode(mode: boolean) {
        input.modes.push(mode);
        input.isRaw = mode;
        return input;
      },
    });
  }

  test("a hidden answer is read in raw mode, never echoed; backspace deletes", async () => {
    const input = fakeTerminal();
    const output = new PassThrough();
    const shown: string[] = [];
    output.on("data", (c: Buffer) => shown.push(c.toString()));
    const answer = readHidden(input, output, "Token: ");
    input.write("glpat-abcX\u007fd\r");
    expect(await answer).toBe("glpat-abcd");
    expect(shown.join("")).toBe("Token: \n");
    expect(input.modes).toEqual([true, false]);
  });

  test("Ctrl-C cancels", async () => {
    const input = fakeTerminal();
    const answer = readHidden(input, new PassThrough(), "Token: ");
    input.write("abc\u0003");
    await expect(answer).rejects.toBeInstanceOf(PromptCancelled);
    expect(input.modes).toEqual([true, false]);
  });
});

describe("commands", () => {
  test("standard input reaches the command; its output and exit code come back", async () => {
    const result = await runCommand(
      process.execPath,
      ["-e", "process.stdin.pipe(process.stdout); process.on('exit', () => process.exitCode = 3)"],
      { env: {}, cwd: REPO_ROOT, stdin: "glpat-on-stdin" },
    );
    expect(result).toEqual({ code: 3, stdout: "glpat-on-stdin", stderr: "" });
  });

  test("a command that cannot start is exit code 127 with the reason", async () => {
    const result = await runCommand("/nonexistent/pulumi", ["version"], {
      env: {},
      cwd: REPO_ROOT,
    });
    expect(result.code).toBe(127);
    expect(result.stderr).toBe("spawn /nonexistent/pulumi ENOENT");
  });
});
