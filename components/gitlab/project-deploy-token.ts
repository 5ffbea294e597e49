import * as pulumi from "@pulumi/pulumi";
import { ClientSettings } from "./client";
import { DeployTokenArgs, DeployTokenResource, deployTokenSpec } from "./deploy-tokens";
import { defineProvider } from "./resource";

const TYPE = "ProjectDeployToken";

/** Arguments of {@link ProjectDeployToken}; the names of @pulumi/gitlab's `ProjectDeployTokenArgs`. */
export interface ProjectDeployTokenArgs extends DeployTokenArgs {
  /** The project's id or full path. */
  readonly project: pulumi.Input<string>;
}

/** A provider for {@link ProjectDeployToken} with other retry and timeout settings. */
export function createProjectDeployTokenProvider(settings?: Partial<ClientSettings>) {
  return defineProvider(deployTokenSpec("project", TYPE), settings);
}

/** The dynamic provider {@link ProjectDeployToken} registers with. */
export const ProjectDeployTokenProvider = createProjectDeployTokenProvider();

/**
 * A project deploy token (`/projects/:id/deploy_tokens`), type token
 * `pulumi-nodejs:dynamic/gitlab:ProjectDeployToken`, id `<project>:<deploy_token_id>` (the import
 * id of @pulumi/gitlab). `token` is secret and only returned on creation; any change replaces the
 * token, the new one created before the old one is revoked. `deployTokenId` is an addition: the
 * official provider exposes the id only inside its resource id.
 */
export class ProjectDeployToken extends DeployTokenResource {
  /** The project's id or full path. */
  declare public readonly project: pulumi.Output<string>;

  constructor(name: string, args: ProjectDeployTokenArgs, opts?: pulumi.CustomResourceOptions) {
    super("project", TYPE, ProjectDeployTokenProvider, name, args, opts);
  }
}
