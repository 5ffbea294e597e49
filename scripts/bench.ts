import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Measurement } from "./bench/run";

/**
 * `npm run bench`: evaluates the program under mocks with 1, 50 and 200 apps (generated from the
 * dev stack, each app its own project) and, next to each, the SDK's own floor on this machine: a
 * bare program registering as many plain resources (one input each), and one registering the
 * program's very registrations as plain resources (same names and inputs, no Outputs between
 * them). Each measurement runs in a fresh process (scripts/bench/run.ts), so memory figures are
 * that run's own peak. `BENCH_SIZES=1,50` picks other sizes.
 */

const SIZES = (process.env["BENCH_SIZES"] ?? "1,50,200").split(",").map(Number);
const RUNNER = path.join(__dirname, "bench", "run.ts");

function measure(args: string[], env: NodeJS.ProcessEnv = {}): Measurement {
  const out = execFileSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", RUNNER, ...args],
    {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as Measurement;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const s = (ms: number) => (ms / 1000).toFixed(1);
const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

const header = [
  "apps",
  "resources",
  "wall s: program / floor / replay",
  "CPU s: program / floor / replay",
  "peak RSS MiB: program / floor / replay",
  "program ÷ floor (CPU, RSS)",
  "program ÷ replay (CPU, RSS)",
];
console.log(`| ${header.join(" | ")} |\n| ${header.map(() => "---").join(" | ")} |`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
try {
  for (const apps of SIZES) {
    const file = path.join(dir, `inputs-${apps}.json`);
    const program = measure(["program", String(apps)]);
    // Another run records the registrations for the replay (recording would skew the measurement).
    measure(["program", String(apps)], { BENCH_INPUTS: file });
    const floor = measure(["floor", String(program.resources)]);
    const replay = measure(["replay", file]);
    const row = [
      String(apps),
      String(program.resources),
      [program, floor, replay].map((m) => s(m.evalMs)).join(" / "),
      [program, floor, replay].map((m) => s(m.evalCpuMs)).join(" / "),
      [program, floor, replay].map((m) => mib(m.maxRssBytes)).join(" / "),
      `${x(program.evalCpuMs, floor.evalCpuMs)}, ${x(program.maxRssBytes, floor.maxRssBytes)}`,
      `${x(program.evalCpuMs, replay.evalCpuMs)}, ${x(program.maxRssBytes, replay.maxRssBytes)}`,
    ];
    console.log(`| ${row.join(" | ")} |`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
