import { ProgramRun, runProgram } from "../harness/program";
import { schemaProblems } from "../harness/k8s-schema";

/** The whole program, once per shipped stack file. */

const STACKS = ["dev", "staging", "production"] as const;
const runs = new Map<string, ProgramRun>();

beforeAll(async () => {
  for (const stack of STACKS) {
    runs.set(stack, await runProgram(stack));
  }
});

function run(stack: string): ProgramRun {
  const r = runs.get(stack);
  if (r === undefined) {
    throw new Error(`no run for ${stack}`);
  }
  return r;
}

describe.each(STACKS)("stack %s", (stack) => {
  test("runs without error", () => {
    expect(run(stack).error).toBeUndefined();
  });

  test("every Kubernetes object is schema-valid", () => {
    expect(schemaProblems(run(stack).resources.all)).toEqual([]);
  });

  test("deploys only through one explicit provider for the stack's own context", () => {
    const providers = run(stack).resources.ofType("pulumi:providers:kubernetes");
    expect(
      providers.map((p) => [p.name, p.inputs["context"], p.inputs["enableServerSideApply"]]),
    ).toEqual([["cluster", `${stack}-cluster`, "true"]]);
    const clusterUrn = providers[0]?.urn ?? "";
    for (const resource of run(stack).resources.all) {
      if (resource.custom && resource.type.startsWith("kubernetes:")) {
        expect(`${resource.type} ${resource.name} ${resource.provider.split("::")[3] ?? ""}`).toBe(
          `${resource.type} ${resource.name} ${clusterUrn.split("::")[3]}`,
        );
      }
    }
  });

  test("exports the environment and kube context", () => {
    expect(run(stack).outputs).toMatchObject({
      environment: stack,
      kubeContext: `${stack}-cluster`,
    });
  });
});
