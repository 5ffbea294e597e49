import * as pulumi from "@pulumi/pulumi";
import { ClientSettings } from "./client";
import { defineProvider } from "./resource";
import { VariableArgs, VariableResource, variableSpec } from "./variables";

const TYPE = "GroupVariable";

/** Arguments of {@link GroupVariable}; the names of @pulumi/gitlab's `GroupVariableArgs`. */
export interface GroupVariableArgs extends VariableArgs {
  /** The group's id or full path (`platform/apps`). Changing it replaces the variable. */
  readonly group: pulumi.Input<string>;
}

/** A provider for {@link GroupVariable} with other retry and timeout settings. */
export function createGroupVariableProvider(settings?: Partial<ClientSettings>) {
  return defineProvider(variableSpec("group", TYPE), settings);
}

/** The dynamic provider {@link GroupVariable} registers with. */
export const GroupVariableProvider = createGroupVariableProvider();

/**
 * A group CI/CD variable (`/groups/:id/variables`), type token
 * `pulumi-nodejs:dynamic/gitlab:GroupVariable`, id `<group>:<key>:<environment_scope>` (the
 * import id of @pulumi/gitlab). Every request carries `filter[environment_scope]`.
 */
export class GroupVariable extends VariableResource {
  /** The group's id or full path. */
  declare public readonly group: pulumi.Output<string>;

  constructor(name: string, args: GroupVariableArgs, opts?: pulumi.CustomResourceOptions) {
    super("group", TYPE, GroupVariableProvider, name, args, opts);
  }
}
