import {
  REDACTED,
  sanitize,
  sanitizeDeep,
  sanitizingWriter,
  secretValues,
  stripAnsi,
} from "../../scripts/ci/redact";

describe("terminal control codes", () => {
  test.each([
    ["\u001b[31merror: \u001b[0mboom", "error: boom"],
    ["\u001b[1;33mwarning\u001b[0m", "warning"],
    ["\u001b]8;;https://x\u0007link\u001b]8;;\u0007", "link"],
    ["progress\rdone\r\n", "progress\ndone\n"],
    ["<{%reset%}>plain<{%bold%}>", "plain"],
    ["a\u001b", "a"],
  ])("%j becomes %j", (text, clean) => {
    expect(stripAnsi(text)).toBe(clean);
  });
});

describe("credential values from the environment", () => {
  test("variables that hold credentials, long enough to redact, longest first", () => {
    expect(
      secretValues({
        PIPELINE_GITLAB_TOKEN: "glpat-aaaaaaaaaaaaaaaaaaaa",
        PULUMI_CONFIG_PASSPHRASE: "correct horse battery staple",
        AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG",
        MY_API_TOKEN: "short",
        CI_COMMIT_SHA: "4f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49",
        STACK: "production",
      }),
    ).toEqual([
      "correct horse battery staple",
      "glpat-aaaaaaaaaaaaaaaaaaaa",
      "wJalrXUtnFEMI/K7MDENG",
    ]);
  });

  test("unset and empty variables add nothing", () => {
    expect(secretValues({ GITLAB_TOKEN: undefined, PULUMI_ACCESS_TOKEN: "" })).toEqual([]);
  });
});

describe("sanitizing", () => {
  const secrets = ["correct horse battery staple", "s3cr3t-passw0rd"];

  test("known values and GitLab tokens become [secret]; everything else stays", () => {
    expect(
      sanitize(
        "passphrase correct horse battery staple, token glpat-Zx8_yQ2-abcdEFGH1234, runner glrt-t1_AbCdEfGhIj, agent glagent-0123456789abcdef, password s3cr3t-passw0rd.",
        secrets,
      ),
    ).toBe(
      `passphrase ${REDACTED}, token ${REDACTED}, runner ${REDACTED}, agent ${REDACTED}, password ${REDACTED}.`,
    );
  });

  test("text without credentials is unchanged", () => {
    const text = 'spec.replicas: 1 => 2, value: "[secret]", glpat-short';
    expect(sanitize(text, secrets)).toBe(text);
  });

  test("every string of a document, keys included", () => {
    expect(
      sanitizeDeep(
        {
          config: { "platform:token": "s3cr3t-passw0rd" },
          steps: [{ message: "\u001b[31mfailed with s3cr3t-passw0rd\u001b[0m", count: 3 }],
          "s3cr3t-passw0rd": true,
        },
        secrets,
      ),
    ).toEqual({
      config: { "platform:token": REDACTED },
      steps: [{ message: `failed with ${REDACTED}`, count: 3 }],
      [REDACTED]: true,
    });
  });

  test("a streamed credential split between two chunks is still caught", () => {
    const written: string[] = [];
    const writer = sanitizingWriter((t) => written.push(t), secrets);
    writer.write("error: bad passphrase s3cr3t-pa");
    writer.write("ssw0rd\nnext line\npartial");
    writer.flush();
    expect(written).toEqual([`error: bad passphrase ${REDACTED}\nnext line\n`, "partial"]);
  });
});
