import * as pulumi from "@pulumi/pulumi";
import { ClientSettings } from "./client";
import { DeployTokenArgs, DeployTokenResource, deployTokenSpec } from "./deploy-tokens";
import { defineProvider } from "./resource";

const TYPE = "GroupDeployToken";

/** Arguments of {@link GroupDeployToken}; the names of @pulumi/gitlab's `GroupDeployTokenArgs`. */
export interface GroupDeployTokenArgs extends DeployTokenArgs {
  /** The group's id or full path. */
  readonly group: pulumi.Input<string>;
}

/** A provider for {@link GroupDeployToken} with other retry and timeout settings. */
export function createGroupDeployTokenProvider(settings?: Partial<ClientSettings>) {
  return defineProvider(deployTokenSpec("group", TYPE), settings);
}

/** The dynamic provider {@link GroupDeployToken} registers with. */
export const GroupDeployTokenProvider = createGroupDeployTokenProvider();

/**
 * A group deploy token (`/groups/:id/deploy_tokens`), type token
 * `pulumi-nodejs:dynamic/gitlab:GroupDeployToken`, id `<group>:<deploy_token_id>` (the import
 * id of @pulumi/gitlab). `token` is secret and only returned on creation; any change replaces the
 * token, the new one created before the old one is revoked. `deployTokenId` is an addition: the
 * official provider exposes the id only inside its resource id.
 */
export class GroupDeployToken extends DeployTokenResource {
  /** The group's id or full path. */
  declare public readonly group: pulumi.Output<string>;

  constructor(name: string, args: GroupDeployTokenArgs, opts?: pulumi.CustomResourceOptions) {
    super("group", TYPE, GroupDeployTokenProvider, name, args, opts);
  }
}
