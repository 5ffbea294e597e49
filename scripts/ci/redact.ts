/**
 * Keeping terminal control codes and credentials out of notes, issues and job logs. Pulumi already
 * writes secret values as `[secret]` in `--json` output; this is the second line of defence for
 * values that were never marked secret: the CI/CD variables that hold credentials, and anything
 * shaped like a GitLab token.
 */

/** What a redacted value is replaced with (the same text Pulumi uses). */
export const REDACTED = "[secret]";

/** Variables that always hold credentials when set. */
export const SECRET_VARIABLES: readonly string[] = [
  "PIPELINE_GITLAB_TOKEN",
  "GITLAB_TOKEN",
  "CI_JOB_TOKEN",
  "CI_REGISTRY_PASSWORD",
  "CI_DEPLOY_PASSWORD",
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_ACCESS_TOKEN",
];

/** Other variables whose name says they hold a credential (AWS_SECRET_ACCESS_KEY, …). */
const SECRET_NAME = /TOKEN|PASSWORD|PASSPHRASE|SECRET|PRIVATE_KEY|ACCESS_KEY|CREDENTIAL/i;

/**
 * Values shorter than this are not redacted by value: replacing every "dev" or "true" in a note
 * would destroy it, and GitLab cannot mask values that short either.
 */
export const MIN_SECRET_LENGTH = 8;

/** GitLab token prefixes (personal, OAuth, deploy, runner, CI build, trigger, feed, …). */
const GITLAB_TOKEN =
  /\b(?:glpat|gloas|gldt|glrt|glrtr|glcbt|glptt|glft|glimt|glagent|glsoat|glffct|glwt|gltst)-[A-Za-z0-9_.-]{8,}|\bGR1348941[A-Za-z0-9_-]{8,}/g;

/** The credential values among the environment's variables, longest first. */
export function secretValues(env: Readonly<Record<string, string | undefined>>): string[] {
  const values = Object.entries(env)
    .filter(([name]) => SECRET_VARIABLES.includes(name) || SECRET_NAME.test(name))
    .map(([, value]) => value ?? "")
    .filter((value) => value.length >= MIN_SECRET_LENGTH);
  return [...new Set(values)].sort((a, b) => b.length - a.length);
}

/** CSI sequences (colours, cursor movement), OSC sequences (titles, links), and stray ESCs. */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]?/g;
/** Pulumi's own colour directives (`<{%reset%}>`), in case one escapes its renderer. */
const PULUMI_COLOR = /<\{%[a-z-]*%\}>/g;

/** Removes terminal colour and control sequences, and carriage returns. */
export function stripAnsi(text: string): string {
  return text
    .replace(ANSI, "")
    .replace(PULUMI_COLOR, "")
    .replace(/\r(?!\n)/g, "\n")
    .replace(/\r/g, "");
}

/** Text with control codes stripped and every credential replaced by `[secret]`. */
export function sanitize(text: string, secrets: readonly string[]): string {
  let clean = stripAnsi(text);
  for (const secret of secrets) {
    clean = clean.split(secret).join(REDACTED);
  }
  return clean.replace(GITLAB_TOKEN, REDACTED);
}

/** `sanitize` over every string (keys included) of a JSON value. */
export function sanitizeDeep<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === "string") {
    return sanitize(value, secrets) as T;
  }
  if (Array.isArray(value)) {
    return value.map((v: unknown) => sanitizeDeep(v, secrets)) as T;
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [sanitize(k, secrets), sanitizeDeep(v, secrets)]),
    ) as T;
  }
  return value;
}

/**
 * A line-buffered filter for streamed output (Pulumi's stderr): whole lines are sanitized, so a
 * credential split across two chunks is still caught. `flush` writes what is left at the end.
 */
export function sanitizingWriter(
  write: (text: string) => void,
  secrets: readonly string[],
): { write(chunk: string): void; flush(): void } {
  let pending = "";
  return {
    write(chunk) {
      pending += chunk;
      const end = pending.lastIndexOf("\n");
      if (end >= 0) {
        write(sanitize(pending.slice(0, end + 1), secrets));
        pending = pending.slice(end + 1);
      }
    },
    flush() {
      if (pending !== "") {
        write(sanitize(pending, secrets));
        pending = "";
      }
    },
  };
}
