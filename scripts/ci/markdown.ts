import { CHANGE_KINDS, ChangeCounts, PreviewSummary, hasChanges } from "./digest";
import { diffLines, replaceReasons } from "./diff-text";

/**
 * The merge request note and the drift issue: a summary a reviewer reads first (the stack, the
 * counts, what is replaced or deleted), then the full diff folded away, cut to GitLab's limit.
 */

/** GitLab's limit on a note body and an issue description, in characters. */
export const GITLAB_TEXT_LIMIT = 1_000_000;

/** The hidden first line that identifies a stack's preview note. */
export function previewMarker(stack: string): string {
  return `<!-- platform-preview:stack=${stack} -->`;
}

/** The hidden first line that identifies a stack's drift issue. */
export function driftMarker(stack: string): string {
  return `<!-- platform-drift:stack=${stack} -->`;
}

/** Where the text came from, from GitLab's predefined CI/CD variables. */
export interface JobContext {
  /** CI_COMMIT_SHORT_SHA */
  readonly commit?: string;
  /** CI_PIPELINE_ID */
  readonly pipelineId?: string;
  /** CI_PIPELINE_URL */
  readonly pipelineUrl?: string;
  /** CI_JOB_URL */
  readonly jobUrl?: string;
}

/** Inline code that survives backticks in the text. */
export function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

/** A fence longer than any backtick run in the lines, so no line can close it. */
function fenceFor(lines: readonly string[]): string {
  const longest = Math.max(0, ...lines.flatMap((l) => (l.match(/`+/g) ?? []).map((r) => r.length)));
  return "`".repeat(Math.max(3, longest + 1));
}

/** "2 to create, 1 to update, 0 to replace, 1 to delete", or "no changes". */
export function countsSentence(counts: ChangeCounts): string {
  return hasChanges(counts)
    ? CHANGE_KINDS.map((kind) => `${counts[kind]} to ${kind}`).join(", ")
    : "no changes";
}

function countsTable(counts: ChangeCounts): string {
  return [
    "| Create | Update | Replace | Delete |",
    "| -----: | -----: | ------: | -----: |",
    `| ${counts.create} | ${counts.update} | ${counts.replace} | ${counts.delete} |`,
  ].join("\n");
}

/** `<sub>` line with the commit, pipeline and job; empty when none is known. */
function metaLine(ctx: JobContext, prefix: string, suffix = ""): string {
  const parts = [
    ...(ctx.commit ? [`commit ${code(ctx.commit)}`] : []),
    ...(ctx.pipelineUrl ? [`[pipeline #${ctx.pipelineId ?? ""}](${ctx.pipelineUrl})`] : []),
    ...(ctx.jobUrl ? [`[job log](${ctx.jobUrl})`] : []),
  ];
  return parts.length > 0 ? `<sub>${prefix}${parts.join(" · ")}.${suffix}</sub>` : "";
}

/** A block of lines between an opening and a closing text; cut line by line when too long. */
export interface Section {
  readonly open: string;
  readonly lines: readonly string[];
  readonly close: string;
}

function renderSection(s: Section): string {
  return s.open + s.lines.map((l) => `${l}\n`).join("") + s.close;
}

/** A fenced code block section (neutralises Markdown, mentions and quick actions in the text). */
export function codeSection(title: string, language: string, lines: readonly string[]): Section {
  const fence = fenceFor(lines);
  return { open: `\n${title}\n\n${fence}${language}\n`, lines, close: `${fence}\n` };
}

function detailsSection(summary: string, lines: readonly string[]): Section {
  const fence = fenceFor(lines);
  return {
    open: `\n<details>\n<summary>${summary}</summary>\n\n${fence}diff\n`,
    lines,
    close: `${fence}\n\n</details>\n`,
  };
}

/** The notice put under the summary when the text had to be cut. */
export function cutNotice(ctx: JobContext, limit: number): string {
  const where = ctx.jobUrl ? `the [job log](${ctx.jobUrl})` : "the job log";
  return `\n> **Cut to GitLab's limit of ${limit.toLocaleString("en-US")} characters.** The full preview is in ${where}.\n`;
}

/**
 * `head` followed by the sections, within `limit` characters. When everything does not fit the
 * head is kept whole, the notice follows it, and sections are filled in order, the first that
 * does not fit cut between lines (its closing text kept, so fences and `<details>` stay closed)
 * and the rest dropped. Lengths are UTF-16 units, never fewer than GitLab's characters.
 */
export function fitToLimit(
  head: string,
  sections: readonly Section[],
  limit: number,
  notice: string,
): string {
  const full = head + sections.map(renderSection).join("");
  if (full.length <= limit) {
    return full;
  }
  let out = head + notice;
  for (const s of sections) {
    const whole = renderSection(s);
    if (out.length + whole.length <= limit) {
      out += whole;
      continue;
    }
    const omitted = (n: number) => `… ${n} more ${n === 1 ? "line" : "lines"} not shown\n`;
    let part = s.open;
    let shown = 0;
    for (const line of s.lines) {
      const tail = omitted(s.lines.length - shown - 1).length + s.close.length;
      if (out.length + part.length + line.length + 1 + tail > limit) {
        break;
      }
      part += `${line}\n`;
      shown += 1;
    }
    const rest = part + omitted(s.lines.length - shown) + s.close;
    if (out.length + rest.length <= limit) {
      out += rest;
    }
    break;
  }
  return out;
}

function resourceList(summary: PreviewSummary): Section | undefined {
  const risky = summary.changes.filter((c) => c.kind === "replace" || c.kind === "delete");
  if (risky.length === 0) {
    return undefined;
  }
  const lines = risky.map((c) => {
    const reasons = c.kind === "replace" ? replaceReasons(c) : [];
    const why = reasons.length > 0 ? ` (because of ${reasons.map(code).join(", ")})` : "";
    return `- **${c.kind}** ${code(c.type)} ${code(c.name)}${why}`;
  });
  return {
    open: "\n**Replaced and deleted resources** (review these first):\n\n",
    lines,
    close: "",
  };
}

function warningSection(summary: PreviewSummary): Section | undefined {
  return summary.warnings.length > 0
    ? codeSection(
        "**Warnings**",
        "text",
        summary.warnings.flatMap((w) => w.split("\n")),
      )
    : undefined;
}

function diffSection(summary: PreviewSummary, title: string): Section | undefined {
  if (summary.changes.length === 0) {
    return undefined;
  }
  const n = summary.changes.length;
  return detailsSection(
    `${title} (${n} ${n === 1 ? "resource" : "resources"})`,
    diffLines(summary.changes),
  );
}

function present<T>(items: readonly (T | undefined)[]): T[] {
  return items.filter((i): i is T => i !== undefined);
}

/** What a preview produced, for the note. */
export type PreviewOutcome =
  | { readonly ok: true; readonly summary: PreviewSummary }
  | {
      readonly ok: false;
      /** What the engine computed before failing, when it printed a document. */
      readonly summary?: PreviewSummary;
      /** Error diagnostics and the tail of Pulumi's stderr, already sanitized. */
      readonly error: string;
    };

/** The body of a stack's merge request note. */
export function renderPreviewNote(
  stack: string,
  outcome: PreviewOutcome,
  ctx: JobContext,
  limit: number = GITLAB_TEXT_LIMIT,
): string {
  const meta = metaLine(ctx, "Preview of ", " This note is updated on every push.");
  if (!outcome.ok) {
    const head = [
      previewMarker(stack),
      `### Pulumi preview of ${code(stack)} failed`,
      "",
      `The preview stopped with an error, so what this merge request would change in ${code(stack)} is unknown. Fix the error and push again.`,
      ...(meta ? ["", meta] : []),
      "",
    ].join("\n");
    const sections = present([
      codeSection("**Error**", "text", outcome.error.split("\n")),
      ...(outcome.summary
        ? [diffSection(outcome.summary, "Changes computed before the error")]
        : []),
    ]);
    return fitToLimit(head, sections, limit, cutNotice(ctx, limit));
  }
  const { summary } = outcome;
  const head = [
    previewMarker(stack),
    `### Pulumi preview of ${code(stack)}: ${countsSentence(summary.counts)}`,
    "",
    hasChanges(summary.counts)
      ? countsTable(summary.counts)
      : `Merging this merge request changes nothing in ${code(stack)}.`,
    ...(meta ? ["", meta] : []),
    "",
  ].join("\n");
  const sections = present([
    resourceList(summary),
    warningSection(summary),
    diffSection(summary, "Full diff"),
  ]);
  return fitToLimit(head, sections, limit, cutNotice(ctx, limit));
}

/** The description of a stack's drift issue. */
export function renderDriftIssue(
  stack: string,
  summary: PreviewSummary,
  ctx: JobContext,
  limit: number = GITLAB_TEXT_LIMIT,
): string {
  const meta = metaLine(ctx, "Last checked by ");
  const head = [
    driftMarker(stack),
    `### ${code(stack)} has drifted: ${countsSentence(summary.counts)}`,
    "",
    `The scheduled drift check (${code("pulumi preview --refresh --expect-no-changes")}) found that the live resources of ${code(stack)} no longer match what the program and ${code(`Pulumi.${stack}.yaml`)} declare. ${code("pulumi up")} would make the changes below.`,
    "",
    countsTable(summary.counts),
    "",
    `- See it yourself: ${code(`npm run preview -- ${stack}`)} (reads the live resources first).`,
    `- Fix it: change the program or the stack's config to match what was changed by hand (merge request), or restore the declared state with the ${code(`deploy-${stack}`)} job or ${code(`npm run up -- ${stack}`)}.`,
    "- Every scheduled check updates this issue, and the first check that finds no drift closes it.",
    ...(meta ? ["", meta] : []),
    "",
  ].join("\n");
  const sections = present([
    resourceList(summary),
    warningSection(summary),
    diffSection(summary, "Full diff"),
  ]);
  return fitToLimit(head, sections, limit, cutNotice(ctx, limit));
}

/** The comment left on a drift issue when a check finds the stack back in line. */
export function renderDriftResolved(stack: string, ctx: JobContext): string {
  const meta = metaLine(ctx, "Checked by ");
  return [
    `No drift in ${code(stack)} any more: the live resources match the program again. Closing.`,
    ...(meta ? ["", meta] : []),
  ].join("\n");
}
