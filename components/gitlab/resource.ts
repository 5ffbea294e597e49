// Provider scaffolding and input validation shared by the GitLab dynamic resources: the generic
// check/diff/CRUD wiring every resource file fills in, the helpers validators are built from, and
// the class-side helpers (synchronous validation, secret outputs) the resource classes use.
//
// Provider code reached from here is serialized with each provider; the class-side helpers at
// the end run only in the Pulumi program.
import * as pulumi from "@pulumi/pulumi";
import {
  Api,
  ClientSettings,
  ConfigSource,
  DEFAULT_CLIENT_SETTINGS,
  GitLabApiError,
  connect,
  isStatus,
  resolveConnection,
} from "./client";

/** Dynamic resources live under `pulumi-nodejs:dynamic/gitlab:<Class>`. */
export const MODULE = "gitlab";

/** The value Pulumi hands providers for inputs that are not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

// ---------------------------------------------------------------------------------------------
// Validation helpers

/** One invalid argument; the shape of `pulumi.dynamic.CheckFailure`. */
export interface Failure {
  readonly property: string;
  readonly reason: string;
}

/** True when a value is present and fully known (no preview placeholder inside). */
export function known(value: unknown): boolean {
  if (value === undefined || value === null || value === UNKNOWN) {
    return false;
  }
  return Array.isArray(value) ? value.every(known) : true;
}

/** `ProjectVariable "ci-token"`: how errors name a resource. */
export function labelOf(type: string, name: unknown): string {
  return typeof name === "string" && name !== "" ? `${type} "${name}"` : type;
}

/** One line per failure: `ProjectVariable "ci-token": key: expected ...`. */
export function formatFailures(label: string, failures: readonly Failure[]): string {
  return failures.map((f) => `${label}: ${f.property}: ${f.reason}`).join("\n");
}

/** Collects failures from `[property, problem | undefined]` pairs. */
export function failures(...checks: [string, string | undefined][]): Failure[] {
  return checks
    .filter((c): c is [string, string] => c[1] !== undefined)
    .map(([property, reason]) => ({ property, reason }));
}

/** Checks `value` only when it is known: validators see preview placeholders as absent. */
export function ifKnown<T>(
  value: unknown,
  check: (v: T) => string | undefined,
): string | undefined {
  return known(value) ? check(value as T) : undefined;
}

/** The problem with a required field, if it is missing (unknown counts as present). */
export function required(value: unknown): string | undefined {
  return value === undefined || value === null ? "is required" : undefined;
}

// ---------------------------------------------------------------------------------------------
// Provider scaffolding

/** Inputs every resource carries besides its GitLab arguments. */
export interface BaseInputs {
  /** The Pulumi resource name, so provider errors can name the resource. */
  readonly resourceName?: string;
}

/** What a resource file supplies; `defineProvider` turns it into a dynamic ResourceProvider. */
export interface ProviderSpec<I extends BaseInputs, O extends I> {
  /** The class name, e.g. `ProjectVariable`. */
  readonly type: string;
  /** Problems with possibly partial, possibly not-yet-known inputs; no request is sent. */
  readonly validate: (inputs: Record<string, unknown>) => Failure[];
  /** Applies defaults and canonical forms to valid, known inputs. */
  readonly normalize: (inputs: I) => I;
  /** Input fields whose change needs a new GitLab object. */
  readonly replaceOn: readonly (keyof I & string)[];
  /**
   * Fields naming the object inside its parent (variable key and scope, file path). A
   * replacement that keeps them all would collide with the old object (say the project changed
   * from its id to its path), so then the old one is deleted first. Absent: never delete first.
   */
  readonly collidesIfSame?: readonly (keyof I & string)[];
  /** Input fields changed in place by `update`. */
  readonly updatable: readonly (keyof I & string)[];
  /** Fields GitLab fills in when they are not given: an absent input keeps the live value. */
  readonly computed?: readonly (keyof I & string)[];
  create(api: Api, inputs: I): Promise<{ id: string; outs: O }>;
  /** The live object, or undefined when it is gone. `props` is empty on import. */
  read(api: Api, id: string, props: Partial<O>): Promise<O | undefined>;
  update?(api: Api, id: string, olds: O, news: I): Promise<O>;
  delete(api: Api, id: string, props: O): Promise<void>;
  /** Errors meaning "already gone" besides HTTP 404. */
  readonly isGone?: (err: unknown) => boolean;
}

function stable(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(stable).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(",")}}`;
  }
  return value === undefined || value === null ? "null" : JSON.stringify(value);
}

/** Compares two field values the way diffs should: unknown counts as changed. */
export function sameValue(a: unknown, b: unknown): boolean {
  return b !== UNKNOWN && stable(a) === stable(b);
}

/** The diff of olds (state) against news (checked inputs) for the given field lists. */
export function diffFields(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  fields: {
    readonly replaceOn: readonly string[];
    readonly updatable: readonly string[];
    readonly collidesIfSame?: readonly string[];
    readonly computed?: readonly string[];
  },
): pulumi.dynamic.DiffResult {
  const changed = (k: string) =>
    !(news[k] === undefined && (fields.computed ?? []).includes(k)) && !sameValue(olds[k], news[k]);
  const replaces = fields.replaceOn.filter(changed);
  const changes = replaces.length > 0 || fields.updatable.some(changed);
  const collides = fields.collidesIfSame;
  const deleteBeforeReplace =
    replaces.length > 0 && collides !== undefined && collides.every((k) => !changed(k));
  return { changes, replaces, deleteBeforeReplace };
}

/**
 * `value` as the dynamic provider process can hand it to the engine: it sends every result
 * through protobuf's `Struct.fromJavaScript`, which throws "Unexpected struct type" on an
 * `undefined` anywhere (an optional input left out, `tokenExpiresAt: undefined`). Object keys
 * holding `undefined` are dropped (diffs treat absent and undefined alike), array entries become
 * `null`.
 */
export function forEngine<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map((v: unknown) => (v === undefined ? null : forEngine(v))) as T;
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, forEngine(v)]),
    ) as T;
  }
  return value;
}

function withoutProvider<T extends object>(inputs: T): T {
  const copy = { ...inputs } as Record<string, unknown>;
  delete copy.__provider;
  return copy as T;
}

/**
 * Builds the dynamic provider for a spec. Stack config arrives through `configure` in the
 * provider process and stays in a captured object; `settings` tune retries and timeouts.
 */
export function defineProvider<I extends BaseInputs, O extends I>(
  spec: ProviderSpec<I, O>,
  overrides: Partial<ClientSettings> = {},
): pulumi.dynamic.ResourceProvider {
  const settings: ClientSettings = { ...DEFAULT_CLIENT_SETTINGS, ...overrides };
  const stack: { config?: ConfigSource } = {};
  const apiFor = (name: unknown) =>
    connect(resolveConnection(stack.config), settings, labelOf(spec.type, name));
  const gone = (err: unknown) => isStatus(err, 404) || (spec.isGone?.(err) ?? false);
  const provider: pulumi.dynamic.ResourceProvider<I, O> = {
    configure: async (req) => {
      stack.config = req.config;
    },
    check: async (_olds, news) => {
      const label = labelOf(spec.type, news.resourceName);
      const problems = spec.validate(news as Record<string, unknown>).map((f) => ({
        property: f.property,
        reason: `${label}: ${f.property}: ${f.reason}`,
      }));
      if (problems.length > 0) {
        return { inputs: news, failures: problems };
      }
      return { inputs: forEngine(spec.normalize(news)) };
    },
    diff: async (_id, olds, news) =>
      diffFields(olds as Record<string, unknown>, news as Record<string, unknown>, spec),
    create: async (inputs) => {
      const clean = withoutProvider(inputs);
      const { id, outs } = await spec.create(apiFor(clean.resourceName), clean);
      return { id, outs: forEngine({ ...outs, resourceName: clean.resourceName }) };
    },
    read: async (id, props) => {
      const previous = withoutProvider(props ?? {}) as Partial<O>;
      try {
        const live = await spec.read(apiFor(previous.resourceName ?? id), id, previous);
        if (live === undefined) {
          return {};
        }
        const outs = forEngine({ ...live, resourceName: previous.resourceName });
        // On import there is no state yet: the live object doubles as the inputs to diff against.
        return previous.resourceName === undefined
          ? { id, props: outs, inputs: outs }
          : { id, props: outs };
      } catch (err) {
        if (gone(err)) {
          return {};
        }
        throw err;
      }
    },
    delete: async (id, props) => {
      try {
        await spec.delete(apiFor(props.resourceName ?? id), id, props);
      } catch (err) {
        if (!gone(err)) {
          throw err;
        }
      }
    },
  };
  const update = spec.update;
  if (update !== undefined) {
    provider.update = async (id, olds, news) => {
      const clean = withoutProvider(news);
      const outs = await update(apiFor(clean.resourceName), id, olds, clean);
      return { outs: forEngine({ ...outs, resourceName: clean.resourceName }) };
    };
  }
  return provider;
}

// ---------------------------------------------------------------------------------------------
// Objects that already exist

/** The kinds of GitLab object a stack may adopt (stack config `gitlab.adoptExisting`). */
export const ADOPTABLE_KINDS = [
  "environments",
  "variables",
  "protectedBranches",
  "protectedTags",
  "protectedContainerTags",
  "codeOwners",
] as const;
/** One of {@link ADOPTABLE_KINDS}. */
export type AdoptableKind = (typeof ADOPTABLE_KINDS)[number];

/**
 * GitLab's answer to a create whose name is taken:
 * - 400 `has already been taken`: variables (`{"key":["(KEY) has already been taken"]}`),
 *   environments and protected environments (`{"name":["has already been taken"]}`);
 * - 409 `already exists`: protected branches (`{"message":"Protected branch 'main' already
 *   exists"}`, lib/api/protected_branches.rb) and protected tags before GitLab dropped that check;
 * - 422 `has already been taken`: protected tags now (the model's uniqueness validation,
 *   `{"message":["Name has already been taken"]}`) and container tag protection rules
 *   (`{"message":["Tag name pattern has already been taken"]}`).
 */
export function isTaken(err: unknown): boolean {
  if (!(err instanceof GitLabApiError)) {
    return false;
  }
  switch (err.status) {
    case 400:
      return /has already been taken/.test(err.gitlabMessage);
    case 422:
      // The object's own name only: a nested entry taken twice (`Push access levels access level
      // has already been taken`) is a different refusal.
      return /"(Name|Tag name pattern) has already been taken"/.test(err.gitlabMessage);
    case 409:
      return /already exists/.test(err.gitlabMessage);
    default:
      return false;
  }
}

/** What {@link createOrAdopt} needs. */
export interface Adoption<T> {
  readonly api: Api;
  /** Whether the caller asked to take over an existing object (`adoptExisting`). */
  readonly adopt: boolean | undefined;
  readonly kind: AdoptableKind;
  /** The object and its owner, for the error: `CI/CD variable KEY (scope "dev") of project "a/b"`. */
  readonly what: string;
  readonly create: () => Promise<T>;
  /** Takes the existing object over: reads it and applies the wanted settings. */
  readonly takeOver: () => Promise<T>;
}

/**
 * Creates the object; when GitLab says it exists already, takes it over if adoption was asked
 * for, else fails with a message naming the object, its owner and both ways out. An object
 * someone else made is never changed without `adoptExisting`.
 */
export async function createOrAdopt<T>(a: Adoption<T>): Promise<T> {
  try {
    return await a.create();
  } catch (err) {
    if (!isTaken(err)) {
      throw err;
    }
    if (a.adopt === true) {
      return a.takeOver();
    }
    const taken = err as GitLabApiError;
    throw new Error(
      `${a.api.label}: ${a.what} already exists and this stack did not create it ` +
        `(GitLab answered HTTP ${taken.status}: ${taken.gitlabMessage}). Either adopt it: ` +
        `set adoptExisting on the resource (in this platform's stack config, add "${a.kind}" to ` +
        `platform:gitlab.adoptExisting); the stack then overwrites its settings and deletes it on ` +
        `destroy, as if it had created it. Or delete it in GitLab, then run again.`,
    );
  }
}

/** Splits an id like `42:KEY:*` into `count` parts; the last part keeps any further colons. */
export function splitId(id: string, count: number, format: string): string[] {
  const parts = id.split(":");
  if (parts.length < count || parts.slice(0, count).some((p) => p === "")) {
    throw new Error(`invalid id "${id}": expected ${format}`);
  }
  return [...parts.slice(0, count - 1), parts.slice(count - 1).join(":")];
}

// ---------------------------------------------------------------------------------------------
// Class-side helpers (run in the Pulumi program, never inside a provider)

/** True when no Output or Promise hides anywhere inside the value. */
function isPlain(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) {
    return false;
  }
  if (Array.isArray(value)) {
    return value.every(isPlain);
  }
  return value !== null && typeof value === "object" ? Object.values(value).every(isPlain) : true;
}

/**
 * Validates the plain (non-Output) arguments synchronously and throws before anything is
 * registered; Outputs are checked later by the provider's `check`.
 */
export function assertValidArgs(
  type: string,
  name: string,
  args: object,
  validate: (inputs: Record<string, unknown>) => Failure[],
): void {
  // Outputs count as present but not yet known, exactly as `check` sees them during preview.
  const plain = Object.fromEntries(
    Object.entries(args).map(([k, v]) => [k, isPlain(v) ? v : UNKNOWN]),
  );
  const problems = validate(plain);
  if (problems.length > 0) {
    throw new Error(formatFailures(labelOf(type, name), problems));
  }
}

/** Caller options plus `additionalSecretOutputs` for the given outputs. */
export function withSecretOutputs(
  opts: pulumi.CustomResourceOptions | undefined,
  secretOutputs: readonly string[],
): pulumi.CustomResourceOptions {
  return pulumi.mergeOptions(opts, { additionalSecretOutputs: [...secretOutputs] });
}

/**
 * Wraps the named outputs in `pulumi.secret` as well, so they are secret in the program even
 * before the engine applies `additionalSecretOutputs` (and under unit-test mocks).
 */
export function markSecret(resource: object, keys: readonly string[]): void {
  const fields = resource as Record<string, unknown>;
  for (const key of keys) {
    fields[key] = pulumi.secret(fields[key] as pulumi.Output<unknown>);
  }
}

/** What a resource class declares about itself for {@link GitLabResource}. */
export interface ResourceDefinition {
  /** The class name; the type token is `pulumi-nodejs:dynamic/gitlab:<type>`. */
  readonly type: string;
  readonly provider: pulumi.dynamic.ResourceProvider;
  readonly validate: (inputs: Record<string, unknown>) => Failure[];
  /** Outputs registered as secrets (`additionalSecretOutputs`) and wrapped in `pulumi.secret`. */
  readonly secretOutputs?: readonly string[];
}

/**
 * Base of the resource classes: validates plain arguments before registering, registers under
 * `pulumi-nodejs:dynamic/gitlab:<type>` with the resource name as the `resourceName` input (for
 * provider errors), and makes the secret outputs secret.
 */
export abstract class GitLabResource extends pulumi.dynamic.Resource {
  protected constructor(
    definition: ResourceDefinition,
    name: string,
    args: object,
    props: Record<string, unknown>,
    opts: pulumi.CustomResourceOptions | undefined,
  ) {
    assertValidArgs(definition.type, name, args, definition.validate);
    const secrets = definition.secretOutputs ?? [];
    super(
      definition.provider,
      name,
      { resourceName: name, ...props },
      secrets.length > 0 ? withSecretOutputs(opts, secrets) : opts,
      MODULE,
      definition.type,
    );
    markSecret(this, secrets);
  }
}
