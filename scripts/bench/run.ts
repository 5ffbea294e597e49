import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { mockResource } from "../../test/harness/mocks";
import { engineConfig, serveGitLab } from "../../test/harness/program";
import { generatedApps } from "./apps";

/**
 * One benchmark measurement, in a fresh process (run by scripts/bench.ts), printed as one JSON
 * line; every mode runs under the same mocks:
 * - `program <apps>`: index.ts on the dev stack with that many apps; with `BENCH_INPUTS=<file>`
 *   it also writes every registration's name and inputs there (keeping them all makes that run's
 *   own figures no measurement);
 * - `floor <resources>`: a bare program registering that many plain resources (one input each);
 * - `replay <file>`: a bare program registering, as plain resources, exactly the registrations
 *   (names and resolved inputs) a `program` run wrote: the SDK's cost of the same data, without
 *   Outputs between resources, components or the program's own code.
 *
 * The one script that loads index.ts: measuring the program is its purpose.
 */

/** What one run measured. */
export interface Measurement {
  /** Resources registered (components, providers and custom resources). */
  readonly resources: number;
  /** Loading the program's modules (index.ts and what it imports; the floor has none). */
  readonly loadMs: number;
  /** From calling the program until every registration has completed (wall clock). */
  readonly evalMs: number;
  /** CPU time (user + system) of the process over `evalMs`: what a busy machine does not inflate. */
  readonly evalCpuMs: number;
  /** Peak resident set size of the process, in bytes. */
  readonly maxRssBytes: number;
}

/** One registration as `program` records it for `replay`. */
interface Registration {
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

/**
 * Mocks that count registrations and answer like the test harness's, without recording (but
 * into `registrations` when given).
 */
async function installCountingMocks(
  project: string,
  registrations?: Registration[],
): Promise<{ count: () => number }> {
  let registered = 0;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered++;
        registrations?.push({ name: args.name, inputs: args.inputs as Record<string, unknown> });
        return mockResource(args);
      },
      call(args) {
        throw new Error(`unmocked invoke: ${args.token}`);
      },
    },
    project,
    "dev",
    false,
  );
  return { count: () => registered };
}

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

async function settle(outputs: unknown): Promise<void> {
  for (const value of Object.values((outputs ?? {}) as Record<string, unknown>)) {
    const output: pulumi.Output<unknown> = pulumi.output(value);
    await new Promise((resolve) => output.apply(resolve));
  }
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

async function measureProgram(apps: number): Promise<Measurement> {
  const engine = engineConfig("dev", { config: { "platform:apps": generatedApps(apps) } });
  // The program asks GitLab (/metadata, project ids) before registering anything: the loopback
  // fake answers in this process, a few requests whatever the number of apps.
  const gitlab = await serveGitLab(engine);
  pulumi.runtime.setAllConfig(engine.config, engine.secretKeys);
  const file = process.env["BENCH_INPUTS"];
  const registrations: Registration[] | undefined = file === undefined ? undefined : [];
  const mocks = await installCountingMocks(engine.project, registrations);
  const start = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require(path.resolve(__dirname, "..", "..", "index")) as () => Promise<unknown>;
  const loaded = performance.now();
  const cpu = process.cpuUsage();
  await settle(await program());
  const done = performance.now();
  await gitlab.close();
  const measurement = {
    resources: mocks.count(),
    loadMs: loaded - start,
    evalMs: done - loaded,
    evalCpuMs: cpuMs(process.cpuUsage(cpu)),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  if (file !== undefined) {
    fs.writeFileSync(file, JSON.stringify(registrations));
  }
  return measurement;
}

/** The floors' resource: a custom resource with plain inputs. */
class Plain extends pulumi.CustomResource {
  constructor(name: string, inputs: Record<string, unknown>) {
    super("bench:index:Plain", name, inputs);
  }
}

/** Registers `count` plain resources, the `i`th with `inputs(i)`, and measures that. */
async function measurePlain(
  count: number,
  inputs: (i: number) => Registration,
): Promise<Measurement> {
  const mocks = await installCountingMocks("bench");
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const registration = inputs(i);
    // Names repeat across parents in the program; the floor has no parents.
    new Plain(`${i}-${registration.name}`, { ...registration.inputs });
  }
  await settle({});
  const done = performance.now();
  return {
    resources: mocks.count(),
    loadMs: 0,
    evalMs: done - start,
    evalCpuMs: cpuMs(process.cpuUsage(cpu)),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

async function main(): Promise<void> {
  const [mode, arg] = [process.argv[2], process.argv[3] ?? ""];
  const count = Number(arg);
  let measurement: Measurement;
  if (mode === "program" && Number.isInteger(count)) {
    measurement = await measureProgram(count);
  } else if (mode === "floor" && Number.isInteger(count)) {
    measurement = await measurePlain(count, (i) => ({ name: "plain", inputs: { index: i } }));
  } else if (mode === "replay" && fs.existsSync(arg)) {
    const recorded = JSON.parse(fs.readFileSync(arg, "utf8")) as Registration[];
    measurement = await measurePlain(recorded.length, (i) => recorded[i] as Registration);
  } else {
    throw new Error("usage: run.ts program <apps> | floor <resources> | replay <file>");
  }
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
