import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { ENVIRONMENTS } from "../stacks/model";
import {
  PolicyConfigEntry,
  PolicyName,
  PolicySettingsError,
  isEnvironment,
  policyPackConfig,
} from "../policy/levels";

/**
 * The policy pack every `pulumi preview|up` of a stack runs with (`npm run preview|up`, the
 * pipeline's previews, deploys and drift checks): the pack in `policy/` and a config file made
 * from the stack's file, `Pulumi.<stack>.yaml` — its `platform:environment` and its
 * `platform:policy` levels (see policy/levels.ts). Read without Pulumi and without secrets.
 */

/** Thrown for a stack file whose environment or policy levels cannot make a config. */
export class PolicyConfigError extends Error {}

/** The policy pack's directory under `root`. */
export function policyPackDir(root: string): string {
  return path.join(root, "policy");
}

/** The config file's content for `stack`, from `root/Pulumi.<stack>.yaml`. */
export function stackPolicyConfig(
  stack: string,
  root: string,
): Record<PolicyName, PolicyConfigEntry> {
  const file = `Pulumi.${stack}.yaml`;
  const parsed = parse(fs.readFileSync(path.join(root, file), "utf8")) as {
    config?: Record<string, unknown> | null;
  } | null;
  const config = parsed?.config ?? {};
  const environment = config["platform:environment"];
  if (!isEnvironment(environment)) {
    throw new PolicyConfigError(
      `${file}: platform:environment: expected one of ${ENVIRONMENTS.join(", ")}, got ${environment === undefined ? "nothing" : JSON.stringify(environment)}`,
    );
  }
  try {
    return policyPackConfig(environment, config["platform:policy"]);
  } catch (error) {
    if (error instanceof PolicySettingsError) {
      throw new PolicyConfigError(error.problems.map((p) => `${file}: ${p}`).join("\n"));
    }
    throw error;
  }
}

/** The pack and its config file, as `pulumi preview|up` flags. */
export function policyFlags(packDir: string, configFile: string): string[] {
  return ["--policy-pack", packDir, "--policy-pack-config", configFile];
}

/**
 * Writes the config file for `stack` into a fresh temporary directory, runs `use` with the
 * `--policy-pack …` flags (and the directory, for other files of the run), and removes the
 * directory afterwards. Throws {@link PolicyConfigError} before `use` runs when the stack file
 * says something the pack cannot take.
 */
export async function withPolicyConfig<T>(
  stack: string,
  root: string,
  use: (flags: string[], dir: string) => Promise<T>,
): Promise<T> {
  const config = stackPolicyConfig(stack, root);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-policy-"));
  try {
    const file = path.join(dir, `${stack}.json`);
    fs.writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
    return await use(policyFlags(policyPackDir(root), file), dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
