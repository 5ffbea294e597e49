import { ProgramRun, runProgram } from "../harness/program";
import { PackViolation, runPack } from "./harness";

/**
 * The whole pack over what the program declares for every shipped stack (one mocked run per
 * stack), at the levels and environment the wrapper's config file gives that stack: no mandatory
 * violation anywhere, mandatory or advisory.
 */

const STACKS = [
  ["dev", "dev"],
  ["staging", "staging"],
  ["production", "production"],
] as const;
const runs = new Map<string, ProgramRun>();

beforeAll(async () => {
  for (const [stack] of STACKS) {
    runs.set(stack, await runProgram(stack));
  }
}, 300_000);

function run(stack: string): ProgramRun {
  const r = runs.get(stack);
  if (r === undefined || r.error !== undefined) {
    throw new Error(`stack ${stack} did not run: ${r?.error?.message ?? "no run"}`);
  }
  return r;
}

describe.each(STACKS)("the pack over Pulumi.%s.yaml", (stack, environment) => {
  let violations: PackViolation[];
  beforeAll(async () => {
    violations = await runPack(run(stack).resources.all, environment, stack);
  });

  test("no mandatory violation", () => {
    expect(violations.filter((v) => v.level === "mandatory")).toEqual([]);
  });

  test("no advisory violation either: every app namespace has its default deny", () => {
    expect(violations.filter((v) => v.level === "advisory")).toEqual([]);
  });

  test("the checks saw what they guard: the runner, workloads, variables, RBAC, namespaces", () => {
    const types = new Set(run(stack).resources.all.map((r) => r.type));
    for (const type of [
      "kubernetes:helm.sh/v3:Release",
      "kubernetes:apps/v1:Deployment",
      "kubernetes:core/v1:Namespace",
      "kubernetes:core/v1:Secret",
      "kubernetes:rbac.authorization.k8s.io/v1:Role",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
      "pulumi-nodejs:dynamic/gitlab:ProjectVariable",
      "pulumi-nodejs:dynamic/gitlab:UserRunner",
    ]) {
      expect([type, types.has(type)]).toEqual([type, true]);
    }
  });
});
