/**
 * Reading the document `pulumi preview --json` prints (Pulumi's `PreviewDigest`: `config`,
 * `steps[]`, `diagnostics[]`, `duration`, `changeSummary`) and reducing it to what a reviewer and
 * GitLab's merge request widget need: which resources change, and how.
 */

/** How a property changed (`detailedDiff` values). */
export interface PropertyDiff {
  /** add, add-replace, delete, delete-replace, update, update-replace. */
  readonly kind: string;
  /** Whether the difference is between old and new inputs (else between outputs). */
  readonly inputDiff?: boolean;
}

/** A resource's state in a step (`apitype.ResourceV3`); only what is rendered is typed. */
export interface ResourceState {
  readonly urn?: string;
  readonly type?: string;
  readonly id?: string;
  readonly inputs?: Record<string, unknown>;
  readonly outputs?: Record<string, unknown>;
}

/** One step of the preview. */
export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly provider?: string;
  readonly oldState?: ResourceState;
  readonly newState?: ResourceState;
  /** Top-level properties that differ (updates and replacements). */
  readonly diffReasons?: readonly string[] | null;
  /** Top-level properties that force the replacement. */
  readonly replaceReasons?: readonly string[] | null;
  /** Property paths (`spec.replicas`) and how they changed; often null except on updates. */
  readonly detailedDiff?: Readonly<Record<string, PropertyDiff>> | null;
}

/** An engine message: `error`, `warning`, `info`, `info#err` (program stderr). */
export interface Diagnostic {
  readonly urn?: string;
  readonly message: string;
  readonly severity: string;
}

/** The whole document. Every field is optional: Pulumi omits empty ones. */
export interface PreviewDocument {
  readonly config?: Record<string, string>;
  readonly steps?: readonly PreviewStep[];
  readonly diagnostics?: readonly Diagnostic[];
  /** Nanoseconds. */
  readonly duration?: number;
  readonly changeSummary?: Record<string, number>;
  readonly maybeCorrupt?: boolean;
}

/** The four kinds of change a reviewer is shown, as in Terraform. */
export type ChangeKind = "create" | "update" | "replace" | "delete";
export const CHANGE_KINDS: readonly ChangeKind[] = ["create", "update", "replace", "delete"];

/**
 * Step ops and the change they stand for. A replacement is one `replace` step unless the preview
 * ran with `--show-replacement-steps`, which adds `create-replacement` and `delete-replaced` steps
 * for the same URN: all three count once, as one replacement. `import` adopts a resource the stack
 * did not hold, so it counts as a create. Ops that change nothing (`same`, `read`, `refresh`, and
 * the engine's bookkeeping `discard`, `discard-replaced`, `remove-pending-replace`) are not listed.
 */
const OP_KINDS: Readonly<Record<string, ChangeKind | null>> = {
  create: "create",
  import: "create",
  update: "update",
  replace: "replace",
  "create-replacement": "replace",
  "delete-replaced": "replace",
  "read-replacement": "replace",
  "import-replacement": "replace",
  delete: "delete",
  same: null,
  read: null,
  refresh: null,
  discard: null,
  "discard-replaced": null,
  "remove-pending-replace": null,
};

/**
 * The change an op stands for. An op this table does not know (a newer engine's) counts as an
 * update: a preview must never hide a change, least of all from drift detection.
 */
export function changeKindOf(op: string): ChangeKind | null {
  return op in OP_KINDS ? (OP_KINDS[op] ?? null) : "update";
}

/** A URN's parts: `urn:pulumi:<stack>::<project>::<parent types$…$type>::<name>`. */
export interface UrnParts {
  readonly stack: string;
  readonly project: string;
  /** The resource's own type, e.g. `kubernetes:apps/v1:Deployment`. */
  readonly type: string;
  readonly name: string;
}

export function parseUrn(urn: string): UrnParts {
  const body = urn.startsWith("urn:pulumi:") ? urn.slice("urn:pulumi:".length) : urn;
  const [stack = "", project = "", qualifiedType = "", ...name] = body.split("::");
  const types = qualifiedType.split("$");
  return { stack, project, type: types[types.length - 1] ?? "", name: name.join("::") };
}

/** One resource that would change. */
export interface ResourceChange {
  readonly kind: ChangeKind;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** The step the change is rendered from (for a split replacement, the richest one). */
  readonly step: PreviewStep;
}

/** Counts per kind of change. */
export type ChangeCounts = Readonly<Record<ChangeKind, number>>;

/** What a preview would do, ready to render. */
export interface PreviewSummary {
  readonly counts: ChangeCounts;
  /** Replacements, then deletions, then creations, then updates; by type and name within each. */
  readonly changes: readonly ResourceChange[];
  /** Messages of `error` diagnostics. */
  readonly errors: readonly string[];
  /** Messages of `warning` diagnostics. */
  readonly warnings: readonly string[];
}

/** Thrown when the text is not a preview document; the message says what was wrong. */
export class PreviewParseError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Parses and shape-checks `pulumi preview --json` output. */
export function parsePreview(text: string): PreviewDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PreviewParseError(
      `pulumi preview --json printed no JSON document (${(error as Error).message})`,
    );
  }
  if (!isObject(parsed)) {
    throw new PreviewParseError("pulumi preview --json printed JSON that is not an object");
  }
  const steps = parsed.steps ?? [];
  if (!Array.isArray(steps)) {
    throw new PreviewParseError("steps: expected an array");
  }
  steps.forEach((step: unknown, i) => {
    if (!isObject(step) || typeof step.op !== "string" || typeof step.urn !== "string") {
      throw new PreviewParseError(`steps[${i}]: expected an object with string op and urn`);
    }
  });
  const diagnostics = parsed.diagnostics ?? [];
  if (!Array.isArray(diagnostics)) {
    throw new PreviewParseError("diagnostics: expected an array");
  }
  diagnostics.forEach((d: unknown, i) => {
    if (!isObject(d) || typeof d.message !== "string" || typeof d.severity !== "string") {
      throw new PreviewParseError(
        `diagnostics[${i}]: expected an object with string message and severity`,
      );
    }
  });
  return parsed as PreviewDocument;
}

/**
 * Code-unit order: the same everywhere (notes must not change between runners with different
 * locales) and much faster than `localeCompare` on previews of thousands of resources.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const KIND_ORDER: Readonly<Record<ChangeKind, number>> = {
  replace: 0,
  delete: 1,
  create: 2,
  update: 3,
};

/** The step of a split replacement that says most about it. */
function richer(a: PreviewStep, b: PreviewStep): PreviewStep {
  const rank = (s: PreviewStep) => (s.op === "replace" ? 2 : s.op === "create-replacement" ? 1 : 0);
  return rank(b) > rank(a) ? b : a;
}

/** Counts and lists the changes of a preview, one entry per resource. */
export function summarize(doc: PreviewDocument): PreviewSummary {
  const byUrn = new Map<string, ResourceChange>();
  for (const step of doc.steps ?? []) {
    const kind = changeKindOf(step.op);
    if (kind === null) {
      continue;
    }
    const seen = byUrn.get(step.urn);
    if (seen !== undefined) {
      // Only the steps of a split replacement share a URN.
      byUrn.set(step.urn, { ...seen, kind: "replace", step: richer(seen.step, step) });
      continue;
    }
    const { type, name } = parseUrn(step.urn);
    byUrn.set(step.urn, { kind, urn: step.urn, type, name, step });
  }
  const changes = [...byUrn.values()].sort(
    (a, b) =>
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      compareText(a.type, b.type) ||
      compareText(a.name, b.name),
  );
  const counts = { create: 0, update: 0, replace: 0, delete: 0 };
  changes.forEach((c) => (counts[c.kind] += 1));
  const messages = (severity: string) =>
    (doc.diagnostics ?? []).filter((d) => d.severity === severity).map((d) => d.message);
  return { counts, changes, errors: messages("error"), warnings: messages("warning") };
}

/** Whether anything would change. */
export function hasChanges(counts: ChangeCounts): boolean {
  return CHANGE_KINDS.some((kind) => counts[kind] > 0);
}

/** GitLab's Terraform report (`artifacts:reports:terraform`). */
export interface TerraformReport {
  readonly create: number;
  readonly update: number;
  readonly delete: number;
}

/** GitLab rejects a report with a count above this. */
export const TERRAFORM_REPORT_MAX = 999_999;

/**
 * The counts as Terraform reports them: a replacement is a create and a delete. GitLab refuses
 * counts above 999,999, so they are capped there (the note carries the exact numbers).
 */
export function terraformReport(counts: ChangeCounts): TerraformReport {
  const cap = (n: number) => Math.min(n, TERRAFORM_REPORT_MAX);
  return {
    create: cap(counts.create + counts.replace),
    update: cap(counts.update),
    delete: cap(counts.delete + counts.replace),
  };
}
