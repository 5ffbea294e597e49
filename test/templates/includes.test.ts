import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { REPO_ROOT } from "../harness/gitlab-ci-local";
import { COMPONENTS, componentDocuments, consumerIncludes } from "./consumer";

/**
 * What gitlab-ci-local 4.60 does not check about `include: component:` inputs and GitLab does
 * (it rejects the pipeline): unknown input names, missing required inputs, values outside
 * `options`, values not matching `regex`, wrong types. Checked here for every include this
 * repository shows app teams: the guide's snippets, the example, the test pipeline.
 */

const COMPONENT = /^\$CI_SERVER_FQDN\/acme\/platform\/([a-z-]+)@(.+)$/;

/** Problems of one include entry, one line each; empty when GitLab would accept it. */
function includeProblems(entry: {
  component?: string;
  inputs?: Record<string, unknown>;
}): string[] {
  const match = COMPONENT.exec(entry.component ?? "");
  const name = match?.[1] as (typeof COMPONENTS)[number] | undefined;
  if (match === null || name === undefined || !COMPONENTS.includes(name)) {
    return [`${entry.component}: not a component of acme/platform`];
  }
  const specs = componentDocuments(name).spec.inputs;
  const inputs = entry.inputs ?? {};
  const problems: string[] = [];
  for (const key of Object.keys(inputs)) {
    if (specs[key] === undefined) {
      problems.push(`${name}: unknown input ${key}`);
    }
  }
  for (const [key, spec] of Object.entries(specs)) {
    const value = inputs[key];
    if (value === undefined) {
      if (!("default" in spec)) {
        problems.push(`${name}: input ${key} is required`);
      }
      continue;
    }
    const type = spec.type ?? "string";
    const actual = Array.isArray(value) ? "array" : typeof value;
    if (actual !== type) {
      problems.push(`${name}: input ${key} must be a ${type}, got ${JSON.stringify(value)}`);
    }
    if (spec.options !== undefined && !spec.options.includes(value)) {
      problems.push(
        `${name}: input ${key} must be one of ${spec.options.join(", ")}, got ${value}`,
      );
    }
    if (spec.regex !== undefined && !new RegExp(spec.regex).test(String(value))) {
      problems.push(`${name}: input ${key} must match ${spec.regex}, got ${value}`);
    }
  }
  return problems;
}

type Include = { component?: string; inputs?: Record<string, unknown> };

function guideIncludes(): Include[][] {
  const guide = fs.readFileSync(path.join(REPO_ROOT, "docs", "app-pipelines.md"), "utf8");
  return [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => parse(m[1] as string) as { include?: Include[] })
    .filter((doc) => doc.include !== undefined)
    .map((doc) => doc.include as Include[]);
}

test("the guide's pipelines pass GitLab's input checks (unknown, required, options, regex, types)", () => {
  const snippets = guideIncludes();
  expect(snippets).toHaveLength(5);
  expect(snippets.flat().flatMap(includeProblems)).toEqual([]);
});

test("the guide shows a pipeline for each method, and one with review apps and one with build-image", () => {
  const methods = guideIncludes()
    .flat()
    .map((i) => (i.component?.includes("/deploy@") ? i.inputs?.["method"] : undefined))
    .filter((m) => m !== undefined);
  expect(new Set(methods)).toEqual(new Set(["agent", "direct", "flux"]));
  const names = guideIncludes()
    .flat()
    .map((i) => COMPONENT.exec(i.component ?? "")?.[1]);
  expect(new Set(names)).toEqual(new Set(COMPONENTS));
});

test("the example's and the test pipeline's includes pass the same checks", () => {
  const example = parse(
    fs.readFileSync(path.join(REPO_ROOT, "examples", "java-app", ".gitlab-ci.yml"), "utf8"),
  ) as { include: Include[] };
  const consumer = consumerIncludes("1.0.0") as Include[];
  expect([...example.include, ...consumer].flatMap(includeProblems)).toEqual([]);
});

test.each<[string, Include, string[]]>([
  [
    "an unknown input",
    {
      component: "$CI_SERVER_FQDN/acme/platform/review@1.0.0",
      inputs: { app: "api", domain: "api.example.com", namespace: "x" },
    },
    ["review: unknown input namespace"],
  ],
  [
    "missing required inputs",
    { component: "$CI_SERVER_FQDN/acme/platform/deploy@1.0.0", inputs: { method: "agent" } },
    [
      "deploy: input app is required",
      "deploy: input environment is required",
      "deploy: input url is required",
    ],
  ],
  [
    "a value outside the options, one not matching the regex",
    {
      component: "$CI_SERVER_FQDN/acme/platform/deploy@1.0.0",
      inputs: { method: "helm", app: "API", environment: "qa", url: "https://a.example.com" },
    },
    [
      "deploy: input method must be one of direct, agent, flux, got helm",
      "deploy: input app must match ^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$, got API",
      "deploy: input environment must be one of dev, staging, production, got qa",
    ],
  ],
  [
    "a string where a number is expected",
    {
      component: "$CI_SERVER_FQDN/acme/platform/review@1.0.0",
      inputs: { app: "api", domain: "api.example.com", port: "8080" },
    },
    ['review: input port must be a number, got "8080"'],
  ],
  [
    "a component the platform does not ship",
    { component: "$CI_SERVER_FQDN/acme/platform/helm-deploy@1.0.0" },
    ["$CI_SERVER_FQDN/acme/platform/helm-deploy@1.0.0: not a component of acme/platform"],
  ],
])("the checks catch %s", (_case, entry, problems) => {
  expect(includeProblems(entry)).toEqual(problems);
});
