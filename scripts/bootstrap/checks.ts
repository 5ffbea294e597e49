import * as fs from "fs";
import * as path from "path";
import { Connection, normalizeBaseUrl } from "../../components/gitlab/client";
import { ConfigError, EnvironmentConfig } from "../../stacks";
import { Kubectl } from "./command";
import { ValueName } from "./options";
import { Outcome, checkInstance, checkKubeContext, checkPulumi, checkToken } from "./prerequisites";
import {
  ExistingFile,
  STACK_SCHEMA,
  StackFilePlan,
  agentNameFor,
  existingValues,
  planStackFile,
  stackEntries,
  validateStackText,
} from "./stack-file";

/**
 * Every check before the first write, in order, each reported as it finishes. They all run (a
 * missing Pulumi CLI does not hide an unreachable cluster); only the GitLab instance check waits
 * for a valid config and a working token, which it needs.
 */

/** What the checks work on. */
export interface CheckInput {
  readonly stack: string;
  readonly root: string;
  /** The environment for commands, with a prompted passphrase added. */
  readonly env: NodeJS.ProcessEnv;
  readonly values: Readonly<Partial<Record<ValueName, string>>>;
  readonly token: string;
  readonly existing: ExistingFile | undefined;
  readonly noAgent: boolean;
  readonly force: boolean;
  readonly kubectl: Kubectl | undefined;
}

/** How the checks went, and what the writes will need. */
export interface CheckResult {
  readonly failures: number;
  readonly pulumiCli: string | undefined;
  /** The stack file to write (or keep). */
  readonly plan: StackFilePlan;
}

const skip = (text: string): Outcome => ({ status: "skip", text });

export async function runChecks(
  input: CheckInput,
  report: (outcome: Outcome) => void,
): Promise<CheckResult> {
  let failures = 0;
  const note = (outcome: Outcome): boolean => {
    report(outcome);
    failures += outcome.status === "fail" ? 1 : 0;
    return outcome.status === "ok";
  };
  const fileName = `Pulumi.${input.stack}.yaml`;
  const schema = fs.existsSync(path.join(input.root, STACK_SCHEMA));
  const agentName = agentNameFor(input.stack, input.values.environment, input.noAgent);

  const pulumi = await checkPulumi(input.env, input.root);
  note(pulumi.outcome);
  note(await checkKubeContext(input.values.kubeContext ?? "", input.kubectl));

  // The values as they would be written (a conflicting value replaced by the one given), through
  // the program's own validation; the ids GitLab gives are added once it has been asked.
  const draft = planStackFile(
    input.stack,
    input.existing,
    stackEntries(input.values, { agentName, noAgent: input.noAgent }),
    { force: true, schema },
  );
  let config: EnvironmentConfig | undefined;
  try {
    config = validateStackText(input.stack, input.root, draft.text, input.env);
    const apps = config.apps.length;
    note({
      status: "ok",
      text: `${fileName}: the values pass the program's validation (environment ${config.environment}, ${apps} ${apps === 1 ? "app" : "apps"})`,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    note({
      status: "fail",
      text: [
        `${fileName}: the values do not pass the program's validation:`,
        ...error.problems.map((p) => `- ${p}`),
      ].join("\n"),
    });
  }

  let connection: Connection | undefined;
  try {
    connection = { host: normalizeBaseUrl(input.values.gitlabUrl ?? ""), token: input.token };
  } catch {
    connection = undefined;
  }
  const runner = config?.features.runner ?? input.values.environment !== "review";
  const tokenOk =
    connection === undefined
      ? note(skip("GitLab token: not checked (needs a valid GitLab URL)"))
      : note(await checkToken(connection, runner));

  let ids: { projectId?: number; groupId?: number } = {};
  if (connection !== undefined && config !== undefined && tokenOk) {
    // An id the file pins is checked against GitLab, unless the path it belongs to changes with
    // this run: then it is stale, and GitLab's id for the new path replaces it (--force).
    const fromFile = existingValues(input.existing);
    const gitlab = {
      ...config.gitlab,
      projectId:
        fromFile.projectPath === config.gitlab.projectPath ? config.gitlab.projectId : undefined,
      groupId: fromFile.groupPath === config.gitlab.groupPath ? config.gitlab.groupId : undefined,
    };
    const instance = await checkInstance(connection, { ...config, gitlab });
    note(instance.outcome);
    ids = {
      projectId: instance.platform?.gitlab.projectId,
      groupId: instance.platform?.gitlab.groupId,
    };
  } else {
    const needs = [
      ...(config === undefined ? ["valid values"] : []),
      ...(tokenOk ? [] : ["a working token"]),
    ];
    note(skip(`GitLab instance, project and group: not checked (needs ${needs.join(" and ")})`));
  }

  const plan = planStackFile(
    input.stack,
    input.existing,
    stackEntries(input.values, { ...ids, agentName, noAgent: input.noAgent }),
    { force: input.force, schema },
  );
  note(fileOutcome(fileName, plan, input.force));
  return { failures, pulumiCli: pulumi.cli, plan };
}

function fileOutcome(fileName: string, plan: StackFilePlan, force: boolean): Outcome {
  const conflicts = plan.conflicts.map(
    (c) => `- ${c.key}: ${JSON.stringify(c.file)} in the file, ${JSON.stringify(c.given)} given`,
  );
  if (conflicts.length > 0 && !force) {
    return {
      status: "fail",
      text: [`${fileName} exists with other values (--force replaces them):`, ...conflicts].join(
        "\n",
      ),
    };
  }
  switch (plan.action) {
    case "create":
      return { status: "ok", text: `${fileName}: new, to be written` };
    case "unchanged":
      return { status: "ok", text: `${fileName}: exists with these values` };
    case "update": {
      const parts = [
        ...(plan.added.length > 0 ? [`to get ${plan.added.join(", ")}`] : []),
        ...(conflicts.length > 0
          ? [`to have ${plan.conflicts.map((c) => c.key).join(", ")} replaced (--force)`]
          : []),
      ];
      return { status: "ok", text: `${fileName}: exists, ${parts.join("; ")}` };
    }
  }
}
