import { z } from "zod";
import { KEY_DOCS } from "../../stacks/schema";
import { secureValue, stackFileSchema } from "../../stacks/stack-file";

/**
 * The JSON Schema of `Pulumi.<stack>.yaml` (draft-07, what the YAML language server and ajv read),
 * generated from the zod schema. Values a user sets with `--secret` may also be `{secure: …}`.
 */
export function stackJsonSchema(project: string): Record<string, unknown> {
  const secure: Record<string, unknown> = { ...z.toJSONSchema(secureValue, { target: "draft-7" }) };
  delete secure["$schema"];
  return z.toJSONSchema(stackFileSchema(project), {
    target: "draft-7",
    io: "input",
    override: ({ zodSchema, jsonSchema }) => {
      if (KEY_DOCS.get(zodSchema as unknown as z.ZodType)?.secret === true) {
        const { description, ...plain } = jsonSchema;
        for (const key of Object.keys(jsonSchema)) {
          delete jsonSchema[key];
        }
        Object.assign(jsonSchema, {
          ...(description === undefined ? {} : { description }),
          anyOf: [plain, secure],
        });
      }
    },
  }) as Record<string, unknown>;
}
