import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { installRecorder, Resources } from "./mocks";
import { placeholder, readStackConfig, runProgram } from "./program";
import { schemaProblems } from "./k8s-schema";

// Tests here run the whole program: a loaded machine must not turn a slow run into a timeout.
jest.setTimeout(180_000);

/** The harness itself: if it cannot fail, nothing built on it proves anything. */

describe("readStackConfig", () => {
  test("replaces secure values with placeholders and marks their keys secret", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-"));
    const file = path.join(dir, "Pulumi.fixture.yaml");
    fs.writeFileSync(
      file,
      [
        "config:",
        "  gitlab:token:",
        "    secure: v1:abc",
        "  platform:kubeContext: kind",
        "  platform:ciVariables:",
        "    - key: API_TOKEN",
        "      value:",
        "        secure: v1:def",
      ].join("\n"),
    );
    const config = readStackConfig("fixture", file);
    expect(config.project).toBe("platform");
    expect(config.values["gitlab:token"]).toBe(placeholder("gitlab:token"));
    expect(config.values["platform:ciVariables"]).toEqual([
      { key: "API_TOKEN", value: "secret-placeholder-platform-ciVariables-0-value" },
    ]);
    expect(config.values["platform:kubeContext"]).toBe("kind");
    expect(config.secretKeys.sort()).toEqual(["gitlab:token", "platform:ciVariables"]);
    // Project-level values from Pulumi.yaml are applied too.
    expect(config.values["pulumi:disable-default-providers"]).toEqual(["kubernetes", "docker"]);
  });
});

describe("recording mocks", () => {
  test("record inputs, secret input paths and options; fail unmocked invokes", async () => {
    const recording = await installRecorder("platform", "harness");
    const provider = new k8s.Provider("p", { context: "kind" });
    const secret = new k8s.core.v1.ConfigMap(
      "s",
      {
        metadata: { name: "s", namespace: "ns" },
        data: { token: pulumi.secret("t0k3n"), plain: "x" },
      },
      { provider, additionalSecretOutputs: ["data"], ignoreChanges: ["metadata.labels"] },
    );
    await new Promise((resolve) => secret.id.apply(resolve));
    const resources = new Resources(recording.resources);
    const found = resources.find("kubernetes:core/v1:ConfigMap", "s");
    expect(found.inputs).toMatchObject({ data: { token: "t0k3n", plain: "x" } });
    expect(found.secretInputs).toEqual(["data.token"]);
    expect(found.additionalSecretOutputs).toEqual(["data"]);
    expect(found.ignoreChanges).toEqual(["metadata.labels"]);
    expect(found.provider).toContain("pulumi:providers:kubernetes::p");
    expect(() => resources.find("kubernetes:core/v1:ConfigMap", "missing")).toThrow(
      'expected one kubernetes:core/v1:ConfigMap named "missing", found 0 (kubernetes:core/v1:ConfigMap names: s)',
    );
    await expect(pulumi.runtime.invoke("kubernetes:helm:template", {})).rejects.toBeDefined();
    expect(recording.unmockedCalls).toEqual(["kubernetes:helm:template"]);
  });
});

describe("schema validation", () => {
  test("an invalid object is reported; a valid one is not", async () => {
    const { resources: recorded } = await installRecorder("platform", "harness");
    const provider = new k8s.Provider("p", { context: "kind" });
    new k8s.core.v1.Namespace("good", { metadata: { name: "good" } }, { provider });
    new k8s.core.v1.Service(
      "bad",
      // A port number given as a string: TypeScript is bypassed, the schema is not.
      { metadata: { name: "bad" }, spec: { ports: [{ port: "eighty" as unknown as number }] } },
      { provider },
    );
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    const problems = schemaProblems(recorded);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBe(
      'kubernetes:core/v1:Service "bad": data/spec/ports/0/port must be integer',
    );
  });
});

describe("runProgram", () => {
  test("reports the program's exports and which are secret", async () => {
    const run = await runProgram("dev");
    expect(run.error).toBeUndefined();
    expect(run.outputs["environment"]).toBe("dev");
    expect(run.resources.all.length).toBeGreaterThan(0);
  });
});

describe("runs in one test file", () => {
  // runProgram loads the program once per file and calls it per run: module-level state in the
  // program would leak from one run into the next, and this would see it.
  test("a run after another stack's registers exactly what a first run did", async () => {
    const summary = (run: Awaited<ReturnType<typeof runProgram>>) => {
      expect(run.error).toBeUndefined();
      return run.resources.all.map((r) => [r.urn, r.inputs, r.secretInputs, r.dependencies]);
    };
    const first = summary(await runProgram("dev"));
    summary(await runProgram("production"));
    expect(summary(await runProgram("dev"))).toEqual(first);
  });
});
