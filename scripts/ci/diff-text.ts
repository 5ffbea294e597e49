import { ChangeKind, ResourceChange, ResourceState, compareText } from "./digest";

/**
 * The plain-text diff of a preview, one block per resource, in the `diff` syntax GitLab colours:
 * `+` lines are added values, `-` lines removed ones, `!` lines replacements. Property paths use
 * Pulumi's syntax (`spec.template.spec.containers[0].image`, `metadata.labels["app.kubernetes.io/name"]`).
 */

/** One segment of a property path: a key or an array index. */
export type PathSegment = string | number;

/** Parses a Pulumi property path; undefined when it is not one. */
export function parsePropertyPath(path: string): PathSegment[] | undefined {
  const segments: PathSegment[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === "[") {
      const close = path.indexOf("]", i);
      if (path[i + 1] === '"') {
        // A quoted key: find the closing quote that is followed by `]`.
        let j = i + 2;
        while (
          j < path.length &&
          !(path[j] === '"' && path[j - 1] !== "\\" && path[j + 1] === "]")
        ) {
          j += 1;
        }
        if (j >= path.length) {
          return undefined;
        }
        try {
          segments.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
        } catch {
          return undefined;
        }
        i = j + 2;
      } else {
        const index = path.slice(i + 1, close);
        if (close < 0 || !/^\d+$/.test(index)) {
          return undefined;
        }
        segments.push(Number(index));
        i = close + 1;
      }
    } else {
      const start = path[i] === "." && segments.length > 0 ? i + 1 : i;
      let end = start;
      while (end < path.length && path[end] !== "." && path[end] !== "[") {
        end += 1;
      }
      if (end === start) {
        return undefined;
      }
      segments.push(path.slice(start, end));
      i = end;
    }
  }
  return segments.length > 0 ? segments : undefined;
}

/** Formats segments as a Pulumi property path: keys with `.`, brackets, quotes or spaces quoted. */
export function formatPropertyPath(segments: readonly PathSegment[]): string {
  return segments
    .map((s, i) =>
      typeof s === "number"
        ? `[${s}]`
        : /^[^.[\]"\s]+$/.test(s)
          ? `${i === 0 ? "" : "."}${s}`
          : `[${JSON.stringify(s)}]`,
    )
    .join("");
}

const MISSING = Symbol("missing");

function valueAt(root: unknown, segments: readonly PathSegment[]): unknown {
  let current: unknown = root;
  for (const s of segments) {
    if (current === null || typeof current !== "object" || !(s in (current as object))) {
      return MISSING;
    }
    current = (current as Record<string | number, unknown>)[s];
  }
  return current;
}

/** Longest value shown on one line; the rest is counted, not shown. */
export const MAX_VALUE_LENGTH = 1_000;

/** A value as one line of JSON, cut at MAX_VALUE_LENGTH. */
export function formatValue(value: unknown): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length > MAX_VALUE_LENGTH
    ? `${text.slice(0, MAX_VALUE_LENGTH)}… (${text.length - MAX_VALUE_LENGTH} more characters)`
    : text;
}

/** Every leaf of a value with its path; internal `__` keys at the top (the dynamic provider's code) skipped. */
export function leaves(value: unknown, prefix: PathSegment[] = []): [PathSegment[], unknown][] {
  if (Array.isArray(value) && value.length > 0) {
    return value.flatMap((v, i) => leaves(v, [...prefix, i]));
  }
  if (value !== null && typeof value === "object" && Object.keys(value).length > 0) {
    return Object.entries(value)
      .filter(([k]) => !(prefix.length === 0 && k.startsWith("__")))
      .sort(([a], [b]) => compareText(a, b))
      .flatMap(([k, v]) => leaves(v, [...prefix, k]));
  }
  return prefix.length > 0 ? [[prefix, value]] : [];
}

const INDENT = "      ";

/** `-`/`+` lines for the leaves that differ between two values under `prefix`. */
function leafDiff(before: unknown, after: unknown, prefix: PathSegment[], note = ""): string[] {
  // One side only (a create, a removed property): no matching needed.
  if (before === undefined || after === undefined) {
    const [sign, value] = before === undefined ? ["+", after] : ["-", before];
    const suffix = sign === "+" ? note : "";
    return leaves(value, prefix).map(
      ([p, v]) => `${sign}${INDENT}${formatPropertyPath(p)}: ${formatValue(v)}${suffix}`,
    );
  }
  const old = new Map(leaves(before, prefix).map(([p, v]) => [formatPropertyPath(p), v]));
  const now = new Map(leaves(after, prefix).map(([p, v]) => [formatPropertyPath(p), v]));
  const paths = [...new Set([...old.keys(), ...now.keys()])].sort();
  return paths.flatMap((path) => {
    const a = old.has(path) ? JSON.stringify(old.get(path)) : undefined;
    const b = now.has(path) ? JSON.stringify(now.get(path)) : undefined;
    if (a === b) {
      return [];
    }
    return [
      ...(a !== undefined ? [`-${INDENT}${path}: ${formatValue(old.get(path))}`] : []),
      ...(b !== undefined ? [`+${INDENT}${path}: ${formatValue(now.get(path))}${note}`] : []),
    ];
  });
}

function props(state: ResourceState | undefined, inputs: boolean): Record<string, unknown> {
  return (inputs ? state?.inputs : state?.outputs) ?? {};
}

/** Lines for a `detailedDiff`: each changed path with its old and new value where known. */
function detailedLines(change: ResourceChange): string[] {
  const { step } = change;
  return Object.entries(step.detailedDiff ?? {})
    .sort(([a], [b]) => compareText(a, b))
    .flatMap(([path, diff]) => {
      const segments = parsePropertyPath(path);
      const inputs = diff.inputDiff !== false;
      const before = segments ? valueAt(props(step.oldState, inputs), segments) : MISSING;
      const after = segments ? valueAt(props(step.newState, inputs), segments) : MISSING;
      const note = diff.kind.endsWith("-replace") ? " (forces replacement)" : "";
      if (segments !== undefined && (before !== MISSING || after !== MISSING)) {
        const lines = leafDiff(
          before === MISSING ? undefined : before,
          after === MISSING ? undefined : after,
          segments,
          note,
        );
        if (lines.length > 0) {
          return lines;
        }
      }
      return [`!${INDENT}${path}: ${diff.kind}`];
    });
}

const HEADER_SIGN: Readonly<Record<ChangeKind, string>> = {
  create: "+",
  update: "~",
  replace: "!",
  delete: "-",
};

/** The header line of a resource's block. */
export function headerLine(change: ResourceChange): string {
  return `${HEADER_SIGN[change.kind]} ${change.kind} ${change.type} ${change.name}`;
}

/** Why a replacement happens: `replaceReasons`, else `diffReasons`. */
export function replaceReasons(change: ResourceChange): readonly string[] {
  const reasons = change.step.replaceReasons ?? [];
  return reasons.length > 0 ? reasons : (change.step.diffReasons ?? []);
}

/** The diff lines of one resource: its header, then the properties that change. */
export function changeLines(change: ResourceChange): string[] {
  const { step } = change;
  const header = headerLine(change);
  switch (change.kind) {
    case "delete":
      return [header];
    case "create":
      return [header, ...leafDiff(undefined, props(step.newState, true), [])];
    case "update":
    case "replace": {
      const reasons = change.kind === "replace" ? replaceReasons(change) : [];
      const head =
        reasons.length > 0 ? `${header} (replaced because of ${reasons.join(", ")})` : header;
      if (
        step.detailedDiff !== undefined &&
        step.detailedDiff !== null &&
        Object.keys(step.detailedDiff).length > 0
      ) {
        return [head, ...detailedLines(change)];
      }
      const oldInputs = props(step.oldState, true);
      const newInputs = props(step.newState, true);
      const keys = step.diffReasons?.length
        ? step.diffReasons
        : Object.keys({ ...oldInputs, ...newInputs });
      return [
        head,
        ...[...keys]
          .filter((k) => !k.startsWith("__"))
          .sort()
          .flatMap((k) => leafDiff(oldInputs[k], newInputs[k], [k])),
      ];
    }
  }
}

/** The whole diff, resource after resource. */
export function diffLines(changes: readonly ResourceChange[]): string[] {
  return changes.flatMap(changeLines);
}
