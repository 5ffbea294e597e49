import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { installRecorder, RecorderOptions, Resources } from "./mocks";
import { schemaProblems } from "./k8s-schema";

/** Runs `build` (which constructs components) under fresh recording mocks and waits for every registration. */
export async function record<T>(
  build: (provider: k8s.Provider) => T,
  options: RecorderOptions = {},
): Promise<{ resources: Resources; result: T }> {
  const recording = await installRecorder("platform", "test", options);
  const provider = new k8s.Provider("cluster", { context: "test-cluster" });
  const result = build(provider);
  await waitForRegistrations();
  if (recording.unmockedCalls.length > 0) {
    throw new Error(`unmocked invoke(s): ${recording.unmockedCalls.join(", ")}`);
  }
  const resources = new Resources(recording.resources);
  const problems = schemaProblems(resources.all);
  if (problems.length > 0) {
    throw new Error(`schema-invalid objects:\n${problems.join("\n")}`);
  }
  return { resources, result };
}

/** Waits until the runtime has no registration in flight. */
export function waitForRegistrations(): Promise<void> {
  return (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}
