import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * Fake `pulumi` and `kubectl` executables for the bootstrap tests. Each records its call (argv;
 * for pulumi also standard input, the backend and the passphrase it was given) as one JSON line in
 * `$FAKE_LOG`. The fake pulumi keeps its stacks in `$FAKE_PULUMI_STACKS` and edits
 * `Pulumi.<stack>.yaml` the way the real one does (`stack init` adds `encryptionsalt`, `config set
 * --secret` adds a `secure:` value), so a second run sees what a real first run leaves behind.
 */

/** One recorded call. */
export interface FakeCall {
  readonly tool: "pulumi" | "kubectl";
  readonly argv: string[];
  /** pulumi: what it read from standard input (`config set` only). */
  readonly stdin?: string;
  /** PULUMI_BACKEND_URL (pulumi) and PULUMI_CONFIG_PASSPHRASE (both) as the tool saw them. */
  readonly backend?: string;
  readonly passphrase?: string;
}

/** The salt the fake `stack init` writes. */
export const FAKE_SALT = "v1:ZmFrZS1zYWx0:v1:ZmFrZS1ub25jZQ==:ZmFrZS1jaGVjaw==";
/** The ciphertext the fake `config set --secret` writes, whatever the value. */
export const FAKE_CIPHERTEXT = "v1:ZmFrZS1ub25jZQ==:ZmFrZS1jaXBoZXJ0ZXh0";
/** What the fake `kubectl version` reports for the server. */
export const FAKE_SERVER_VERSION = "v1.33.4";

const PRELUDE = `
const fs = require("fs");
const path = require("path");
const argv = process.argv.slice(2);
const log = (entry) => fs.appendFileSync(process.env.FAKE_LOG, JSON.stringify(entry) + "\\n");
const fail = (message, code) => { process.stderr.write(message + "\\n"); process.exit(code); };
`;

const PULUMI = (yamlModule: string) => `${PRELUDE}
// Loaded by the calls that edit a stack file only: most calls (version, stack select, preview)
// never read YAML, and requiring the package costs each call about as much as starting node.
let yaml;
const parseDocument = (text) => (yaml ??= require(${JSON.stringify(yamlModule)})).parseDocument(text);
const stdin = argv[0] === "config" ? fs.readFileSync(0, "utf8") : undefined;
log({
  tool: "pulumi",
  argv,
  ...(stdin === undefined ? {} : { stdin }),
  backend: process.env.PULUMI_BACKEND_URL,
  passphrase: process.env.PULUMI_CONFIG_PASSPHRASE,
});
const stacksFile = process.env.FAKE_PULUMI_STACKS;
const stacks = fs.existsSync(stacksFile) ? JSON.parse(fs.readFileSync(stacksFile, "utf8")) : [];
const save = () => fs.writeFileSync(stacksFile, JSON.stringify(stacks));
const words = argv.filter((a) => !a.startsWith("-"));
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const needPassphrase = () => {
  if (process.env.PULUMI_CONFIG_PASSPHRASE === undefined) {
    fail("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables", 255);
  }
};
const editStackFile = (stack, edit) => {
  const file = path.join(process.cwd(), "Pulumi." + stack + ".yaml");
  const doc = parseDocument(fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
  edit(doc);
  fs.writeFileSync(file, doc.toString());
};
if ((process.env.FAKE_PULUMI_FAIL || "") === words.slice(0, 2).join(" ")) {
  fail("error: fake failure of " + words.slice(0, 2).join(" ") + " (input: " + (stdin || "") + ")", 255);
}
if (argv[0] === "version") {
  process.stdout.write((process.env.FAKE_PULUMI_VERSION || "v3.248.0") + "\\n");
} else if (words[0] === "stack" && words[1] === "select") {
  const stack = argv.includes("--create") ? option("--create") : words[2];
  if (!stacks.includes(stack)) {
    if (!argv.includes("--create")) {
      fail("error: no stack named '" + stack + "' found", 255);
    }
    stacks.push(stack);
    save();
  }
} else if (words[0] === "stack" && words[1] === "init") {
  const stack = words[2];
  if (stacks.includes(stack)) {
    fail("error: stack '" + stack + "' already exists", 255);
  }
  if (option("--secrets-provider") === "passphrase") {
    needPassphrase();
    editStackFile(stack, (doc) => doc.set("encryptionsalt", ${JSON.stringify(FAKE_SALT)}));
  }
  stacks.push(stack);
  save();
} else if (words[0] === "config" && words[1] === "set") {
  const stack = option("--stack");
  if (!stacks.includes(stack)) {
    fail("error: no stack named '" + stack + "' found", 255);
  }
  const file = path.join(process.cwd(), "Pulumi." + stack + ".yaml");
  if (fs.existsSync(file) && parseDocument(fs.readFileSync(file, "utf8")).get("encryptionsalt")) {
    needPassphrase();
  }
  editStackFile(stack, (doc) =>
    doc.setIn(["config", words[2]], argv.includes("--secret") ? { secure: ${JSON.stringify(FAKE_CIPHERTEXT)} } : stdin),
  );
} else if (argv[0] === "preview") {
  process.exit(Number(process.env.FAKE_PULUMI_EXIT_PREVIEW || 0));
} else {
  fail("fake pulumi: unexpected " + argv.join(" "), 99);
}
`;

const KUBECTL = `${PRELUDE}
log({ tool: "kubectl", argv, passphrase: process.env.PULUMI_CONFIG_PASSPHRASE });
const contexts = (process.env.FAKE_KUBE_CONTEXTS || "").split(",").filter((c) => c !== "");
if (argv.join(" ") === "config get-contexts -o name") {
  process.stdout.write(contexts.map((c) => c + "\\n").join(""));
} else if (argv[0] === "--context" && argv[2] === "version") {
  const client = { clientVersion: { gitVersion: "v1.34.1" } };
  if (!contexts.includes(argv[1])) {
    fail("error: context was not found for specified context: " + argv[1], 1);
  }
  if ((process.env.FAKE_KUBE_UNREACHABLE || "").split(",").includes(argv[1])) {
    process.stdout.write(JSON.stringify(client));
    fail("Unable to connect to the server: dial tcp 10.11.12.13:6443: i/o timeout", 1);
  }
  process.stdout.write(JSON.stringify({ ...client, serverVersion: { gitVersion: ${JSON.stringify(FAKE_SERVER_VERSION)} } }));
} else {
  fail("fake kubectl: unexpected " + argv.join(" "), 99);
}
`;

/** A temp directory with the fakes in `binDir`, their log and the fake pulumi's stacks. */
export interface BootstrapFakes {
  readonly dir: string;
  readonly binDir: string;
  /** The environment the fakes read (add PATH: binDir). */
  readonly env: Record<string, string>;
  calls(tool?: FakeCall["tool"]): FakeCall[];
  /** The stacks the fake pulumi has created. */
  stacks(): string[];
  remove(): void;
}

export function bootstrapFakes(): BootstrapFakes {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-fakes-"));
  const binDir = path.join(dir, "bin");
  fs.mkdirSync(binDir);
  const shebang = `#!${process.execPath}\n`;
  fs.writeFileSync(path.join(binDir, "pulumi"), shebang + PULUMI(require.resolve("yaml")), {
    mode: 0o755,
  });
  fs.writeFileSync(path.join(binDir, "kubectl"), shebang + KUBECTL, { mode: 0o755 });
  const log = path.join(dir, "calls.jsonl");
  const stacksFile = path.join(dir, "stacks.json");
  return {
    dir,
    binDir,
    env: { FAKE_LOG: log, FAKE_PULUMI_STACKS: stacksFile },
    calls: (tool) =>
      (fs.existsSync(log)
        ? fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line) as FakeCall)
        : []
      ).filter((c) => tool === undefined || c.tool === tool),
    stacks: () =>
      fs.existsSync(stacksFile)
        ? (JSON.parse(fs.readFileSync(stacksFile, "utf8")) as string[])
        : [],
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
