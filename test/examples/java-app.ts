import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { readTree, REPO_ROOT, scratchRepo, seedComponents } from "../harness/gitlab-ci-local";

/** The example app's directory. */
export const EXAMPLE_DIR = path.join(REPO_ROOT, "examples", "java-app");

/** The example's GitLab project and the platform project its components come from. */
export const EXAMPLE_PROJECT = "acme/java-app";
export const COMPONENT_PROJECT = "acme/platform";
export const COMPONENT_VERSION = "1.0.0";

/** The name of the job {@link exampleRepo} adds to evaluate the example's workflow:rules. */
export const WORKFLOW_PROBE = "workflow-probe";

/**
 * A scratch copy of examples/java-app as project acme/java-app, with this tree's components in
 * gitlab-ci-local's include cache as acme/platform@1.0.0 (what the example includes), so the
 * example's `.gitlab-ci.yml` is used exactly as written. Build output (target/, .m2/) is left out.
 *
 * With `probe`, the copy's `.gitlab-ci.yml` gains one job whose rules are the example's
 * `workflow:rules`: gitlab-ci-local 4.60 never evaluates workflow:rules, but it evaluates job
 * rules, so the probe's `when` says whether GitLab would create the pipeline at all.
 */
export async function exampleRepo(probe: boolean): Promise<string> {
  const files = Object.fromEntries(
    Object.entries(readTree(EXAMPLE_DIR)).filter(
      ([file]) => !file.startsWith("target/") && !file.startsWith(".m2/"),
    ),
  );
  if (probe) {
    const config = parse(files[".gitlab-ci.yml"] as string) as {
      workflow: { rules: unknown[] };
    };
    files[".gitlab-ci.yml"] = stringify({
      ...config,
      [WORKFLOW_PROBE]: { stage: "build", script: ["true"], rules: config.workflow.rules },
    });
  }
  const { dir } = await scratchRepo(EXAMPLE_PROJECT, files);
  seedComponents(dir, COMPONENT_PROJECT, COMPONENT_VERSION);
  return dir;
}

/** A file of the example, parsed as YAML (every document). */
export function exampleYaml(file: string): unknown {
  return parse(fs.readFileSync(path.join(EXAMPLE_DIR, file), "utf8"));
}
