import { z } from "zod";
import { KEY_DOCS } from "../../stacks/schema";

/**
 * The documented keys of a zod object schema, flattened: one entry per key at any depth, with
 * its path as a user writes it (`apps[].image.tag`), whether it is required, its description
 * and how to name its type.
 */

/** One documented key. */
export interface KeyEntry {
  /** Path parts: property names, and `[]` for "each item of the list". */
  readonly path: readonly (string | "[]")[];
  /** The key's schema with `optional` removed. */
  readonly schema: z.ZodType;
  readonly required: boolean;
  readonly description: string | undefined;
  /** The key's type in words. */
  readonly type: string;
  /** The default in words from the schema's documentation, when the program derives it. */
  readonly defaultText: string | undefined;
  /** Whether nested keys follow (an object, or a list of objects). */
  readonly nested: boolean;
}

/** `["apps", "[]", "image", "tag"]` → `apps[].image.tag`. */
export function keyPath(path: readonly string[]): string {
  return path.reduce(
    (out, part) => (part === "[]" ? `${out}[]` : out ? `${out}.${part}` : part),
    "",
  );
}

/** Every key under `shape`, depth first, in schema order. */
export function documentedKeys(
  shape: Readonly<Record<string, z.ZodType>>,
  prefix: readonly string[] = [],
): KeyEntry[] {
  return Object.entries(shape).flatMap(([name, declared]) => {
    const required = !(declared instanceof z.ZodOptional);
    const schema = unwrapOptional(declared);
    const path = [...prefix, name];
    const element = schema instanceof z.ZodArray ? (schema.element as z.ZodType) : undefined;
    const children =
      schema instanceof z.ZodObject
        ? documentedKeys(schema.shape as Record<string, z.ZodType>, path)
        : element instanceof z.ZodObject
          ? documentedKeys(element.shape as Record<string, z.ZodType>, [...path, "[]"])
          : [];
    const entry: KeyEntry = {
      path,
      schema,
      required,
      description: declared.description ?? schema.description,
      type: KEY_DOCS.get(declared)?.type ?? typeName(schema),
      defaultText: KEY_DOCS.get(declared)?.default ?? KEY_DOCS.get(schema)?.default,
      nested: children.length > 0,
    };
    return [entry, ...children];
  });
}

function unwrapOptional(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? unwrapOptional(schema.unwrap() as z.ZodType) : schema;
}

/** The type of `schema` in words: `integer 1–1000`, `` `a` | `b` ``, `list of GitLab path`. */
export function typeName(schema: z.ZodType): string {
  const named = KEY_DOCS.get(schema)?.type;
  if (named !== undefined) {
    return named;
  }
  if (schema instanceof z.ZodEnum) {
    return (schema.options as string[]).map((o) => `\`${o}\``).join(" | ");
  }
  if (schema instanceof z.ZodLiteral) {
    return `\`${String(schema.value)}\``;
  }
  if (schema instanceof z.ZodNumber) {
    return `${schema.format === "safeint" ? "integer" : "number"}${range(schema)}`;
  }
  if (schema instanceof z.ZodArray) {
    const element = schema.element as z.ZodType;
    return element instanceof z.ZodObject ? "list of objects" : `list of ${typeName(element)}`;
  }
  if (schema instanceof z.ZodRecord) {
    return "map of strings";
  }
  if (schema instanceof z.ZodObject) {
    return "object";
  }
  if (schema instanceof z.ZodBoolean) {
    return "boolean";
  }
  return "string";
}

/** ` 1–65535`, ` ≥ 600`, or nothing for a number's bounds (the safe-integer limits say nothing). */
function range(schema: z.ZodNumber): string {
  const min =
    schema.minValue !== null && schema.minValue > Number.MIN_SAFE_INTEGER ? schema.minValue : null;
  const max =
    schema.maxValue !== null && schema.maxValue < Number.MAX_SAFE_INTEGER ? schema.maxValue : null;
  if (min !== null && max !== null) {
    return ` ${min}–${max}`;
  }
  return min !== null ? ` ≥ ${min}` : max !== null ? ` ≤ ${max}` : "";
}
