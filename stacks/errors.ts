import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";

/**
 * Turning validation problems into messages a user can act on: `key.path: expected X, got Y`,
 * where the path is the config key as written in the stack file and Y is what was found there.
 * Secret values are never echoed.
 */

/**
 * All problems of one stack's config, thrown before any resource is registered. A `RunError`:
 * Pulumi's Node.js runtime prints its message alone, as the user's mistake it is, where it prints
 * any other error with its stack trace and fields (`util.inspect`).
 */
export class ConfigError extends pulumi.RunError {
  constructor(
    /** The stack's name (not `stack`: that would hide the error's stack trace and message). */
    readonly stackName: string,
    readonly problems: readonly string[],
  ) {
    super(
      `Invalid configuration for stack "${stackName}" (${problems.length} ${
        problems.length === 1 ? "problem" : "problems"
      }):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/** A path into the config: top-level key, then property names and array indexes. */
export type ConfigPath = readonly (string | number)[];

/** `["apps", 1, "name"]` → `apps[1].name`. */
export function formatPath(path: ConfigPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") {
      out += `[${part}]`;
    } else {
      out += out === "" ? part : `.${part}`;
    }
  }
  return out;
}

/** The value found at `path` in `root`, or undefined. */
export function valueAt(root: unknown, path: ConfigPath): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== "object") {
      return undefined;
    }
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}

/** Paths whose values are credentials: described, never shown. */
const SECRET_PATHS = [
  /^ciVariables\[\d+\]\.value$/,
  /^runner\.cache\.(accessKey|secretKey)$/,
  /^gitlab:token$/,
  /^promotion\.token$/,
];

/** Renders what was found, for the `got …` half of a message. */
export function describeValue(value: unknown, path: string): string {
  if (value === undefined) {
    return "nothing";
  }
  if (SECRET_PATHS.some((re) => re.test(path))) {
    return `a secret value (${typeof value === "string" ? `${value.length} characters` : typeof value})`;
  }
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return `an array of ${value.length}`;
  }
  if (typeof value === "object") {
    return "an object";
  }
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One `path: expected X, got Y` line. */
export function problem(path: ConfigPath | string, expected: string, root: unknown): string {
  const p = typeof path === "string" ? path : formatPath(path);
  const found = typeof path === "string" ? undefined : valueAt(root, path);
  return `${p}: ${expected}, got ${describeValue(found, p)}`;
}

const ARTICLES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
  record: "an object",
};

/** The closest known key to `key`, if it is a likely typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(
        current + 1,
        (row[j - 1] ?? 0) + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

/** Messages for one zod issue (an unrecognized-keys issue yields one line per key). */
export function formatIssue(
  issue: z.core.$ZodIssue,
  root: unknown,
  knownKeysAt: (path: ConfigPath) => readonly string[],
): string[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const known = knownKeysAt(path);
        const hint = closestKey(key, known);
        const expected = hint
          ? `expected a known key (did you mean "${hint}"?)`
          : `expected one of the known keys (${known.join(", ")})`;
        return `${formatPath([...path, key])}: ${expected}, got an unknown key`;
      });
    case "invalid_type":
      // A schema's own wording ("expected an integer") wins over zod's generic one.
      return [
        problem(
          path,
          issue.message.startsWith("expected ")
            ? issue.message
            : `expected ${ARTICLES[issue.expected] ?? issue.expected}`,
          root,
        ),
      ];
    case "invalid_value":
      return [
        problem(
          path,
          `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
          root,
        ),
      ];
    default:
      return [
        problem(
          path,
          issue.message.startsWith("expected") ? issue.message : `expected ${issue.message}`,
          root,
        ),
      ];
  }
}
