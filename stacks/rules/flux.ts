import { FLUX_IMAGES } from "../../components/flux-bootstrap";
import { pinnedByDigest } from "../../components/formats";
import { ENVIRONMENT_DEFAULTS, PINNED } from "../defaults";
import { EnvironmentConfig } from "../model";
import { Rule, RuleEntry } from "./rule";

/** Rules about `flux.*` beyond what its apps need (those are in apps.ts): the chart's images. */

/**
 * The Flux images that are not pinned by digest, with their key paths and how messages show
 * them: an image not given is the chart's own, by tag (the pinned chart's are given by default).
 */
function unpinnedImages(config: EnvironmentConfig): [string, string][] {
  return FLUX_IMAGES.flatMap((name): [string, string][] => {
    const image = config.flux.images[name];
    return image === undefined
      ? [
          [
            `flux.images.${name}`,
            `nothing (flux2 chart ${config.flux.chartVersion}'s own, by tag; the digests by default are chart ${PINNED.fluxChart}'s)`,
          ],
        ]
      : pinnedByDigest(image)
        ? []
        : [[`flux.images.${name}`, JSON.stringify(image)]];
  });
}

/**
 * Where the environment requires it, the Flux controllers (which apply what every flux app ships,
 * cluster-wide) and the chart's check job run by digest: a tag can be moved by whoever can push
 * to its repository.
 */
export const imagesPinned: Rule = {
  name: "flux.imagesPinned",
  paths: ["flux.images.*"],
  check: (config) =>
    config.features.flux &&
    ENVIRONMENT_DEFAULTS[config.environment].rules.imagesPinned &&
    config.flux.unpinnedImagesReason === undefined
      ? unpinnedImages(config).map(
          ([path, shown]) =>
            `${path}: expected an image pinned by digest in ${config.environment} (<image>:<tag>@sha256:<64 hex>; or say why not yet in flux.unpinnedImagesReason), got ${shown}`,
        )
      : [],
};

/** A reason for unpinned Flux images when every one is pinned is a leftover. */
export const unpinnedReasonOnlyWhenUnpinned: Rule = {
  name: "flux.unpinnedReasonOnlyWhenUnpinned",
  paths: ["flux.unpinnedImagesReason"],
  check: (config) =>
    config.flux.unpinnedImagesReason !== undefined && unpinnedImages(config).length === 0
      ? [
          `flux.unpinnedImagesReason: expected only while a flux.images image is not pinned by digest, got ${JSON.stringify(config.flux.unpinnedImagesReason)}`,
        ]
      : [],
};

/** The rules of this area. */
export const fluxRules: readonly RuleEntry[] = [imagesPinned, unpinnedReasonOnlyWhenUnpinned];
