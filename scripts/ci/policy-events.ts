import * as fs from "fs";
import { Diagnostic, parseUrn } from "./digest";

/**
 * Policy violations for the merge request note and the drift check. `pulumi preview --json` leaves
 * them out of its document (Pulumi's JSON display skips policy events), so the CI jobs also ask
 * for Pulumi's event log (`--event-log <file>`, which the CLI offers with
 * `PULUMI_DEBUG_COMMANDS=true`, as its Automation API does) and read the `policyEvent`s from it:
 * mandatory violations become errors of the preview, advisory ones warnings.
 */

/** The environment and flags that make Pulumi write its event log to `file`. */
export function eventLogOptions(file: string): { env: NodeJS.ProcessEnv; flags: string[] } {
  return { env: { PULUMI_DEBUG_COMMANDS: "true" }, flags: ["--event-log", file] };
}

/** One violation, as Pulumi's `policyEvent` reports it. */
export interface PolicyViolation {
  readonly policyName: string;
  readonly policyPackName: string;
  /** `mandatory`, `advisory` (or `remediate`, `disabled`). */
  readonly enforcementLevel: string;
  /** The resource, or none for a violation of the whole stack. */
  readonly resourceUrn?: string;
  /** The policy's description, a newline, then what the policy said. */
  readonly message: string;
}

function isViolation(value: unknown): value is PolicyViolation {
  if (value === null || typeof value !== "object") {
    return false;
  }
  const v = value as Record<string, unknown>;
  return (
    typeof v["policyName"] === "string" &&
    typeof v["message"] === "string" &&
    typeof v["enforcementLevel"] === "string"
  );
}

/**
 * The policy violations of an event log (one JSON engine event per line). Lines that are not JSON
 * (a log cut short when Pulumi was killed) are skipped.
 */
export function parsePolicyEvents(text: string): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      continue;
    }
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    const policyEvent = (event as { policyEvent?: unknown } | null)?.policyEvent;
    if (isViolation(policyEvent)) {
      violations.push(policyEvent);
    }
  }
  return violations;
}

/** The violations in the event log at `file`; none when Pulumi wrote none (it failed first). */
export function readPolicyViolations(file: string): PolicyViolation[] {
  return fs.existsSync(file) ? parsePolicyEvents(fs.readFileSync(file, "utf8")) : [];
}

/**
 * A violation as a preview diagnostic: `error` when mandatory, else `warning`, with a message
 * naming the policy, its level and the resource, then what the policy said (Pulumi's message
 * repeats the policy's description first; that line is left out).
 */
export function policyDiagnostic(v: PolicyViolation): Diagnostic {
  const lines = v.message.trimEnd().split("\n");
  const said = (lines.length > 1 ? lines.slice(1) : lines).join("\n");
  const target =
    v.resourceUrn === undefined || v.resourceUrn === ""
      ? "the stack"
      : (({ type, name }) => `${type} "${name}"`)(parseUrn(v.resourceUrn));
  return {
    ...(v.resourceUrn === undefined || v.resourceUrn === "" ? {} : { urn: v.resourceUrn }),
    severity: v.enforcementLevel === "mandatory" ? "error" : "warning",
    message: `policy ${v.policyName} (${v.enforcementLevel}) on ${target}: ${said}`,
  };
}
