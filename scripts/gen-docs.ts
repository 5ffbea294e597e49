import * as fs from "fs";
import * as path from "path";
import { generatedFiles } from "./docs";

/**
 * `npm run docs`: writes docs/configuration.md and schema/stack.schema.json from the config schema
 * (stacks/schema/) and the per-environment defaults. Commit what it writes; a test fails when the
 * committed files are stale.
 */
const root = path.resolve(__dirname, "..");
for (const [file, text] of Object.entries(generatedFiles(root))) {
  const target = path.join(root, file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const old = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : undefined;
  fs.writeFileSync(target, text);
  console.log(`${old === text ? "unchanged" : "wrote"} ${file}`);
}
