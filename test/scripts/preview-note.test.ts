import { PreviewStep, summarize } from "../../scripts/ci/digest";
import {
  GITLAB_TEXT_LIMIT,
  JobContext,
  code,
  fitToLimit,
  renderDriftIssue,
  renderDriftResolved,
  renderPreviewNote,
} from "../../scripts/ci/markdown";
import { previewOutcome, readPreview } from "../../scripts/ci/preview";
import { REDACTED } from "../../scripts/ci/redact";
import { fixtureText } from "./fixtures";

const CTX: JobContext = {
  commit: "4f2a9c1",
  pipelineId: "1234",
  pipelineUrl: "https://gitlab.example.com/acme/platform/-/pipelines/1234",
  jobUrl: "https://gitlab.example.com/acme/platform/-/jobs/5678",
};
const META =
  "<sub>Preview of commit `4f2a9c1` · [pipeline #1234](https://gitlab.example.com/acme/platform/-/pipelines/1234) · [job log](https://gitlab.example.com/acme/platform/-/jobs/5678). This note is updated on every push.</sub>";

function read(name: Parameters<typeof fixtureText>[0], secrets: string[] = []) {
  const result = readPreview(fixtureText(name), secrets);
  if (!("summary" in result)) {
    throw new Error(result.parseError);
  }
  return result.summary;
}

describe("the merge request note", () => {
  test("a preview with changes: marker, stack, counts, replaced/deleted first, warnings, folded diff", () => {
    const note = renderPreviewNote("dev", { ok: true, summary: read("dev-changes") }, CTX);
    const [head, details] = note.split("\n<details>\n");
    expect(head).toBe(
      [
        "<!-- platform-preview:stack=dev -->",
        "### Pulumi preview of `dev`: 2 to create, 2 to update, 1 to replace, 2 to delete",
        "",
        "| Create | Update | Replace | Delete |",
        "| -----: | -----: | ------: | -----: |",
        "| 2 | 2 | 1 | 2 |",
        "",
        META,
        "",
        "**Replaced and deleted resources** (review these first):",
        "",
        "- **replace** `pulumi-nodejs:dynamic/gitlab:UserRunner` `runner-runner` (because of `maintenanceNote`)",
        "- **delete** `kubernetes:networking.k8s.io/v1:Ingress` `app-web`",
        "- **delete** `pulumi-nodejs:dynamic/gitlab:ProjectVariable` `ci-project:acme/platform:LOG_LEVEL:dev`",
        "",
        "**Warnings**",
        "",
        "```text",
        "warning: Attempting to deploy or update resources with 1 pending operations from previous deployment.",
        "  * urn:pulumi:dev::platform::platform:ci:GitLabRunner$kubernetes:helm.sh/v3:Release::runner-release, interrupted while updating",
        "These resources are in an unknown state because the Pulumi CLI was interrupted while waiting for changes to these resources to complete. You should confirm whether or not the operations listed completed successfully by checking the state of the appropriate provider. For example, if you are using AWS, you can confirm using the AWS Console.",
        "",
        "Once you have confirmed the status of the interrupted operations, you can repair your stack using `pulumi refresh` which will refresh the state from the provider you are using and clear the pending operations if there are any.",
        "",
        "Note that `pulumi refresh` will need to be run interactively to clear pending CREATE operations.",
        "",
        "```",
        "",
      ].join("\n"),
    );
    expect(details?.startsWith("<summary>Full diff (7 resources)</summary>\n\n```diff\n")).toBe(
      true,
    );
    expect(details?.endsWith("\n```\n\n</details>\n")).toBe(true);
    expect(details).toContain(
      '\n-      spec.template.spec.containers[0].image: "registry.gitlab.example.com/acme/web:1.4.2"\n+      spec.template.spec.containers[0].image: "registry.gitlab.example.com/acme/web:1.5.0"\n',
    );
    expect(note).not.toContain("\u001b");
  });

  test("no changes: one sentence, no table and no diff", () => {
    expect(renderPreviewNote("dev", { ok: true, summary: read("dev-no-changes") }, CTX)).toBe(
      [
        "<!-- platform-preview:stack=dev -->",
        "### Pulumi preview of `dev`: no changes",
        "",
        "Merging this merge request changes nothing in `dev`.",
        "",
        META,
        "",
      ].join("\n"),
    );
  });

  test("a failed preview: the error diagnostics and Pulumi's stderr, colours stripped", () => {
    const outcome = previewOutcome(
      255,
      readPreview(fixtureText("staging-failed"), []),
      "error: an unhandled error occurred: Program exited with non-zero exit code: 1\n",
    );
    expect(renderPreviewNote("staging", outcome, CTX)).toBe(
      [
        "<!-- platform-preview:stack=staging -->",
        "### Pulumi preview of `staging` failed",
        "",
        "The preview stopped with an error, so what this merge request would change in `staging` is unknown. Fix the error and push again.",
        "",
        META,
        "",
        "**Error**",
        "",
        "```text",
        "error: Running program '/builds/acme/platform' failed with an unhandled exception:",
        'Error: Invalid configuration for stack "staging" (1 problem):',
        "  - apps[0].port: expected a port 1-65535, got 80800",
        "    at parseEnvironmentConfig (/builds/acme/platform/stacks/resolve.ts:55:11)",
        "    at loadEnvironmentConfig (/builds/acme/platform/stacks/load.ts:12:10)",
        "    at Object.<anonymous> (/builds/acme/platform/index.ts:24:18)",
        "pulumi preview exited with code 255:",
        "error: an unhandled error occurred: Program exited with non-zero exit code: 1",
        "```",
        "",
      ].join("\n"),
    );
  });

  test("a preview that printed nothing: the parse failure and the exit code", () => {
    const outcome = previewOutcome(255, readPreview("", []), "");
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toMatch(
      /^pulumi preview --json printed no JSON document \(.+\)\npulumi preview exited with code 255$/,
    );
  });

  test("a document with exit code 0 and a failed one with partial changes", () => {
    expect(previewOutcome(0, readPreview(fixtureText("dev-changes"), []), "").ok).toBe(true);
    const failed = previewOutcome(1, readPreview(fixtureText("dev-changes"), []), "boom");
    expect(failed.ok).toBe(false);
    expect(!failed.ok && failed.summary?.counts).toEqual({
      create: 2,
      update: 2,
      replace: 1,
      delete: 2,
    });
    const note = renderPreviewNote("dev", failed, CTX);
    expect(note).toContain(
      "\n<summary>Changes computed before the error (7 resources)</summary>\n",
    );
    expect(note).toContain("\n```text\npulumi preview exited with code 1:\nboom\n```\n");
  });

  test("without job variables there is no meta line", () => {
    expect(renderPreviewNote("dev", { ok: true, summary: read("dev-no-changes") }, {})).toBe(
      "<!-- platform-preview:stack=dev -->\n### Pulumi preview of `dev`: no changes\n\nMerging this merge request changes nothing in `dev`.\n",
    );
  });
});

describe("secrets in notes", () => {
  test("values of credential variables and GitLab tokens never reach the note", () => {
    const token = "glpat-LeakedInAPlainInput1234";
    const passphrase = "correct horse battery staple";
    // A value nobody marked secret, and a program that printed the passphrase in an error.
    const text = fixtureText("dev-changes")
      .replace('"key": "FEATURE_FLAGS"', `"key": "${token}"`)
      .replace("Attempting to deploy", `Attempting (${passphrase}) to deploy`);
    const summary = readPreview(text, [passphrase]);
    const note = renderPreviewNote(
      "dev",
      { ok: true, summary: "summary" in summary ? summary.summary : read("dev-changes") },
      CTX,
    );
    expect(note).not.toContain(token);
    expect(note).not.toContain(passphrase);
    expect(note).toContain(`+      key: "${REDACTED}"`);
    expect(note).toContain(`Attempting (${REDACTED}) to deploy`);
  });
});

describe("cutting to GitLab's limit", () => {
  /** A preview creating and deleting `n` ConfigMaps with 20 long labels each. */
  function big(n: number) {
    const steps: PreviewStep[] = Array.from({ length: n }, (_, i) => ({
      op: i % 10 === 0 ? "delete" : "create",
      urn: `urn:pulumi:dev::platform::kubernetes:core/v1:ConfigMap::config-${String(i).padStart(6, "0")}`,
      newState: {
        inputs: {
          metadata: {
            labels: Object.fromEntries(
              Array.from({ length: 20 }, (_, j) => [
                `label-${j}`,
                `value-${i}-${j}-${"x".repeat(40)}`,
              ]),
            ),
          },
        },
      },
    }));
    return summarize({ steps });
  }

  test("within 1,000,000 characters, the summary whole, the cut said, fences closed", () => {
    const summary = big(1_500);
    const note = renderPreviewNote("dev", { ok: true, summary }, CTX);
    expect(note.length).toBeLessThanOrEqual(GITLAB_TEXT_LIMIT);
    expect(note.length).toBeGreaterThan(GITLAB_TEXT_LIMIT - 2_000);
    expect(
      note.startsWith(
        [
          "<!-- platform-preview:stack=dev -->",
          "### Pulumi preview of `dev`: 1350 to create, 0 to update, 0 to replace, 150 to delete",
          "",
          "| Create | Update | Replace | Delete |",
          "| -----: | -----: | ------: | -----: |",
          "| 1350 | 0 | 0 | 150 |",
          "",
          META,
          "",
          "> **Cut to GitLab's limit of 1,000,000 characters.** The full preview is in the [job log](https://gitlab.example.com/acme/platform/-/jobs/5678).",
          "",
          "**Replaced and deleted resources** (review these first):",
        ].join("\n"),
      ),
    );
    // The 150 deleted resources fit; the diff is cut between lines and closed.
    expect(note).toContain("- **delete** `kubernetes:core/v1:ConfigMap` `config-001490`\n");
    expect(note).toMatch(/\n… \d+ more lines not shown\n```\n\n<\/details>\n$/);
  });

  test("a small limit keeps the head and closes the cut section", () => {
    const note = fitToLimit(
      "HEAD\n",
      [
        { open: "<a>\n", lines: ["1", "2", "3", "4"].map((d) => d.repeat(10)), close: "</a>\n" },
        { open: "<b>\n", lines: ["never"], close: "</b>\n" },
      ],
      60,
      "CUT\n",
    );
    expect(note).toBe("HEAD\nCUT\n<a>\n1111111111\n… 3 more lines not shown\n</a>\n");
    expect(note.length).toBeLessThanOrEqual(60);
  });

  test("text that fits is not touched", () => {
    expect(fitToLimit("H\n", [{ open: "[", lines: ["x"], close: "]" }], 7, "CUT\n")).toBe(
      "H\n[x\n]",
    );
  });
});

describe("Markdown safety", () => {
  test.each([
    ["plain", "`plain`"],
    ["a`b", "``a`b``"],
    ["`edge`", "`` `edge` ``"],
  ])("inline code for %j", (text, md) => {
    expect(code(text)).toBe(md);
  });

  test("a value containing a code fence cannot close the diff block", () => {
    const summary = summarize({
      steps: [
        {
          op: "create",
          urn: "urn:pulumi:dev::platform::kubernetes:core/v1:ConfigMap::readme",
          newState: { inputs: { data: { "README.md": "```\n/close\n```" } } },
        },
      ],
    });
    const note = renderPreviewNote("dev", { ok: true, summary }, {});
    expect(note).toContain("\n````diff\n");
    expect(note.endsWith("\n````\n\n</details>\n")).toBe(true);
  });
});

describe("the drift issue", () => {
  test("the description: marker, what drifted, how to see and fix it, the diff", () => {
    const issue = renderDriftIssue("production", read("production-drift"), CTX);
    expect(issue.split("\n<details>\n")[0]).toBe(
      [
        "<!-- platform-drift:stack=production -->",
        "### `production` has drifted: 1 to create, 1 to update, 0 to replace, 0 to delete",
        "",
        "The scheduled drift check (`pulumi preview --refresh --expect-no-changes`) found that the live resources of `production` no longer match what the program and `Pulumi.production.yaml` declare. `pulumi up` would make the changes below.",
        "",
        "| Create | Update | Replace | Delete |",
        "| -----: | -----: | ------: | -----: |",
        "| 1 | 1 | 0 | 0 |",
        "",
        "- See it yourself: `npm run preview -- production` (reads the live resources first).",
        "- Fix it: change the program or the stack's config to match what was changed by hand (merge request), or restore the declared state with the `deploy-production` job or `npm run up -- production`.",
        "- Every scheduled check updates this issue, and the first check that finds no drift closes it.",
        "",
        "<sub>Last checked by commit `4f2a9c1` · [pipeline #1234](https://gitlab.example.com/acme/platform/-/pipelines/1234) · [job log](https://gitlab.example.com/acme/platform/-/jobs/5678).</sub>",
        "",
      ].join("\n"),
    );
    expect(issue).toContain("\n-      spec.replicas: 1\n+      spec.replicas: 3\n");
  });

  test("the closing comment", () => {
    expect(renderDriftResolved("production", CTX)).toBe(
      "No drift in `production` any more: the live resources match the program again. Closing.\n\n<sub>Checked by commit `4f2a9c1` · [pipeline #1234](https://gitlab.example.com/acme/platform/-/pipelines/1234) · [job log](https://gitlab.example.com/acme/platform/-/jobs/5678).</sub>",
    );
  });
});
