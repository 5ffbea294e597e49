import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { parse } from "yaml";
import { ROOT } from "../harness/program";

/**
 * schema/stack.schema.json, the JSON Schema editors check stack files with: every shipped stack
 * file names it and passes it, and it refuses what the program would refuse as a typo. (That it
 * is generated from the current zod schema is test/scripts/gen-docs.test.ts's concern.)
 */

const SCHEMA = JSON.parse(
  fs.readFileSync(path.join(ROOT, "schema", "stack.schema.json"), "utf8"),
) as Record<string, unknown>;
const MODELINE = "# yaml-language-server: $schema=./schema/stack.schema.json";
const STACK_FILES = fs
  .readdirSync(ROOT)
  .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
  .sort();

const validate = new Ajv({ allErrors: true }).compile(SCHEMA);

/** The schema's complaints about `document`, as `path: message` lines. */
function errorsOf(document: unknown): string[] {
  return validate(document)
    ? []
    : (validate.errors ?? []).map(
        (e) =>
          `${e.instancePath}: ${e.message}${e.params["additionalProperty"] === undefined ? "" : ` (${String(e.params["additionalProperty"])})`}`,
      );
}

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const dev = () => parse(read("Pulumi.dev.yaml")) as { config: Record<string, unknown> };

describe("the stack files' JSON Schema", () => {
  test("the shipped stack files are dev, staging and production", () => {
    expect(STACK_FILES).toEqual([
      "Pulumi.dev.yaml",
      "Pulumi.production.yaml",
      "Pulumi.staging.yaml",
    ]);
  });

  test.each(STACK_FILES)("%s names the schema in its first line and passes it", (file) => {
    expect(read(file).split("\n")[0]).toBe(MODELINE);
    expect(errorsOf(parse(read(file)))).toEqual([]);
  });

  test("a typo in a key is refused, at any depth and in the namespace", () => {
    const file = dev();
    const runner = file.config["platform:runner"] as Record<string, unknown>;
    file.config["platform:runner"] = { ...runner, concurent: 4 };
    file.config["platfrom:apps"] = [];
    expect(errorsOf(file)).toEqual([
      "/config: must NOT have additional properties (platfrom:apps)",
      "/config/platform:runner: must NOT have additional properties (concurent)",
    ]);
  });

  test("secrets are accepted as Pulumi writes them, and a plaintext GitLab token is refused", () => {
    const file = dev();
    file.config["gitlab:token"] = { secure: "v1:AAAA" };
    file.config["platform:ciVariables"] = [
      { key: "API_TOKEN", value: { secure: "v1:BBBB" } },
      { key: "LOG_LEVEL", value: "debug", credential: false },
    ];
    expect(errorsOf(file)).toEqual([]);
    file.config["gitlab:token"] = "glpat-plaintext";
    expect(errorsOf(file)).toEqual(["/config/gitlab:token: must be object"]);
  });

  test("values the program refuses by their shape are refused too", () => {
    const file = dev();
    file.config["platform:environment"] = "qa";
    file.config["platform:apps"] = [{ name: "Web_App", project: "acme/web", port: 70000 }];
    expect(errorsOf(file)).toEqual([
      "/config/platform:environment: must be equal to one of the allowed values",
      '/config/platform:apps/0/name: must match pattern "^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"',
      "/config/platform:apps/0/port: must be <= 65535",
    ]);
  });
});
