import { z } from "zod";
import { KEY_DOCS, rawConfigSchema } from "./schema";

/**
 * The shape of a whole `Pulumi.<stack>.yaml` (Pulumi's stack settings file) for this project: the
 * project-namespace keys of {@link rawConfigSchema} under `<project>:`, the keys of other
 * namespaces the program reads, and the top-level keys Pulumi itself writes. Only for documents
 * (docs/configuration.md) and editors (schema/stack.schema.json); the program reads its config
 * through Pulumi, already decrypted, and checks it with {@link rawConfigSchema}.
 */

/** How Pulumi stores a value set with `pulumi config set --secret`: the ciphertext. */
export const secureValue = z
  .strictObject({ secure: z.string().describe("The encrypted value, as Pulumi writes it.") })
  .describe("A secret, encrypted by `pulumi config set --secret`.");

/** Keys outside the project namespace that a stack file may set. */
export const OTHER_KEYS = {
  "gitlab:baseUrl": z
    .string()
    .optional()
    .describe(
      "GitLab URL, with or without `/api/v4`. Same key as the official `@pulumi/gitlab` provider.",
    )
    .register(KEY_DOCS, { type: "string (URL)", default: "env `GITLAB_BASE_URL`" }),
  "gitlab:token": secureValue
    .optional()
    .describe(
      "GitLab access token (`api`, `create_runner`). Must be set with `--secret`; a plaintext value is refused.",
    )
    .register(KEY_DOCS, { type: "**secret** string", default: "env `GITLAB_TOKEN`" }),
  "pulumi:disable-default-providers": z
    .array(z.string())
    .optional()
    .describe("Keeps every Kubernetes resource on the stack's explicit provider.")
    .register(KEY_DOCS, { default: '`["kubernetes"]` (Pulumi.yaml)' }),
};

/** The stack settings file of `project` (Pulumi.yaml's `name`). */
export function stackFileSchema(project: string) {
  const platform = Object.fromEntries(
    Object.entries(rawConfigSchema.shape).map(([key, schema]) => [`${project}:${key}`, schema]),
  );
  return z
    .strictObject({
      secretsprovider: z
        .string()
        .optional()
        .describe("The secrets provider of the stack's secrets (written by Pulumi)."),
      encryptedkey: z
        .string()
        .optional()
        .describe("The data key, encrypted by a cloud secrets provider (written by Pulumi)."),
      encryptionsalt: z
        .string()
        .optional()
        .describe("The passphrase secrets provider's salt (written by Pulumi)."),
      environment: z
        .union([z.array(z.string()), z.record(z.string(), z.unknown())])
        .optional()
        .describe("Pulumi ESC environments the stack imports."),
      config: z
        .strictObject({ ...platform, ...OTHER_KEYS })
        .describe(`The stack's configuration: \`${project}:\` keys and the GitLab connection.`),
    })
    .describe(`Pulumi stack settings file (Pulumi.<stack>.yaml) of the ${project} project.`);
}
