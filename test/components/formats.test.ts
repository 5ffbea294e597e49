import {
  AGENTK_IMAGE_TAG,
  IMAGE_REFERENCE,
  agentkVersionTag,
  parseImageReference,
  pinnedByDigest,
} from "../../components/formats";

const DIGEST = `sha256:${"a".repeat(64)}`;

describe("parseImageReference", () => {
  test.each([
    ["alpine", { repository: "alpine" }],
    ["alpine:3", { repository: "alpine", tag: "3" }],
    ["alpine:3.22.2", { repository: "alpine", tag: "3.22.2" }],
    [`alpine@${DIGEST}`, { repository: "alpine", digest: DIGEST }],
    [`alpine:3.22.2@${DIGEST}`, { repository: "alpine", tag: "3.22.2", digest: DIGEST }],
    [
      `ghcr.io/fluxcd/source-controller:v1.8.2@${DIGEST}`,
      { repository: "ghcr.io/fluxcd/source-controller", tag: "v1.8.2", digest: DIGEST },
    ],
    [
      "registry.example.com:5000/mirror/flux-cli:v2.8.5",
      { repository: "registry.example.com:5000/mirror/flux-cli", tag: "v2.8.5" },
    ],
    [
      `registry.example.com:5000/mirror/flux-cli@${DIGEST}`,
      { repository: "registry.example.com:5000/mirror/flux-cli", digest: DIGEST },
    ],
    // A port needs a path after it: without one, Docker reads the number as a tag.
    ["registry.example.com:5000", { repository: "registry.example.com", tag: "5000" }],
  ])("%s", (reference, parts) => {
    expect(parseImageReference(reference)).toEqual(parts);
  });

  test.each([
    ["an uppercase repository", "Alpine:3"],
    ["a short digest", "alpine:3@sha256:abc"],
    ["a digest of another algorithm", `alpine:3@sha512:${"a".repeat(128)}`],
    ["a tag starting with '.'", "alpine:.3"],
    ["a scheme", "https://ghcr.io/fluxcd/flux-cli:v2.8.5"],
    ["a trailing '/'", "ghcr.io/fluxcd/:v1"],
    ["nothing", ""],
  ])("refuses %s", (_, reference) => {
    expect(parseImageReference(reference)).toBeUndefined();
    expect(IMAGE_REFERENCE.test(reference)).toBe(false);
  });
});

describe("pinnedByDigest", () => {
  test.each([
    [`alpine:3.22.2@${DIGEST}`, true],
    [`alpine@${DIGEST}`, true],
    ["alpine:3.22.2", false],
    ["alpine@sha256:abc", false],
  ])("%s: %s", (image, pinned) => {
    expect(pinnedByDigest(image)).toBe(pinned);
  });
});

describe("agentk image tags", () => {
  test.each(["v18.6.0", "18.6.0", "v18.6.0-rc1", `v18.6.0@${DIGEST}`, `v18.6.0-rc1@${DIGEST}`])(
    "accepts %s",
    (tag) => {
      expect(AGENTK_IMAGE_TAG.test(tag)).toBe(true);
    },
  );

  test.each(["latest", "v18.6", `v18.6.0@sha256:abc`, `@${DIGEST}`, `${DIGEST}`, "v18.6.0@"])(
    "refuses %s",
    (tag) => {
      expect(AGENTK_IMAGE_TAG.test(tag)).toBe(false);
    },
  );

  test("the version part drops the digest and keeps a tag without one", () => {
    expect(agentkVersionTag(`v18.6.0@${DIGEST}`)).toBe("v18.6.0");
    expect(agentkVersionTag("v18.6.0")).toBe("v18.6.0");
    expect(agentkVersionTag("v18.6.0-rc1")).toBe("v18.6.0-rc1");
  });
});
