// What ProjectDeployToken and GroupDeployToken share: GitLab's rules for scopes, usernames and
// expiry, one provider spec for both owners and the common outputs.
import { DeployTokens } from "@gitbeaker/rest";
import * as pulumi from "@pulumi/pulumi";
import {
  BaseInputs,
  Failure,
  ProviderSpec,
  failures,
  ifKnown,
  required,
  splitId,
  GitLabResource,
} from "./resource";

/** The scopes GitLab accepts for deploy tokens (project-only: the virtual registry ones). */
export const DEPLOY_TOKEN_SCOPES = [
  "read_repository",
  "read_registry",
  "write_registry",
  "read_package_registry",
  "write_package_registry",
  "read_virtual_registry",
  "write_virtual_registry",
] as const;

/** One deploy token scope. */
export type DeployTokenScope = (typeof DEPLOY_TOKEN_SCOPES)[number];

/**
 * At least one scope, each one GitLab accepts for the owner: the virtual registry scopes exist for
 * project tokens only. Returns the problem or undefined.
 */
export function validateDeployTokenScopes(
  scopes: readonly string[],
  owner: "project" | "group" = "project",
): string | undefined {
  const allowed: readonly string[] =
    owner === "project"
      ? DEPLOY_TOKEN_SCOPES
      : DEPLOY_TOKEN_SCOPES.filter((s) => !s.includes("virtual"));
  if (!Array.isArray(scopes) || scopes.length === 0) {
    return `expected at least one of ${allowed.join(", ")}`;
  }
  const unknown = scopes.filter((s) => !allowed.includes(s));
  return unknown.length > 0
    ? `unknown scope ${JSON.stringify(unknown[0])} for a ${owner} deploy token; expected one of ${allowed.join(", ")}`
    : undefined;
}

/** GitLab's deploy token username rule: letters, digits, `.`, `+`, `_` and `-`, 1 to 255. */
export function validateDeployTokenUsername(username: string): string | undefined {
  return typeof username === "string" && /^[a-zA-Z0-9.+_-]{1,255}$/.test(username)
    ? undefined
    : `expected 1 to 255 letters, digits, '.', '+', '_' or '-', got ${JSON.stringify(username)}`;
}

/** An RFC 3339 timestamp (`2026-03-14T00:00:00Z`) or date (`2026-03-14`). */
export function validateTimestamp(value: string): string | undefined {
  const ok = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value);
  return ok && !Number.isNaN(Date.parse(value))
    ? undefined
    : `expected an RFC 3339 timestamp such as 2026-03-14T00:00:00Z, got ${JSON.stringify(value)}`;
}

/** Canonical form of a timestamp, as GitLab returns it. */
function isoTime(value: string | null | undefined): string | undefined {
  return value === undefined || value === null ? undefined : new Date(value).toISOString();
}

export type TokenOwner = "project" | "group";

/** Provider-side inputs of a deploy token. */
export interface DeployTokenInputs extends BaseInputs {
  readonly project?: string;
  readonly group?: string;
  readonly name: string;
  readonly username?: string;
  readonly scopes: DeployTokenScope[];
  readonly expiresAt?: string;
}

/** State of a deploy token: inputs plus what GitLab returned. */
export interface DeployTokenOutputs extends DeployTokenInputs {
  readonly token?: string;
  readonly deployTokenId: number;
  readonly expired: boolean;
  readonly revoked: boolean;
}

export function validateDeployToken(owner: TokenOwner, inputs: Record<string, unknown>): Failure[] {
  return failures(
    [owner, required(inputs[owner])],
    [
      "name",
      required(inputs.name) ??
        ifKnown<string>(inputs.name, (n) => (n === "" ? "must not be empty" : undefined)),
    ],
    ["username", ifKnown(inputs.username, validateDeployTokenUsername)],
    [
      "scopes",
      required(inputs.scopes) ??
        ifKnown<string[]>(inputs.scopes, (s) => validateDeployTokenScopes(s, owner)),
    ],
    ["expiresAt", ifKnown(inputs.expiresAt, validateTimestamp)],
  );
}

interface DeployTokenSchema {
  readonly id: number;
  readonly name: string;
  readonly username: string;
  readonly expires_at: string | null;
  readonly revoked: boolean;
  readonly expired: boolean;
  readonly scopes: DeployTokenScope[];
  readonly token?: string;
}

/** The provider spec shared by ProjectDeployToken and GroupDeployToken. */
export function deployTokenSpec(
  owner: TokenOwner,
  type: string,
): ProviderSpec<DeployTokenInputs, DeployTokenOutputs> {
  const where = (ownerId: string) =>
    owner === "project" ? { projectId: ownerId } : { groupId: ownerId };
  const fromApi = (ownerId: string, t: DeployTokenSchema) => ({
    [owner]: ownerId,
    name: t.name,
    username: t.username,
    scopes: [...t.scopes].sort(),
    expiresAt: isoTime(t.expires_at),
    deployTokenId: t.id,
    expired: t.expired,
    revoked: t.revoked,
  });
  return {
    type,
    validate: (inputs) => validateDeployToken(owner, inputs),
    normalize: (i) => ({
      ...i,
      [owner]: String(i[owner]),
      scopes: [...new Set(i.scopes)].sort(),
      expiresAt: isoTime(i.expiresAt),
    }),
    // A token cannot be changed; a new one is created before the old one is revoked.
    replaceOn: [owner, "name", "username", "scopes", "expiresAt"],
    updatable: [],
    computed: ["username"],
    create: async (api, i) => {
      const ownerId = String(i[owner]);
      const created = (await api.use(DeployTokens).create(
        i.name,
        i.scopes as never,
        {
          ...where(ownerId),
          expires_at: i.expiresAt,
          username: i.username,
        } as never,
      )) as unknown as DeployTokenSchema;
      return {
        id: `${ownerId}:${created.id}`,
        outs: { ...i, ...fromApi(ownerId, created), token: created.token },
      };
    },
    read: async (api, id, props) => {
      const [ownerId = "", tokenId = ""] = splitId(id, 2, `<${owner}>:<deploy_token_id>`);
      const live = (await api
        .use(DeployTokens)
        .show(Number(tokenId), where(ownerId) as never)) as unknown as DeployTokenSchema;
      // GitLab cannot show a token again; the value from creation stays in state.
      return live.revoked ? undefined : { ...fromApi(ownerId, live), token: props.token };
    },
    delete: async (api, id) => {
      const [ownerId = "", tokenId = ""] = splitId(id, 2, `<${owner}>:<deploy_token_id>`);
      await api.use(DeployTokens).remove(Number(tokenId), where(ownerId) as never);
    },
  };
}

/** Arguments common to both deploy token classes. */
export interface DeployTokenArgs {
  /** A name describing the token. Changing any argument replaces the token. */
  readonly name: pulumi.Input<string>;
  /** The username to log in with. Default `gitlab+deploy-token-{n}`, chosen by GitLab. */
  readonly username?: pulumi.Input<string>;
  /** At least one of `read_repository`, `read_registry`, `write_registry`, `read_package_registry`, `write_package_registry` (projects also `read_virtual_registry`, `write_virtual_registry`). */
  readonly scopes: pulumi.Input<pulumi.Input<DeployTokenScope>[]>;
  /** Expiry as an RFC 3339 timestamp. Default: never expires. */
  readonly expiresAt?: pulumi.Input<string>;
}

/** The outputs and construction shared by ProjectDeployToken and GroupDeployToken. */
export abstract class DeployTokenResource extends GitLabResource {
  /** The token's name. */
  declare public readonly name: pulumi.Output<string>;
  /** The username that goes with the token. */
  declare public readonly username: pulumi.Output<string>;
  /** The granted scopes, sorted. */
  declare public readonly scopes: pulumi.Output<DeployTokenScope[]>;
  /** Expiry as an ISO timestamp, if any. */
  declare public readonly expiresAt: pulumi.Output<string | undefined>;
  /** The secret token; only known for tokens created here, not for imported ones. */
  declare public readonly token: pulumi.Output<string>;
  /** GitLab's id of the token. */
  declare public readonly deployTokenId: pulumi.Output<number>;
  /** Whether it has expired. */
  declare public readonly expired: pulumi.Output<boolean>;
  /** Whether it was revoked. */
  declare public readonly revoked: pulumi.Output<boolean>;

  protected constructor(
    owner: TokenOwner,
    type: string,
    provider: pulumi.dynamic.ResourceProvider,
    name: string,
    args: DeployTokenArgs & {
      readonly project?: pulumi.Input<string>;
      readonly group?: pulumi.Input<string>;
    },
    opts: pulumi.CustomResourceOptions | undefined,
  ) {
    const props = {
      [owner]: args[owner],
      name: args.name,
      username: args.username,
      scopes: args.scopes,
      expiresAt: args.expiresAt,
      token: undefined,
      deployTokenId: undefined,
      expired: undefined,
      revoked: undefined,
    };
    super(
      {
        type,
        provider,
        validate: (inputs) => validateDeployToken(owner, inputs),
        secretOutputs: ["token"],
      },
      name,
      args,
      props,
      opts,
    );
  }
}
