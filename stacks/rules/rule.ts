import { parseQuantity } from "../../components/formats";
import { ContainerResources, EnvironmentConfig } from "../model";
import { RawConfig } from "../schema";

/**
 * The shape of a cross-field config rule, and the one loop that runs them. A rule reads the
 * resolved config (defaults applied) and what the user wrote (`raw`, for the `got …` half of a
 * message), and returns one `key.path: expected X, got Y` line per problem.
 */

/** A rule over the whole config. */
export interface Rule {
  /** `<area>.<rule>`, unique; tests name rules by it. */
  readonly name: string;
  /**
   * The key paths its messages start with: `[]` stands for any list index and `*` for any map
   * key or resource name (`runner.nodeSelector.*`, `apps[].namespace`).
   */
  readonly paths: readonly string[];
  /** The problems found, in the order they are reported. */
  check(config: EnvironmentConfig, raw: RawConfig): string[];
}

/** A rule about one item of a list (an app, a CI/CD variable, a toleration). */
export interface ItemRule<T> {
  readonly name: string;
  readonly paths: readonly string[];
  /** The problems of `items[index]`; `items` is the whole list, for uniqueness rules. */
  check(
    item: T,
    index: number,
    items: readonly T[],
    config: EnvironmentConfig,
    raw: RawConfig,
  ): string[];
}

/**
 * Rules over one list, checked item by item: every rule for the first item, then every rule for
 * the second, … so each item's problems are reported together.
 */
export interface ItemRules<T> {
  /** The list, as a key path (`apps`, `ciVariables`). */
  readonly list: string;
  readonly items: (config: EnvironmentConfig) => readonly T[];
  readonly rules: readonly ItemRule<T>[];
}

/** What an area module lists: rules over the whole config and groups of item rules. */
export type RuleEntry = Rule | ItemRules<unknown>;

/** Groups item rules over the list `items(config)`. */
export function eachItem<T>(
  list: string,
  items: (config: EnvironmentConfig) => readonly T[],
  rules: readonly ItemRule<T>[],
): RuleEntry {
  return { list, items, rules };
}

/** Every rule of `entries`, item rules included, in order. */
export function flattenRules(entries: readonly RuleEntry[]): readonly (Rule | ItemRule<unknown>)[] {
  return entries.flatMap((entry): readonly (Rule | ItemRule<unknown>)[] =>
    "rules" in entry ? entry.rules : [entry],
  );
}

/** Runs `entries` and returns their problems in order. */
export function runRules(
  entries: readonly RuleEntry[],
  config: EnvironmentConfig,
  raw: RawConfig,
): string[] {
  const problems: string[] = [];
  for (const entry of entries) {
    if ("rules" in entry) {
      const items = entry.items(config);
      items.forEach((item, i) => {
        for (const rule of entry.rules) {
          problems.push(...rule.check(item, i, items, config, raw));
        }
      });
    } else {
      problems.push(...entry.check(config, raw));
    }
  }
  return problems;
}

/** The rules of `entries` whose name is `selected`, in the same order and groups. */
export function selectRules(
  entries: readonly RuleEntry[],
  selected: (name: string) => boolean,
): RuleEntry[] {
  return entries.flatMap((entry): RuleEntry[] =>
    "rules" in entry
      ? [{ ...entry, rules: entry.rules.filter((rule) => selected(rule.name)) }]
      : selected(entry.name)
        ? [entry]
        : [],
  );
}

/**
 * The index of the first item before `index` with the same `key`, or undefined: "apps[N] has it
 * too" in uniqueness messages always names the first one.
 */
export function earlierWithSameKey<T>(
  items: readonly T[],
  index: number,
  key: (item: T) => string,
): number | undefined {
  const own = key(items[index] as T);
  const first = items.findIndex((item) => key(item) === own);
  return first < index ? first : undefined;
}

/** What to call each of the four resource fields in messages. */
export type ResourceFieldNames = Record<keyof ContainerResources, string>;

const RESOURCE_FIELDS: ResourceFieldNames = {
  cpuRequest: "cpuRequest",
  cpuLimit: "cpuLimit",
  memoryRequest: "memoryRequest",
  memoryLimit: "memoryLimit",
};

/** Requests above their limits, as `path.cpuRequest: expected at most cpuLimit "1", got "2"`. */
export function requestsWithinLimits(
  path: string,
  r: ContainerResources,
  names: ResourceFieldNames = RESOURCE_FIELDS,
): string[] {
  const out: string[] = [];
  if (parseQuantity(r.cpuRequest) > parseQuantity(r.cpuLimit)) {
    out.push(
      `${path}.${names.cpuRequest}: expected at most ${names.cpuLimit} "${r.cpuLimit}", got "${r.cpuRequest}"`,
    );
  }
  if (parseQuantity(r.memoryRequest) > parseQuantity(r.memoryLimit)) {
    out.push(
      `${path}.${names.memoryRequest}: expected at most ${names.memoryLimit} "${r.memoryLimit}", got "${r.memoryRequest}"`,
    );
  }
  return out;
}
