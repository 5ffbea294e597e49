import { RepositoryFiles } from "@gitbeaker/rest";
import * as pulumi from "@pulumi/pulumi";
import { Api, ClientSettings, GitLabApiError } from "./client";
import {
  AdoptableKind,
  BaseInputs,
  Failure,
  defineProvider,
  failures,
  ifKnown,
  required,
  splitId,
  GitLabResource,
} from "./resource";

const TYPE = "RepositoryFile";

/** How `content` is given: `text` (UTF-8) or `base64`. */
export type FileEncoding = "text" | "base64";

/** A repository-relative path: no leading `/`, no `.` or `..` segments, no empty segments. */
export function validateFilePath(path: string): string | undefined {
  const segments = typeof path === "string" ? path.split("/") : [""];
  return segments.every((s) => s !== "" && s !== "." && s !== "..")
    ? undefined
    : `expected a path relative to the repository root such as .gitlab/agents/prod/config.yaml, got ${JSON.stringify(path)}`;
}

interface FileInputs extends BaseInputs {
  readonly project: string;
  readonly branch: string;
  readonly filePath: string;
  readonly content: string;
  readonly encoding: FileEncoding;
  readonly commitMessage: string;
  readonly createCommitMessage?: string;
  readonly updateCommitMessage?: string;
  readonly deleteCommitMessage?: string;
  readonly authorName?: string;
  readonly authorEmail?: string;
  readonly startBranch?: string;
  readonly executeFilemode?: boolean;
  readonly overwriteOnCreate?: boolean;
  readonly adoptKind?: AdoptableKind;
}

interface FileOutputs extends FileInputs {
  readonly fileName: string;
  readonly blobId: string;
  readonly lastCommitId: string;
  readonly contentSha256: string;
}

interface FileSchema {
  readonly file_name: string;
  readonly content: string;
  readonly content_sha256: string;
  readonly blob_id: string;
  readonly last_commit_id: string;
  readonly execute_filemode?: boolean;
}

function validateFile(i: Record<string, unknown>): Failure[] {
  const nonEmpty = (v: string) => (v.trim() === "" ? "must not be empty" : undefined);
  return failures(
    ["project", required(i.project)],
    ["branch", required(i.branch) ?? ifKnown(i.branch, nonEmpty)],
    ["filePath", required(i.filePath) ?? ifKnown(i.filePath, validateFilePath)],
    ["content", required(i.content)],
    [
      "encoding",
      ifKnown<string>(i.encoding, (e) =>
        e === "text" || e === "base64"
          ? undefined
          : `expected "text" or "base64", got ${JSON.stringify(e)}`,
      ),
    ],
    [
      "content",
      i.encoding === "base64"
        ? ifKnown<string>(i.content, (c) =>
            /^[A-Za-z0-9+/\r\n]*={0,2}$/.test(c)
              ? undefined
              : "is not valid base64 (encoding is base64)",
          )
        : undefined,
    ],
    ["commitMessage", required(i.commitMessage) ?? ifKnown(i.commitMessage, nonEmpty)],
  );
}

const toWire = (i: FileInputs) =>
  i.encoding === "base64"
    ? i.content.replace(/\s/g, "")
    : Buffer.from(i.content, "utf8").toString("base64");

const fromWire = (content: string, encoding: FileEncoding) =>
  encoding === "base64" ? content : Buffer.from(content, "base64").toString("utf8");

const isMissingFile = (err: unknown) =>
  err instanceof GitLabApiError &&
  err.status === 400 &&
  /doesn't exist|does not exist/.test(err.gitlabMessage);

/** A provider for {@link RepositoryFile} with other retry and timeout settings. */
export function createRepositoryFileProvider(overrides?: Partial<ClientSettings>) {
  const files = (api: Api) => api.use(RepositoryFiles);
  const commitOptions = (i: FileInputs) => ({
    encoding: "base64",
    authorName: i.authorName,
    authorEmail: i.authorEmail,
    startBranch: i.startBranch,
    executeFilemode: i.executeFilemode,
  });
  const readFile = async (
    api: Api,
    project: string,
    branch: string,
    filePath: string,
    encoding: FileEncoding,
  ) => {
    const f = (await files(api).show(project, filePath, branch)) as unknown as FileSchema;
    return {
      project,
      branch,
      filePath,
      encoding,
      content: fromWire(f.content, encoding),
      executeFilemode: f.execute_filemode,
      fileName: f.file_name,
      blobId: f.blob_id,
      lastCommitId: f.last_commit_id,
      contentSha256: f.content_sha256,
    };
  };
  return defineProvider<FileInputs, FileOutputs>(
    {
      type: TYPE,
      validate: validateFile,
      normalize: (i) => ({ ...i, project: String(i.project), encoding: i.encoding ?? "text" }),
      replaceOn: ["project", "branch", "filePath"],
      collidesIfSame: ["branch", "filePath"],
      updatable: ["content", "encoding", "executeFilemode"],
      computed: ["executeFilemode"],
      isGone: isMissingFile,
      create: async (api, i) => {
        const message = i.createCommitMessage ?? i.commitMessage;
        try {
          await files(api).create(
            i.project,
            i.filePath,
            i.branch,
            toWire(i),
            message,
            commitOptions(i),
          );
        } catch (err) {
          const exists = err instanceof GitLabApiError && /already exists/.test(err.gitlabMessage);
          if (!exists) {
            throw err;
          }
          if (i.overwriteOnCreate !== true) {
            // Never overwritten silently: someone else's file, or one a lost state forgot.
            const how =
              i.adoptKind === undefined
                ? "set overwriteOnCreate"
                : `in this platform's stack config, add "${i.adoptKind}" to platform:gitlab.adoptExisting`;
            throw new Error(
              `${api.label}: file ${JSON.stringify(i.filePath)} on branch ${JSON.stringify(i.branch)} ` +
                `of project ${JSON.stringify(i.project)} already exists and this stack did not create ` +
                `it (GitLab answered HTTP ${err.status}: ${err.gitlabMessage}). Either take it over ` +
                `(${how}); the stack then replaces its content and deletes it on destroy. Or ` +
                "delete or move it in GitLab, then run again.",
            );
          }
          await files(api).edit(
            i.project,
            i.filePath,
            i.branch,
            toWire(i),
            message,
            commitOptions(i),
          );
        }
        const live = await readFile(api, i.project, i.branch, i.filePath, i.encoding);
        return { id: `${i.project}:${i.branch}:${i.filePath}`, outs: { ...i, ...live } };
      },
      read: async (api, id, props) => {
        const [project = "", branch = "", filePath = ""] = splitId(
          id,
          3,
          "<project>:<branch>:<file_path>",
        );
        const live = await readFile(api, project, branch, filePath, props.encoding ?? "text");
        return { ...(props as FileOutputs), ...live };
      },
      update: async (api, _id, olds, news) => {
        const message = news.updateCommitMessage ?? news.commitMessage;
        await files(api).edit(
          olds.project,
          olds.filePath,
          olds.branch,
          toWire(news),
          message,
          commitOptions(news),
        );
        return {
          ...news,
          ...(await readFile(api, olds.project, olds.branch, olds.filePath, news.encoding)),
        };
      },
      delete: async (api, _id, props) => {
        await files(api).remove(
          props.project,
          props.filePath,
          props.branch,
          props.deleteCommitMessage ?? props.commitMessage,
          { authorName: props.authorName, authorEmail: props.authorEmail },
        );
      },
    },
    overrides,
  );
}

/** The dynamic provider {@link RepositoryFile} registers with. */
export const RepositoryFileProvider = createRepositoryFileProvider();

/** Arguments of {@link RepositoryFile}; the names of @pulumi/gitlab's `RepositoryFileArgs`. */
export interface RepositoryFileArgs {
  /** The project's id or full path. Changing it replaces the file. */
  readonly project: pulumi.Input<string>;
  /** The branch to commit to. Changing it replaces the file. */
  readonly branch: pulumi.Input<string>;
  /** Path from the repository root, without a leading `/`. Changing it replaces the file. */
  readonly filePath: pulumi.Input<string>;
  /** The file content, as text or base64 according to `encoding`. */
  readonly content: pulumi.Input<string>;
  /**
   * How `content` is given: `text` or `base64`. Default `text` here, while @pulumi/gitlab
   * defaults to `base64`: when switching providers, set `encoding: "text"` explicitly (or
   * base64-encode the content). On the wire we always send base64, which avoids GitLab issue
   * 342430 with `text`.
   */
  readonly encoding?: pulumi.Input<FileEncoding>;
  /** The commit message for create, update and delete unless the specific ones are set. */
  readonly commitMessage: pulumi.Input<string>;
  /** Commit message when creating. Default `commitMessage`. */
  readonly createCommitMessage?: pulumi.Input<string>;
  /** Commit message when updating. Default `commitMessage`. */
  readonly updateCommitMessage?: pulumi.Input<string>;
  /** Commit message when deleting. Default `commitMessage`. */
  readonly deleteCommitMessage?: pulumi.Input<string>;
  /** Commit author name. Default the token's user. */
  readonly authorName?: pulumi.Input<string>;
  /** Commit author email. Default the token's user. */
  readonly authorEmail?: pulumi.Input<string>;
  /** Branch to start a missing `branch` from. Default none. */
  readonly startBranch?: pulumi.Input<string>;
  /** Sets the execute bit. Default GitLab's (`false`). */
  readonly executeFilemode?: pulumi.Input<boolean>;
  /**
   * Overwrite a file that already exists when creating. Default `false`: an existing file stops
   * the create with an error naming it.
   */
  readonly overwriteOnCreate?: pulumi.Input<boolean>;
  /**
   * The `gitlab.adoptExisting` kind that would set `overwriteOnCreate` in this platform's stack
   * config, for that error's hint (not in @pulumi/gitlab). Default none.
   */
  readonly adoptKind?: pulumi.Input<AdoptableKind>;
}

/**
 * A file in a repository, committed through `/projects/:id/repository/files/:file_path`, type
 * token `pulumi-nodejs:dynamic/gitlab:RepositoryFile`, id `<project>:<branch>:<file_path>` (the
 * import id of @pulumi/gitlab). Used for the agent's `.gitlab/agents/<name>/config.yaml`.
 */
export class RepositoryFile extends GitLabResource {
  declare public readonly project: pulumi.Output<string>;
  declare public readonly branch: pulumi.Output<string>;
  declare public readonly filePath: pulumi.Output<string>;
  declare public readonly content: pulumi.Output<string>;
  declare public readonly encoding: pulumi.Output<FileEncoding>;
  declare public readonly commitMessage: pulumi.Output<string>;
  /** The file name (last path segment). */
  declare public readonly fileName: pulumi.Output<string>;
  declare public readonly blobId: pulumi.Output<string>;
  /** The last commit that changed the file. */
  declare public readonly lastCommitId: pulumi.Output<string>;
  declare public readonly contentSha256: pulumi.Output<string>;

  constructor(name: string, args: RepositoryFileArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...args,
      encoding: args.encoding,
      fileName: undefined,
      blobId: undefined,
      lastCommitId: undefined,
      contentSha256: undefined,
    };
    super(
      { type: TYPE, provider: RepositoryFileProvider, validate: validateFile },
      name,
      args,
      props,
      opts,
    );
  }
}
