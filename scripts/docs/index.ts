import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { configurationDoc } from "./configuration";
import { stackJsonSchema } from "./stack-schema";

/**
 * The generated files, by path from the repository root: docs/configuration.md and the stack
 * file's JSON Schema, formatted as Prettier would (so `prettier --check` and the staleness test
 * agree).
 */
export function generatedFiles(root: string): Record<string, string> {
  const project = (
    parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name: string }
  ).name;
  const files: Record<string, string> = {
    "docs/configuration.md": configurationDoc(),
    "schema/stack.schema.json": JSON.stringify(stackJsonSchema(project), null, 2),
  };
  return Object.fromEntries(
    Object.entries(files).map(([file, text]) => [file, prettier(root, file, text)]),
  );
}

/** `text` formatted by the project's Prettier as the file `file`. */
function prettier(root: string, file: string, text: string): string {
  return execFileSync(
    process.execPath,
    [require.resolve("prettier/bin/prettier.cjs"), "--stdin-filepath", file],
    { cwd: root, input: text, encoding: "utf8" },
  );
}
