import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  backendUrl,
  checkStackName,
  findOnPath,
  main,
  parseArgs,
  plan,
  REPO_ROOT,
  ScriptIO,
} from "../../scripts/pulumi";
import { PolicyConfigError, stackPolicyConfig } from "../../scripts/policy-config";
import { POLICY_NAMES } from "../../policy/levels";

/**
 * The up/preview wrapper, driven against a fake `pulumi` on PATH that records each call (argv, the
 * environment it was given and the policy pack config file it was pointed at) and exits with a
 * code chosen per subcommand.
 */

let binDir: string;
let logFile: string;

beforeEach(() => {
  binDir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
  logFile = path.join(binDir, "calls.jsonl");
  fs.writeFileSync(
    path.join(binDir, "pulumi"),
    [
      `#!${process.execPath}`,
      "const fs = require('fs');",
      "const argv = process.argv.slice(2);",
      "const at = argv.indexOf('--policy-pack-config');",
      "const policyConfig = at >= 0 ? JSON.parse(fs.readFileSync(argv[at + 1], 'utf8')) : undefined;",
      "fs.appendFileSync(process.env.FAKE_PULUMI_LOG, JSON.stringify({ argv, backend: process.env.PULUMI_BACKEND_URL, cwd: process.cwd(), policyConfig }) + '\\n');",
      "const code = Number(process.env['FAKE_PULUMI_EXIT_' + argv[0].toUpperCase()] || 0);",
      "process.exit(code);",
    ].join("\n"),
    { mode: 0o755 },
  );
});

afterEach(() => {
  fs.rmSync(binDir, { recursive: true, force: true });
});

interface Call {
  argv: string[];
  backend: string;
  cwd: string;
  /** The content of the file `--policy-pack-config` named, read while pulumi ran. */
  policyConfig?: Record<string, { enforcementLevel: string; environment: string }>;
}

function calls(): Call[] {
  if (!fs.existsSync(logFile)) {
    return [];
  }
  return fs
    .readFileSync(logFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Call);
}

/** The pack and a config file in a temporary directory of its own, as the run's flags. */
const POLICY_FLAGS = [
  "--policy-pack",
  path.join(REPO_ROOT, "policy"),
  "--policy-pack-config",
  expect.stringMatching(/\/pulumi-policy-[^/]+\/(dev|staging|production)\.json$/),
];

function io(
  env: NodeJS.ProcessEnv,
  interactive = false,
): ScriptIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    env: { PATH: binDir, FAKE_PULUMI_LOG: logFile, ...env },
    cwd: REPO_ROOT,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    interactive,
    out,
    err,
  };
}

describe("argument handling", () => {
  test("parses command, stack and pass-through flags", () => {
    expect(parseArgs(["preview", "dev", "--refresh", "--expect-no-changes"])).toEqual({
      command: "preview",
      stack: "dev",
      passthrough: ["--refresh", "--expect-no-changes"],
    });
  });

  test.each<[string[], string]>([
    [["destroy", "dev"], 'unknown command "destroy"'],
    [["up"], "missing stack name"],
    [["up", "--yes"], "missing stack name"],
    [["up", "../etc"], 'stack name "../etc" must start with a letter or digit'],
    [["up", "qa"], "no Pulumi.qa.yaml in"],
  ])("rejects %j", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });

  test.each(["qa", "review-42", "team.a_1"])("checkStackName accepts %j", (stack) => {
    expect(() => checkStackName(stack)).not.toThrow();
  });

  test.each(["-qa", ".hidden", "a/b", "qa stack", ""])("checkStackName refuses %j", (stack) => {
    expect(() => checkStackName(stack)).toThrow(
      `stack name ${JSON.stringify(stack)} must start with a letter or digit and use only letters, digits, '-', '_' and '.'`,
    );
  });

  test("an unknown stack names the stacks that exist", () => {
    expect(() => parseArgs(["up", "qa"])).toThrow("Stacks here: dev, production, staging");
  });
});

describe("backend selection", () => {
  test("defaults to the repository's local file backend", () => {
    expect(backendUrl({}, "/repo")).toBe("file:///repo/.pulumi-state");
  });

  test("PULUMI_BACKEND_URL overrides it", () => {
    expect(backendUrl({ PULUMI_BACKEND_URL: "s3://state-bucket" }, "/repo")).toBe(
      "s3://state-bucket",
    );
  });

  test("an empty PULUMI_BACKEND_URL counts as unset", () => {
    expect(backendUrl({ PULUMI_BACKEND_URL: "" }, "/repo")).toBe("file:///repo/.pulumi-state");
  });
});

describe("plan", () => {
  const policy = ["--policy-pack", "/repo/policy", "--policy-pack-config", "/tmp/p/staging.json"];

  test("up selects (creating with the passphrase provider) then runs pulumi up with the policy pack", () => {
    expect(plan({ command: "up", stack: "staging", passthrough: ["--yes"] }, {}, policy)).toEqual([
      ["stack", "select", "--create", "staging", "--secrets-provider", "passphrase"],
      ["up", "--refresh", "--stack", "staging", ...policy, "--yes"],
    ]);
  });

  test("preview shows the diff; PULUMI_SECRETS_PROVIDER picks another secrets provider", () => {
    expect(
      plan(
        { command: "preview", stack: "dev", passthrough: [] },
        { PULUMI_SECRETS_PROVIDER: "awskms://alias/x" },
      ),
    ).toEqual([
      ["stack", "select", "--create", "dev", "--secrets-provider", "awskms://alias/x"],
      ["preview", "--diff", "--refresh", "--stack", "dev"],
    ]);
  });
});

describe("running against a fake pulumi", () => {
  test("runs select then preview with the local backend, and creates the state directory", async () => {
    const stateDir = path.join(binDir, "state");
    const streams = io({
      PULUMI_CONFIG_PASSPHRASE: "pw",
      PULUMI_BACKEND_URL: `file://${stateDir}`,
    });
    expect(await main(["preview", "dev"], streams)).toBe(0);
    expect(calls()).toEqual([
      {
        argv: ["stack", "select", "--create", "dev", "--secrets-provider", "passphrase"],
        backend: `file://${stateDir}`,
        cwd: REPO_ROOT,
      },
      {
        argv: ["preview", "--diff", "--refresh", "--stack", "dev", ...POLICY_FLAGS],
        backend: `file://${stateDir}`,
        cwd: REPO_ROOT,
        policyConfig: stackPolicyConfig("dev", REPO_ROOT),
      },
    ]);
    // Every policy at its level, with the stack's environment; the file is gone afterwards.
    const policyConfig = calls()[1]?.policyConfig ?? {};
    expect(Object.keys(policyConfig)).toEqual([...POLICY_NAMES]);
    expect(policyConfig["runner-not-privileged"]).toEqual({
      enforcementLevel: "mandatory",
      environment: "dev",
    });
    expect(fs.existsSync(String(calls()[1]?.argv[8]))).toBe(false);
    expect(fs.statSync(stateDir).isDirectory()).toBe(true);
    expect(streams.out.join("")).toBe(`Using state backend file://${stateDir}\n`);
  });

  test("passes the default backend to pulumi when none is configured", async () => {
    const streams = io({ PULUMI_CONFIG_PASSPHRASE: "pw" });
    expect(await main(["up", "production", "--yes"], streams)).toBe(0);
    expect(calls().map((c) => c.backend)).toEqual([
      `file://${path.join(REPO_ROOT, ".pulumi-state")}`,
      `file://${path.join(REPO_ROOT, ".pulumi-state")}`,
    ]);
    expect(calls()[1]?.argv).toEqual([
      "up",
      "--refresh",
      "--stack",
      "production",
      ...POLICY_FLAGS,
      "--yes",
    ]);
    expect(calls()[1]?.policyConfig?.["app-namespaces-default-deny"]).toEqual({
      enforcementLevel: "mandatory",
      environment: "production",
    });
  });

  test("stops with pulumi's exit code when the stack cannot be selected", async () => {
    const streams = io({
      PULUMI_CONFIG_PASSPHRASE: "pw",
      PULUMI_BACKEND_URL: "s3://bucket",
      FAKE_PULUMI_EXIT_STACK: "255",
    });
    expect(await main(["up", "dev"], streams)).toBe(255);
    expect(calls()).toHaveLength(1);
  });

  test("returns pulumi up's failure code", async () => {
    const streams = io({
      PULUMI_CONFIG_PASSPHRASE: "pw",
      PULUMI_BACKEND_URL: "s3://bucket",
      FAKE_PULUMI_EXIT_UP: "2",
    });
    expect(await main(["up", "dev"], streams)).toBe(2);
    expect(calls()).toHaveLength(2);
  });

  test("without a terminal, a missing passphrase is an error before pulumi runs", async () => {
    const streams = io({ PULUMI_BACKEND_URL: "s3://bucket" });
    expect(await main(["up", "dev"], streams)).toBe(1);
    expect(streams.err.join("")).toBe(
      "error: stacks use the passphrase secrets provider; set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) when running without a terminal.\n",
    );
    expect(calls()).toEqual([]);
  });

  test("at a terminal, pulumi may prompt for the passphrase itself", async () => {
    const streams = io({ PULUMI_BACKEND_URL: "s3://bucket" }, true);
    expect(await main(["preview", "dev"], streams)).toBe(0);
    expect(calls()).toHaveLength(2);
  });

  test("a missing Pulumi CLI gives one clear message and exit code 1", async () => {
    const streams = io({ PULUMI_CONFIG_PASSPHRASE: "pw" });
    const noPulumi = { ...streams, env: { ...streams.env, PATH: path.join(binDir, "empty") } };
    expect(await main(["up", "dev"], noPulumi)).toBe(1);
    expect(streams.err).toEqual([
      "error: the Pulumi CLI was not found on PATH.\nInstall it with `curl -fsSL https://get.pulumi.com | sh` (or see https://www.pulumi.com/docs/install/), then open a new shell.\n",
    ]);
  });

  test("another project directory: its stack file, its policy pack, its default backend, pulumi run there", async () => {
    const project = fs.mkdtempSync(path.join(binDir, "project-"));
    fs.writeFileSync(
      path.join(project, "Pulumi.qa.yaml"),
      "config:\n  platform:environment: dev\n",
    );
    const streams = { ...io({ PULUMI_CONFIG_PASSPHRASE: "pw" }), cwd: project };
    expect(await main(["preview", "qa"], streams)).toBe(0);
    expect(calls()).toEqual([
      {
        argv: ["stack", "select", "--create", "qa", "--secrets-provider", "passphrase"],
        backend: `file://${path.join(project, ".pulumi-state")}`,
        cwd: project,
      },
      {
        argv: [
          "preview",
          "--diff",
          "--refresh",
          "--stack",
          "qa",
          "--policy-pack",
          path.join(project, "policy"),
          "--policy-pack-config",
          expect.stringMatching(/\/pulumi-policy-[^/]+\/qa\.json$/),
        ],
        backend: `file://${path.join(project, ".pulumi-state")}`,
        cwd: project,
        policyConfig: stackPolicyConfig("qa", project),
      },
    ]);
    expect(fs.statSync(path.join(project, ".pulumi-state")).isDirectory()).toBe(true);
    // The repository has no qa stack and keeps no state of it: the directory given was used.
    expect(fs.existsSync(path.join(REPO_ROOT, "Pulumi.qa.yaml"))).toBe(false);
  });

  test("bad arguments exit 1 with the usage", async () => {
    const streams = io({});
    expect(await main(["deploy"], streams)).toBe(1);
    expect(streams.err.join("")).toContain("usage: npm run up -- <stack> [pulumi up flags]");
    expect(calls()).toEqual([]);
  });
});

describe("the policy pack's config, from the stack's file", () => {
  /** A project directory with one stack file. */
  function project(stack: string, yaml: string): string {
    const dir = fs.mkdtempSync(path.join(binDir, "project-"));
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), yaml);
    return dir;
  }

  test("platform:policy sets levels; everything else keeps its default", () => {
    const root = project(
      "qa",
      [
        "config:",
        "  platform:environment: staging",
        "  platform:policy:",
        "    advisory: [containers-restricted]",
        "    mandatory: [app-namespaces-default-deny]",
      ].join("\n"),
    );
    const config = stackPolicyConfig("qa", root);
    expect(config["containers-restricted"]).toEqual({
      enforcementLevel: "advisory",
      environment: "staging",
    });
    expect(config["app-namespaces-default-deny"]).toEqual({
      enforcementLevel: "mandatory",
      environment: "staging",
    });
    expect(config["no-plaintext-credentials"]).toEqual({
      enforcementLevel: "mandatory",
      environment: "staging",
    });
  });

  test.each([
    [
      "config:\n  platform:environment: production\n  platform:policy:\n    advisory: [runner-not-privileged]\n",
      'Pulumi.qa.yaml: policy.advisory[0]: expected a policy production may make advisory (containers-requests-limits), got the security policy "runner-not-privileged"',
    ],
    [
      "config:\n  platform:kubeContext: qa\n",
      "Pulumi.qa.yaml: platform:environment: expected one of dev, staging, production, review, got nothing",
    ],
    [
      "config:\n  platform:environment: prod\n",
      'Pulumi.qa.yaml: platform:environment: expected one of dev, staging, production, review, got "prod"',
    ],
  ])("a stack file the pack cannot take: %j", (yaml, message) => {
    expect(() => stackPolicyConfig("qa", project("qa", yaml))).toThrow(
      new PolicyConfigError(message),
    );
  });

  test("the wrapper refuses such a stack before pulumi runs", async () => {
    const root = project(
      "production",
      "config:\n  platform:environment: production\n  platform:policy:\n    advisory: [no-external-services]\n",
    );
    const streams = { ...io({ PULUMI_CONFIG_PASSPHRASE: "pw" }), cwd: root };
    expect(await main(["up", "production", "--yes"], streams)).toBe(1);
    expect(streams.err).toEqual([
      'error: Pulumi.production.yaml: policy.advisory[0]: expected a policy production may make advisory (containers-requests-limits), got the security policy "no-external-services"\n',
    ]);
    expect(calls()).toEqual([]);
  });
});

describe("findOnPath", () => {
  test("finds executables only", () => {
    fs.writeFileSync(path.join(binDir, "not-executable"), "", { mode: 0o644 });
    expect(findOnPath("pulumi", { PATH: `/nonexistent${path.delimiter}${binDir}` })).toBe(
      path.join(binDir, "pulumi"),
    );
    expect(findOnPath("not-executable", { PATH: binDir })).toBeUndefined();
  });
});

describe("the npm entry point", () => {
  test("`npm run preview -- dev` runs the script through ts-node and streams pulumi's exit code", () => {
    const { spawnSync } = jest.requireActual<typeof import("child_process")>("child_process");
    const result = spawnSync(
      process.execPath,
      [
        require.resolve("ts-node/dist/bin.js"),
        "--transpile-only",
        "scripts/pulumi.ts",
        "preview",
        "dev",
      ],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: `${binDir}${path.delimiter}${path.dirname(process.execPath)}`,
          FAKE_PULUMI_LOG: logFile,
          FAKE_PULUMI_EXIT_PREVIEW: "3",
          PULUMI_CONFIG_PASSPHRASE: "pw",
          PULUMI_BACKEND_URL: "s3://bucket",
        },
        encoding: "utf8",
      },
    );
    expect(result.stdout).toBe("Using state backend s3://bucket\n");
    expect(result.status).toBe(3);
    expect(calls().map((c) => c.argv[0])).toEqual(["stack", "preview"]);
  });
});
