import { execFileSync } from "child_process";
import { configurationDoc } from "./configuration";

/**
 * The generated files, by path from the repository root (docs/configuration.md), formatted as
 * Prettier would (so `prettier --check` and the staleness test agree).
 */
export function generatedFiles(root: string): Record<string, string> {
  const files: Record<string, string> = {
    "docs/configuration.md": configurationDoc(),
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
