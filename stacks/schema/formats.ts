import { chartSourceProblem } from "../../components/helm-source";
import { z } from "zod";
import {
  CHART_VERSION,
  DNS_LABEL,
  DNS_SUBDOMAIN,
  DURATION,
  GITLAB_PATH,
  HOSTNAME,
  IMAGE_REFERENCE,
  QUANTITY,
  isCalendarDate,
  isUrlWithScheme,
} from "../../components/formats";

/**
 * The value formats the config schema is built from, each with the message a user sees and the
 * name docs/configuration.md gives it, and the registry that carries that documentation.
 */

/** What docs/configuration.md says about a key beyond its description (`.describe()`). */
export interface KeyDocs {
  /** What the value is, in words ("GitLab path"), where the schema's own type says too little. */
  readonly type?: string;
  /** The default in words, where the program derives it rather than taking a fixed value. */
  readonly default?: string;
  /** A credential: set with `pulumi config set --secret`, so the stack file holds `{secure: …}`. */
  readonly secret?: boolean;
}

/** Documentation of keys and formats, for docs/configuration.md and the stack file's JSON Schema. */
export const KEY_DOCS = z.registry<KeyDocs>();

export const dnsLabel = z
  .string()
  .regex(DNS_LABEL, "expected a DNS-1123 label (lowercase letters, digits and '-', at most 63)")
  .register(KEY_DOCS, { type: "DNS label" });
export const dnsSubdomain = z
  .string()
  .regex(DNS_SUBDOMAIN, "expected a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')")
  .register(KEY_DOCS, { type: "DNS subdomain" });
export const gitlabPath = z
  .string()
  .regex(GITLAB_PATH, 'expected a GitLab full path such as "group/project"')
  .register(KEY_DOCS, { type: "GitLab path" });
export const hostname = z
  .string()
  .regex(HOSTNAME, "expected a host name without scheme or path")
  .register(KEY_DOCS, { type: "host name" });
export const quantity = z
  .string()
  .regex(QUANTITY, 'expected a Kubernetes quantity such as "250m" or "512Mi"')
  .register(KEY_DOCS, { type: "Kubernetes quantity" });
export const duration = z
  .string()
  .regex(DURATION, 'expected a duration such as "1m" or "10m0s"')
  .register(KEY_DOCS, { type: "duration" });
export const nonEmpty = z.string().min(1, "expected a non-empty string");
export const positiveInt = (max: number) =>
  z
    .int("expected an integer")
    .min(1, "expected an integer >= 1")
    .max(max, `expected an integer <= ${max}`);
/** Where a chart comes from (components/helm-source.ts). */
export const chartRepository = z
  .string()
  .refine(
    (value) => chartSourceProblem(value) === undefined,
    "expected an https:// chart repository, an oci:// registry path or a local chart directory",
  );

/** An image reference: repository, optional tag, optional digest (`alpine:3.22.2@sha256:…`). */
export const imageReference = z
  .string()
  .regex(
    IMAGE_REFERENCE,
    "expected an image such as registry.example.com/group/image:tag or image:tag@sha256:<64 hex>",
  )
  .register(KEY_DOCS, { type: "image reference" });

export const chartVersion = z
  .string()
  .regex(CHART_VERSION, 'expected an exact chart version such as "1.2.3"')
  .register(KEY_DOCS, { type: "exact chart version" });
export const date = z
  .string()
  .refine(isCalendarDate, "expected a date YYYY-MM-DD")
  .register(KEY_DOCS, { type: "date `YYYY-MM-DD`" });
export const gitlabId = z
  .int("expected an integer")
  .min(1, "expected a numeric GitLab id >= 1")
  .register(KEY_DOCS, { type: "numeric GitLab id" });

/** A URL with one of `schemes` and a host: one check, so a bad value gets one message. */
export function urlWithScheme(schemes: readonly string[], message: string) {
  return z
    .string()
    .refine((value) => isUrlWithScheme(value, schemes), message)
    .register(KEY_DOCS, {
      type: `${schemes.map((s) => `\`${s}//\``).join(", ")} URL`,
    });
}
