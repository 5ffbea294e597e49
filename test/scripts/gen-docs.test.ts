import * as fs from "fs";
import * as path from "path";
import { generatedFiles } from "../../scripts/docs";
import { rawConfigSchema } from "../../stacks/schema";
import { OTHER_KEYS } from "../../stacks/stack-file";
import { ROOT } from "../harness/program";

/**
 * docs/configuration.md and schema/stack.schema.json are generated from the config schema and the
 * per-environment defaults (`npm run docs`); the committed files must be what the generator writes
 * now, so neither can drift from the code.
 */
describe("generated docs", () => {
  const files = Object.entries(generatedFiles(ROOT));

  test("are docs/configuration.md and schema/stack.schema.json", () => {
    expect(files.map(([file]) => file)).toEqual([
      "docs/configuration.md",
      "schema/stack.schema.json",
    ]);
  });

  test.each(files)("%s is up to date", (file, generated) => {
    const committed = fs.readFileSync(path.join(ROOT, file), "utf8");
    if (committed !== generated) {
      throw new Error(
        `${file} is stale (the config schema or its defaults changed): run npm run docs`,
      );
    }
  });

  test("docs/configuration.md documents every key a stack file may set", () => {
    const doc = files.find(([file]) => file === "docs/configuration.md")?.[1] ?? "";
    const keys = [...Object.keys(rawConfigSchema.shape), ...Object.keys(OTHER_KEYS)];
    expect(keys.filter((key) => !doc.includes(`- **\`${key}\`** (`))).toEqual([]);
  });
});
