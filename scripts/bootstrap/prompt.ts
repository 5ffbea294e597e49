import * as readline from "readline";

/** Asks a person for values. Tests pass a scripted one. */
export interface Prompter {
  /** An answer that is shown as it is typed, trimmed. */
  ask(question: string): Promise<string>;
  /** An answer that is not shown (a token, a passphrase), as typed. */
  secret(question: string): Promise<string>;
}

/** Thrown when the person ends a prompt with Ctrl-C or Ctrl-D. */
export class PromptCancelled extends Error {
  constructor() {
    super("cancelled at a prompt: nothing was written");
    this.name = "PromptCancelled";
  }
}

/** What the hidden reader needs of a terminal's input: Node's `process.stdin` when it is a TTY. */
export interface RawInput extends NodeJS.ReadableStream {
  readonly isRaw?: boolean;
  setRawMode(mode: boolean): unknown;
}

/**
 * Reads one line without echoing it: the terminal goes into raw mode, so every key arrives here
 * and nothing is printed but the question. Backspace deletes, Enter ends, Ctrl-C cancels, Ctrl-D
 * on an empty line cancels.
 */
export function readHidden(
  input: RawInput,
  output: NodeJS.WritableStream,
  question: string,
): Promise<string> {
  output.write(question);
  return new Promise((resolve, reject) => {
    let value = "";
    const wasRaw = input.isRaw === true;
    const finish = () => {
      input.removeListener("data", onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write("\n");
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n") {
          finish();
          resolve(value);
          return;
        }
        if (ch === "\u0003" || (ch === "\u0004" && value === "")) {
          finish();
          reject(new PromptCancelled());
          return;
        }
        if (ch === "\u007f" || ch === "\b") {
          value = value.slice(0, -1);
        } else if (ch >= " ") {
          value += ch;
        }
      }
    };
    input.setRawMode(true);
    input.on("data", onData);
    input.resume();
  });
}

/** Prompts at a terminal: `input` must be a TTY (raw mode for hidden answers). */
export function terminalPrompter(
  input: RawInput & NodeJS.ReadStream,
  output: NodeJS.WriteStream,
): Prompter {
  return {
    ask: async (question) => {
      const rl = readline.createInterface({ input, output, terminal: true });
      try {
        return await new Promise<string>((resolve, reject) => {
          rl.once("SIGINT", () => reject(new PromptCancelled()));
          rl.once("close", () => reject(new PromptCancelled()));
          rl.question(question, (answer) => resolve(answer.trim()));
        });
      } finally {
        rl.removeAllListeners("close");
        rl.close();
      }
    },
    secret: (question) => readHidden(input, output, question),
  };
}
