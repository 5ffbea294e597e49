import * as fs from "fs";
import * as path from "path";
import { PreviewDocument, PreviewStep, parsePreview } from "../../scripts/ci/digest";

/**
 * `pulumi preview --json` documents of this program's stacks, in test/fixtures/preview/:
 * - dev-changes.json: a merge request that bumps web's image and replicas, rotates the runner
 *   token (replacing the runner), adds a PodDisruptionBudget and a CI/CD variable, drops web's
 *   Ingress and the LOG_LEVEL variable; one engine warning about a pending operation;
 * - dev-no-changes.json: every step `same`;
 * - staging-failed.json: the program rejects its config (error diagnostics with ANSI colours);
 * - production-drift.json: a `--refresh` preview after web was scaled down and a CI/CD variable
 *   deleted by hand.
 */

export const FIXTURES = path.resolve(__dirname, "..", "fixtures", "preview");

export type FixtureName = "dev-changes" | "dev-no-changes" | "staging-failed" | "production-drift";

export function fixturePath(name: FixtureName): string {
  return path.join(FIXTURES, `${name}.json`);
}

export function fixtureText(name: FixtureName): string {
  return fs.readFileSync(fixturePath(name), "utf8");
}

export function fixture(name: FixtureName): PreviewDocument {
  return parsePreview(fixtureText(name));
}

/** A synthetic step (for cases the fixtures do not cover). */
export function step(
  op: string,
  type: string,
  name: string,
  extra: Partial<PreviewStep> = {},
): PreviewStep {
  return { op, urn: `urn:pulumi:dev::platform::${type}::${name}`, ...extra };
}
