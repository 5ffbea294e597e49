import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import {
  SECURE_PLACEHOLDER,
  main,
  readStackSource,
  stackNames,
  stackSource,
  validateStack,
} from "../../scripts/validate-config";
import { REPO_ROOT, ScriptIO } from "../../scripts/pulumi";

/** Config validation without secrets or a cluster, over the shipped stacks and broken copies. */

function io(): ScriptIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    env: {},
    cwd: REPO_ROOT,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    interactive: false,
    out,
    err,
  };
}

const TOKEN_REMARK = (stack: string) =>
  `  note: gitlab:token is not in Pulumi.${stack}.yaml: the program will need GITLAB_TOKEN (or pulumi config set --secret gitlab:token)`;

test("every shipped stack is valid", () => {
  const streams = io();
  expect(main([], streams)).toBe(0);
  expect(streams.out.join("")).toBe(
    [
      "dev: valid (environment dev, 2 apps)",
      TOKEN_REMARK("dev"),
      "production: valid (environment production, 2 apps)",
      TOKEN_REMARK("production"),
      "staging: valid (environment staging, 3 apps)",
      TOKEN_REMARK("staging"),
      "3 of 3 stacks valid",
      "",
    ].join("\n"),
  );
  expect(streams.err).toEqual([]);
});

describe("a project with broken and secret-holding stack files", () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "validate-config-"));
    fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
    for (const stack of ["dev", "staging"]) {
      fs.copyFileSync(
        path.join(REPO_ROOT, `Pulumi.${stack}.yaml`),
        path.join(root, `Pulumi.${stack}.yaml`),
      );
    }
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  const edit = (stack: string, from: string, to: string) => {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    const text = fs.readFileSync(file, "utf8");
    expect(text).toContain(from);
    fs.writeFileSync(file, text.replace(from, to));
  };

  test("every problem of every stack is printed; the exit code says one failed", () => {
    edit("staging", "port: 8080", "port: 80800");
    edit("staging", "  platform:runner:\n", "  platform:runer:\n");
    const streams = io();
    expect(main([], streams, root)).toBe(1);
    expect(streams.err.join("")).toBe(
      [
        'Invalid configuration for stack "staging" (2 problems):',
        "  - apps[0].port: expected a port 1-65535, got 80800",
        '  - runer: expected a known key (did you mean "runner"?), got an unknown key',
        TOKEN_REMARK("staging"),
        "",
      ].join("\n"),
    );
    expect(streams.out.join("")).toBe(
      ["dev: valid (environment dev, 2 apps)", TOKEN_REMARK("dev"), "1 of 2 stacks valid", ""].join(
        "\n",
      ),
    );
  });

  test("a secret token in the file counts as set; other secure values are named as unchecked", () => {
    fs.appendFileSync(
      path.join(root, "Pulumi.dev.yaml"),
      [
        "  gitlab:token:",
        "    secure: v1:Qmc2a1b2c3d4:ZXhhbXBsZS1jaXBoZXJ0ZXh0",
        "encryptionsalt: v1:c2FsdHNhbHQ=:v1:aXZpdml2:c2FsdA==",
        "",
      ].join("\n"),
    );
    edit(
      "dev",
      "    - key: LOG_LEVEL\n      value: debug\n      credential: false\n",
      "    - key: LOG_LEVEL\n      value: debug\n      credential: false\n    - key: SENTRY_DSN\n      value:\n        secure: v1:ZGVmZ2g=:c2VjcmV0\n      masked: true\n",
    );
    const { source, remarks } = readStackSource("dev", root);
    expect(source.gitlabToken).toBe("secret-config");
    expect((source.values["ciVariables"] as { value: unknown }[])[1]?.value).toBe(
      SECURE_PLACEHOLDER,
    );
    expect(remarks).toEqual(["secure values not decrypted, so not checked: platform:ciVariables"]);
    expect(validateStack("dev", root)).toEqual({
      ok: true,
      text: "dev: valid (environment dev, 2 apps)\n  note: secure values not decrypted, so not checked: platform:ciVariables",
    });
  });

  test("a plaintext token in the file is a problem", () => {
    fs.appendFileSync(path.join(root, "Pulumi.dev.yaml"), "  gitlab:token: glpat-plaintext\n");
    expect(validateStack("dev", root)).toEqual({
      ok: false,
      text: 'Invalid configuration for stack "dev" (1 problem):\n  - gitlab:token: expected a secret GitLab access token (pulumi config set --secret gitlab:token …, or GITLAB_TOKEN), got a plaintext value',
    });
  });

  test("values are read as the engine passes them: text, then decoded like the loader", () => {
    edit("dev", "platform:kubeContext: dev-cluster", 'platform:kubeContext: "1234"');
    const { source } = readStackSource("dev", root);
    expect(source.values["kubeContext"]).toBe("1234");
    expect(source.values["gitlab"]).toEqual({
      projectPath: "acme/platform",
      projectId: 1001,
      groupPath: "acme",
      groupId: 1000,
    });
    expect(source.gitlabBaseUrl).toBe("https://gitlab.example.com");
  });

  test("stackSource reads documents not on disk the way readStackSource reads the files", () => {
    const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as unknown;
    const onDisk = parse(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as unknown;
    expect(stackSource("dev", project, onDisk)).toEqual(readStackSource("dev", root));
    const draft = {
      config: {
        "gitlab:baseUrl": "https://gitlab.example.com",
        "gitlab:token": { secure: "v1:not-decrypted" },
        "platform:environment": "dev",
        "platform:kubeContext": 1234,
        "platform:gitlab": { projectPath: "acme/platform" },
      },
    };
    expect(stackSource("qa", project, draft)).toEqual({
      source: {
        project: "platform",
        stack: "qa",
        values: {
          environment: "dev",
          kubeContext: "1234",
          gitlab: { projectPath: "acme/platform" },
        },
        gitlabBaseUrl: "https://gitlab.example.com",
        gitlabToken: "secret-config",
      },
      remarks: [],
    });
    expect(fs.existsSync(path.join(root, "Pulumi.qa.yaml"))).toBe(false);
  });

  test("GITLAB_BASE_URL stands in for a missing gitlab:baseUrl", () => {
    edit("dev", "  gitlab:baseUrl: https://gitlab.example.com\n", "");
    expect(readStackSource("dev", root, {}).source.gitlabBaseUrl).toBeUndefined();
    expect(
      readStackSource("dev", root, { GITLAB_BASE_URL: "https://env.example.com" }).source
        .gitlabBaseUrl,
    ).toBe("https://env.example.com");
  });

  test.each<[string, () => void, string[], string]>([
    ["an unknown stack", () => undefined, ["qa"], "error: no Pulumi.qa.yaml in "],
    [
      "a stack file that is not YAML",
      () => fs.writeFileSync(path.join(root, "Pulumi.dev.yaml"), "config: [unclosed\n"),
      ["dev"],
      "error: Pulumi.dev.yaml: not valid YAML (",
    ],
  ])("%s is a usage error", (_, setUp, argv, message) => {
    setUp();
    const streams = io();
    expect(main(argv, streams, root)).toBe(1);
    expect(streams.err.join("").startsWith(message)).toBe(true);
  });

  test("only the stacks named are checked", () => {
    edit("staging", "port: 8080", "port: 0");
    const streams = io();
    expect(main(["dev"], streams, root)).toBe(0);
    expect(streams.out.join("")).toContain("1 of 1 stack valid\n");
  });

  test("stack names come from the files", () => {
    fs.writeFileSync(path.join(root, "Pulumi.review-42.yaml"), "config: {}\n");
    expect(stackNames(root)).toEqual(["dev", "review-42", "staging"]);
  });
});

test("`npm run validate-config` runs through ts-node and exits 0", () => {
  const { spawnSync } = jest.requireActual<typeof import("child_process")>("child_process");
  const result = spawnSync(
    process.execPath,
    [
      require.resolve("ts-node/dist/bin.js"),
      "--transpile-only",
      "scripts/validate-config.ts",
      "dev",
    ],
    { cwd: REPO_ROOT, env: { PATH: path.dirname(process.execPath) }, encoding: "utf8" },
  );
  expect(result.stdout).toBe(
    ["dev: valid (environment dev, 2 apps)", TOKEN_REMARK("dev"), "1 of 1 stack valid", ""].join(
      "\n",
    ),
  );
  expect(result.status).toBe(0);
});
