import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * Fake `kubectl`, `flux`, `cosign`, `buildctl-daemonless.sh` and `mvn` executables for running the
 * components' job scripts. Each records its call (argv, and what the test needs to see of its
 * input) as one JSON line in `$FAKE_LOG`, then behaves as the `FAKE_*` variables say.
 */

/** One recorded call. */
export interface FakeCall {
  readonly tool: string;
  readonly argv: string[];
  /** `kubectl apply -f -`: what it read from stdin. */
  readonly stdin?: string;
  /** `flux push artifact`: the files under --path (sorted) and its root kustomization.yaml. */
  readonly artifact?: { files: string[]; kustomization: string };
  /** `buildctl-daemonless.sh`: BUILDKITD_FLAGS and the registry config it was given. */
  readonly buildkitdFlags?: string;
  readonly dockerConfig?: string;
  /** `mvn`: MAVEN_OPTS. */
  readonly mavenOpts?: string;
  /** `cosign`: the ID token and private key it found in its environment. */
  readonly sigstoreIdToken?: string;
  readonly cosignPrivateKey?: string;
}

const PRELUDE = `
const fs = require("fs");
const path = require("path");
const argv = process.argv.slice(2);
const log = (entry) => fs.appendFileSync(process.env.FAKE_LOG, JSON.stringify(entry) + "\\n");
`;

const KUBECTL = `${PRELUDE}
const words = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--namespace") { i++; continue; }
  if (!argv[i].startsWith("-")) { words.push(argv[i]); }
}
const reads = argv.includes("-f") && argv[argv.indexOf("-f") + 1] === "-";
log({ tool: "kubectl", argv, ...(reads ? { stdin: fs.readFileSync(0, "utf8") } : {}) });
const command = words.slice(0, 2).join(" ");
if ((process.env.FAKE_KUBECTL_FAIL || "").split(",").includes(command)) {
  process.stderr.write("error: fake " + command + " failure\\n");
  process.exit(1);
}
if (command === "config use-context") {
  const known = (process.env.FAKE_KUBECTL_CONTEXTS || "").split(",");
  if (!known.includes(words[2])) {
    process.stderr.write('error: no context exists with the name: "' + words[2] + '"\\n');
    process.exit(1);
  }
}
if (command === "rollout status") {
  // Exit codes of successive calls, e.g. "1,0": the rollout fails, the rollback completes.
  const counter = process.env.FAKE_LOG + ".rollout-status";
  const n = fs.existsSync(counter) ? Number(fs.readFileSync(counter, "utf8")) : 0;
  fs.writeFileSync(counter, String(n + 1));
  const codes = (process.env.FAKE_KUBECTL_ROLLOUT_STATUS || "0").split(",").map(Number);
  const code = codes[Math.min(n, codes.length - 1)];
  if (code !== 0) {
    process.stderr.write("error: timed out waiting for the condition\\n");
    process.exit(code);
  }
}
process.stdout.write("fake kubectl: " + command + "\\n");
`;

const FLUX = `${PRELUDE}
let artifact;
if (argv[0] === "push") {
  const dir = argv.find((a) => a.startsWith("--path=")).slice("--path=".length);
  const walk = (d, p) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(d, e.name), p + e.name + "/") : [p + e.name]);
  artifact = {
    files: walk(dir, "").sort(),
    kustomization: fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8"),
  };
}
log({ tool: "flux", argv, ...(artifact ? { artifact } : {}) });
if ((process.env.FAKE_FLUX_FAIL || "") === argv[0]) {
  process.stderr.write("✗ fake flux " + argv[0] + " failure\\n");
  process.exit(1);
}
if (argv[0] === "push" && argv.includes("--output") && argv[argv.indexOf("--output") + 1] === "json") {
  // What flux 2.x prints: the repository, the tag, the pushed digest and the URL.
  const url = argv[2].slice("oci://".length);
  process.stdout.write(JSON.stringify({
    repository: url.slice(0, url.lastIndexOf(":")),
    tag: url.slice(url.lastIndexOf(":") + 1),
    digest: process.env.FAKE_ARTIFACT_DIGEST,
    url: "oci://" + url.slice(0, url.lastIndexOf(":")) + "@" + process.env.FAKE_ARTIFACT_DIGEST,
  }, null, 2) + "\\n");
}
`;

const COSIGN = `${PRELUDE}
log({
  tool: "cosign",
  argv,
  sigstoreIdToken: process.env.SIGSTORE_ID_TOKEN,
  cosignPrivateKey: process.env.COSIGN_PRIVATE_KEY,
});
if (process.env.FAKE_COSIGN_FAIL === "1") {
  process.stderr.write("Error: signing: fake failure\\n");
  process.exit(1);
}
`;

const BUILDCTL = `${PRELUDE}
const config = path.join(process.env.DOCKER_CONFIG || "/nonexistent", "config.json");
log({
  tool: "buildctl-daemonless.sh",
  argv,
  buildkitdFlags: process.env.BUILDKITD_FLAGS,
  dockerConfig: fs.existsSync(config) ? fs.readFileSync(config, "utf8") : undefined,
});
const metadata = argv[argv.indexOf("--metadata-file") + 1];
fs.writeFileSync(metadata, JSON.stringify({
  "containerimage.config.digest": "sha256:" + "c".repeat(64),
  "containerimage.digest": process.env.FAKE_IMAGE_DIGEST,
}, null, 2));
`;

const MVN = `${PRELUDE}
log({ tool: "mvn", argv, mavenOpts: process.env.MAVEN_OPTS });
if (argv.includes("com.google.cloud.tools:jib-maven-plugin:build")) {
  fs.mkdirSync("target", { recursive: true });
  fs.writeFileSync("target/jib-image.digest", process.env.FAKE_IMAGE_DIGEST);
}
`;

const SOURCES: Readonly<Record<string, string>> = {
  kubectl: KUBECTL,
  flux: FLUX,
  cosign: COSIGN,
  "buildctl-daemonless.sh": BUILDCTL,
  mvn: MVN,
};

/** A temp directory with the fake tools (first on PATH) and the call log. */
export interface FakeTools {
  readonly dir: string;
  readonly binDir: string;
  readonly log: string;
  /** The calls so far, in order. */
  calls(): FakeCall[];
  remove(): void;
}

export function fakeTools(): FakeTools {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-tools-"));
  const binDir = path.join(dir, "bin");
  fs.mkdirSync(binDir);
  for (const [name, source] of Object.entries(SOURCES)) {
    fs.writeFileSync(path.join(binDir, name), `#!${process.execPath}\n${source}`, { mode: 0o755 });
  }
  const log = path.join(dir, "calls.jsonl");
  return {
    dir,
    binDir,
    log,
    calls: () =>
      fs.existsSync(log)
        ? fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line) as FakeCall)
        : [],
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** What a job script did. */
export interface ScriptResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a job's `script` items as GitLab Runner does with a POSIX shell: one shell, the items in
 * order. Only `env` is in the environment (plus PATH with the fakes first and the system tools).
 */
export function runJobScript(
  script: readonly string[],
  env: Readonly<Record<string, string>>,
  tools: FakeTools,
  cwd: string,
): ScriptResult {
  const file = path.join(tools.dir, "job.sh");
  fs.writeFileSync(file, script.join("\n"));
  const result = spawnSync("/bin/sh", [file], {
    cwd,
    encoding: "utf8",
    env: {
      ...env,
      PATH: `${tools.binDir}:/usr/local/bin:/usr/bin:/bin`,
      FAKE_LOG: tools.log,
      HOME: tools.dir,
      TMPDIR: tools.dir,
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
