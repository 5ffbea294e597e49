import * as pulumi from "@pulumi/pulumi";
import { ClientSettings } from "./client";
import { defineProvider } from "./resource";
import { VariableArgs, VariableResource, variableSpec } from "./variables";

const TYPE = "ProjectVariable";

/** Arguments of {@link ProjectVariable}; the names of @pulumi/gitlab's `ProjectVariableArgs`. */
export interface ProjectVariableArgs extends VariableArgs {
  /** The project's id or full path (`group/app`). Changing it replaces the variable. */
  readonly project: pulumi.Input<string>;
}

/** A provider for {@link ProjectVariable} with other retry and timeout settings. */
export function createProjectVariableProvider(settings?: Partial<ClientSettings>) {
  return defineProvider(variableSpec("project", TYPE), settings);
}

/** The dynamic provider {@link ProjectVariable} registers with. */
export const ProjectVariableProvider = createProjectVariableProvider();

/**
 * A project CI/CD variable (`/projects/:id/variables`), type token
 * `pulumi-nodejs:dynamic/gitlab:ProjectVariable`. Its id is `<project>:<key>:<environment_scope>`,
 * the import id of @pulumi/gitlab; every request carries `filter[environment_scope]`, so
 * variables sharing a key across scopes never touch each other.
 */
export class ProjectVariable extends VariableResource {
  /** The project's id or full path. */
  declare public readonly project: pulumi.Output<string>;

  constructor(name: string, args: ProjectVariableArgs, opts?: pulumi.CustomResourceOptions) {
    super("project", TYPE, ProjectVariableProvider, name, args, opts);
  }
}
