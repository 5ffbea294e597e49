// What ProjectVariable and GroupVariable share: GitLab's rules for keys, scopes and masked values,
// and one provider spec for both owners (`/projects/:id/variables`, `/groups/:id/variables`).
import { GroupVariables, ProjectVariables } from "@gitbeaker/rest";
import * as pulumi from "@pulumi/pulumi";
import { Api } from "./client";
import {
  BaseInputs,
  Failure,
  ProviderSpec,
  failures,
  ifKnown,
  known,
  required,
  splitId,
  GitLabResource,
  createOrAdopt,
} from "./resource";

/** `env_var` (the default) or `file`. */
export type VariableType = "env_var" | "file";

/** The variable's owner: a project or a group. */
export type VariableOwner = "project" | "group";

/** Provider-side inputs of a project or group variable, after defaults. */
export interface VariableInputs extends BaseInputs {
  readonly project?: string;
  readonly group?: string;
  readonly key: string;
  readonly value: string;
  readonly protected: boolean;
  readonly masked: boolean;
  /** Masked and hidden: the value is never shown again, not even to maintainers (GitLab 17.4). */
  readonly hidden: boolean;
  readonly raw: boolean;
  readonly variableType: VariableType;
  readonly environmentScope: string;
  readonly description?: string;
  /** Take over a variable of the same key and scope that already exists (see `createOrAdopt`). */
  readonly adoptExisting?: boolean;
}

/**
 * GitLab's key rule (`Ci::HasVariable`): letters, digits and `_`, at most 255 characters.
 * Returns the problem, or undefined when the key is valid.
 */
export function validateVariableKey(key: string): string | undefined {
  if (typeof key !== "string" || !/^[A-Za-z0-9_]{1,255}$/.test(key)) {
    return `expected 1 to 255 characters from [A-Za-z0-9_], got ${JSON.stringify(key)}`;
  }
  return undefined;
}

// Ruby's \s, which GitLab's patterns use, is ASCII whitespace only.
const WHITESPACE = /[ \t\r\n\f\v]/;

/**
 * GitLab's masking rule (`Ci::Maskable`): at least 8 characters and no whitespace; unless the
 * variable is `raw`, only the Base64 alphabet plus `@ : . ~ - _` (REGEX
 * `\A[a-zA-Z0-9_+=/@:.~-]{8,}\z`; raw variables use MASK_AND_RAW_REGEX `\A\S{8,}\z`). The problem
 * never quotes the value. Returns undefined when GitLab would accept the value.
 */
export function validateMaskedValue(value: string, raw = false): string | undefined {
  if (typeof value !== "string" || [...value].length < 8) {
    return "a masked value needs at least 8 characters";
  }
  if (WHITESPACE.test(value)) {
    return "a masked value cannot contain whitespace";
  }
  if (!raw && !/^[A-Za-z0-9_+=/@:.~-]+$/.test(value)) {
    return (
      "a masked value that is not raw may only contain A-Z a-z 0-9 + / = - _ @ : . ~ " +
      "(set raw: true to allow other characters)"
    );
  }
  return undefined;
}

/** GitLab's environment scope rule: letters, digits, `-_/${}. *` and spaces, 1 to 255 long. */
export function validateEnvironmentScope(scope: string): string | undefined {
  if (typeof scope !== "string" || !/^[a-zA-Z0-9_/${}. *-]{1,255}$/.test(scope)) {
    return (
      "expected 1 to 255 letters, digits, '-', '_', '/', '$', '{', '}', '.', '*' or spaces, " +
      `got ${JSON.stringify(scope)}`
    );
  }
  return undefined;
}

/** `env_var` or `file`. */
export function validateVariableType(type: string): string | undefined {
  return type === "env_var" || type === "file"
    ? undefined
    : `expected "env_var" or "file", got ${JSON.stringify(type)}`;
}

/** All argument problems of a variable; values not known yet are skipped. */
export function validateVariable(owner: VariableOwner, inputs: Record<string, unknown>): Failure[] {
  const masked = inputs.masked === true;
  const rawKnown = inputs.raw === undefined || known(inputs.raw);
  return failures(
    [owner, required(inputs[owner])],
    ["key", required(inputs.key) ?? ifKnown(inputs.key, validateVariableKey)],
    [
      "value",
      required(inputs.value) ??
        (masked && rawKnown
          ? ifKnown<string>(inputs.value, (v) => validateMaskedValue(v, inputs.raw === true))
          : undefined),
    ],
    ["variableType", ifKnown(inputs.variableType, validateVariableType)],
    ["environmentScope", ifKnown(inputs.environmentScope, validateEnvironmentScope)],
    [
      "hidden",
      inputs.hidden === true && (inputs.masked === undefined || inputs.masked === false)
        ? "a hidden variable must be masked too (GitLab: masked should be true when variable is hidden)"
        : undefined,
    ],
  );
}

interface VariableSchema {
  readonly key: string;
  readonly variable_type: VariableType;
  readonly protected: boolean;
  readonly masked: boolean;
  readonly hidden?: boolean;
  /** Null for a hidden variable. */
  readonly value: string | null;
  readonly raw?: boolean;
  readonly environment_scope?: string;
  readonly description?: string | null;
}

/**
 * The variable as this provider keeps it. GitLab never returns a hidden variable's value, so
 * `known` (the value in state, or the one just sent) stands in for it.
 */
function fromApi(
  owner: VariableOwner,
  ownerId: string,
  v: VariableSchema,
  known: string | undefined,
): VariableInputs {
  return {
    [owner]: ownerId,
    key: v.key,
    value: v.value ?? known ?? "",
    protected: v.protected,
    masked: v.masked,
    hidden: v.hidden ?? false,
    raw: v.raw ?? false,
    variableType: v.variable_type,
    environmentScope: v.environment_scope ?? "*",
    description: v.description ?? undefined,
  };
}

/** `filter[environment_scope]=<scope>`: without it GitLab answers 409 once a key has two scopes. */
function scopeFilter(scope: string) {
  return { filter: { environment_scope: scope } };
}

/**
 * gitbeaker types the filter of PUT and DELETE as a body field; we send it in the query string,
 * as for GET and as GitLab's docs show, through gitbeaker's `searchParams` request option.
 */
function inScope<T extends object>(scope: string, options: T): T {
  return { ...options, searchParams: scopeFilter(scope) };
}

/** The provider spec shared by ProjectVariable and GroupVariable. */
export function variableSpec(
  owner: VariableOwner,
  type: string,
): ProviderSpec<VariableInputs, VariableInputs> {
  const client = (api: Api) =>
    owner === "project" ? api.use(ProjectVariables) : api.use(GroupVariables);
  const ownerOf = (inputs: VariableInputs) => String(inputs[owner]);
  const settable = (i: VariableInputs) => ({
    variableType: i.variableType,
    protected: i.protected,
    masked: i.masked,
    raw: i.raw,
    description: i.description,
  });
  return {
    type,
    validate: (inputs) => validateVariable(owner, inputs),
    normalize: (i) => ({
      ...i,
      [owner]: String(i[owner]),
      protected: i.protected ?? false,
      masked: i.masked ?? false,
      hidden: i.hidden ?? false,
      raw: i.raw ?? false,
      variableType: i.variableType ?? "env_var",
      environmentScope: i.environmentScope ?? "*",
    }),
    // GitLab sets `hidden` only on create and never lets it change.
    replaceOn: [owner, "key", "environmentScope", "hidden"],
    collidesIfSame: ["key", "environmentScope"],
    updatable: ["value", "protected", "masked", "raw", "variableType", "description"],
    create: async (api, i) => {
      const live = await createOrAdopt({
        api,
        adopt: i.adoptExisting,
        kind: "variables",
        what:
          `CI/CD variable ${i.key} (environment scope ${JSON.stringify(i.environmentScope)}) ` +
          `of ${owner} ${JSON.stringify(ownerOf(i))}`,
        create: async () =>
          (await client(api).create(ownerOf(i), i.key, i.value, {
            ...settable(i),
            environmentScope: i.environmentScope,
            ...(i.hidden ? { maskedAndHidden: true } : {}),
          } as never)) as unknown as VariableSchema,
        // Adopted: its value and settings become the stack's.
        takeOver: async () =>
          (await client(api).edit(
            ownerOf(i),
            i.key,
            i.value,
            inScope(i.environmentScope, settable(i)) as never,
          )) as unknown as VariableSchema,
      });
      const id = `${ownerOf(i)}:${i.key}:${i.environmentScope}`;
      return { id, outs: { ...i, ...fromApi(owner, ownerOf(i), live, i.value) } };
    },
    read: async (api, id, props) => {
      const [ownerId = "", key = "", scope = ""] = splitId(
        id,
        3,
        `<${owner}>:<key>:<environment_scope>`,
      );
      const live = (await client(api).show(
        ownerId,
        key,
        scopeFilter(scope),
      )) as unknown as VariableSchema;
      return fromApi(owner, ownerId, live, props.value);
    },
    update: async (api, _id, olds, news) => {
      const updated = (await client(api).edit(
        ownerOf(olds),
        olds.key,
        news.value,
        inScope(olds.environmentScope, settable(news)) as never,
      )) as unknown as VariableSchema;
      return { ...news, ...fromApi(owner, ownerOf(news), updated, news.value) };
    },
    delete: async (api, _id, props) => {
      await client(api).remove(ownerOf(props), props.key, inScope(props.environmentScope, {}));
    },
  };
}

/** Arguments common to {@link ProjectVariableArgs} and {@link GroupVariableArgs}. */
export interface VariableArgs {
  /** The variable's name: letters, digits and `_`, at most 255. Changing it replaces it. */
  readonly key: pulumi.Input<string>;
  /** The value; stored as a secret in state and returned as a secret output. */
  readonly value: pulumi.Input<string>;
  /** Only pipelines on protected branches and tags get it. Default `false`. */
  readonly protected?: pulumi.Input<boolean>;
  /** Masked in job logs; GitLab then requires a maskable value (see `validateMaskedValue`). Default `false`. */
  readonly masked?: pulumi.Input<boolean>;
  /**
   * Masked and hidden (GitLab 17.4+): nobody sees the value again in GitLab's UI or API. Needs
   * `masked`. Set at creation only: changing it replaces the variable. Default `false`.
   */
  readonly hidden?: pulumi.Input<boolean>;
  /** Not expanded (`$OTHER` stays literal); raw masked values may use any non-space characters. Default `false`. */
  readonly raw?: pulumi.Input<boolean>;
  /** `env_var` or `file`. Default `env_var`. */
  readonly variableType?: pulumi.Input<VariableType>;
  /** The environments that get it (`production`, `review/*`). Changing it replaces it. Default `*`. */
  readonly environmentScope?: pulumi.Input<string>;
  /** A description shown in GitLab. Default none. */
  readonly description?: pulumi.Input<string>;
  /**
   * When a variable of this key and scope already exists, take it over (its value and settings
   * become these; destroy deletes it) instead of failing. An addition to @pulumi/gitlab's
   * arguments. Default `false`: an existing variable is never changed.
   */
  readonly adoptExisting?: pulumi.Input<boolean>;
}

/** The outputs and construction shared by ProjectVariable and GroupVariable. */
export abstract class VariableResource extends GitLabResource {
  /** The variable's name. */
  declare public readonly key: pulumi.Output<string>;
  /** The value (secret). */
  declare public readonly value: pulumi.Output<string>;
  /** Whether only protected refs get it. */
  declare public readonly protected: pulumi.Output<boolean>;
  /** Whether it is masked in job logs. */
  declare public readonly masked: pulumi.Output<boolean>;
  /** Whether it is masked and hidden. */
  declare public readonly hidden: pulumi.Output<boolean>;
  /** Whether it is left unexpanded. */
  declare public readonly raw: pulumi.Output<boolean>;
  /** `env_var` or `file`. */
  declare public readonly variableType: pulumi.Output<VariableType>;
  /** The environment scope. */
  declare public readonly environmentScope: pulumi.Output<string>;
  /** The description, if any. */
  declare public readonly description: pulumi.Output<string | undefined>;

  protected constructor(
    owner: VariableOwner,
    type: string,
    provider: pulumi.dynamic.ResourceProvider,
    name: string,
    args: VariableArgs & {
      readonly project?: pulumi.Input<string>;
      readonly group?: pulumi.Input<string>;
    },
    opts: pulumi.CustomResourceOptions | undefined,
  ) {
    const props = {
      [owner]: args[owner],
      key: args.key,
      value: pulumi.secret(args.value),
      protected: args.protected,
      masked: args.masked,
      hidden: args.hidden,
      raw: args.raw,
      variableType: args.variableType,
      environmentScope: args.environmentScope,
      description: args.description,
      adoptExisting: args.adoptExisting,
    };
    super(
      {
        type,
        provider,
        validate: (inputs) => validateVariable(owner, inputs),
        secretOutputs: ["value"],
      },
      name,
      args,
      props,
      opts,
    );
  }
}
