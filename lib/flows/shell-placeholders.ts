// Where a {{...}} placeholder may stand in a command line. The command flow shell-quotes each
// substituted value into one word; that is only safe where the shell reads a word at top level.
// Inside quotes, backticks, $( ), ${ }, a here-document, or after a backslash or $, the quoting is
// read differently and record data can run as code (echo "{{record.x}}" with $(…) in x).
import { PLACEHOLDER_PATTERN } from "./template";

const MARK = "\u0000"; // stands for a placeholder while scanning (stored text never holds NUL)

export const QUOTED_PLACEHOLDER_MESSAGE =
  "a {{...}} placeholder must stand as a word outside quotes, `...`, $(...), ${...} and here-documents: the value is shell-quoted already, and quoting it again lets record data run as code (write echo {{record.x}}, not echo \"{{record.x}}\")";

/** Why the placeholders of `command` are unsafe where they stand, or null when every one stands as a plain word. */
export function quotedPlaceholderProblem(command: string): string | null {
  if (!new RegExp(PLACEHOLDER_PATTERN).test(command)) return null;
  const text = command.replace(new RegExp(PLACEHOLDER_PATTERN, "g"), MARK);
  // open constructs, innermost last: ' " ` ${ $( and ( (a plain subshell, which keeps top-level rules)
  const stack: string[] = [];
  let heredoc = false;
  const atTop = () => stack.every((s) => s === "(");
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const top = stack.at(-1);
    if (c === MARK) {
      if (heredoc || !atTop() || text[i - 1] === "$") return QUOTED_PLACEHOLDER_MESSAGE;
      continue;
    }
    if (top === "'") {
      if (c === "'") stack.pop();
      continue;
    }
    if (c === "\\") {
      if (text[i + 1] === MARK) return QUOTED_PLACEHOLDER_MESSAGE;
      i++;
      continue;
    }
    if (top === "`" && c === "`") {
      stack.pop();
      continue;
    }
    if (top === '"') {
      if (c === '"') stack.pop();
      else if (c === "`") stack.push("`");
      else if (text.startsWith("$(", i) || text.startsWith("${", i)) stack.push(text.slice(i, ++i + 1));
      continue;
    }
    if (c === "#" && atTop() && (i === 0 || /[\s;&|(]/.test(text[i - 1]!))) {
      // a comment runs to the end of the line; its quotes mean nothing
      const end = text.indexOf("\n", i);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (c === "'" || c === '"' || c === "`") stack.push(c);
    else if (text.startsWith("$(", i) || text.startsWith("${", i)) stack.push(text.slice(i, ++i + 1));
    else if (c === "(") stack.push("(");
    else if (c === ")" && (top === "(" || top === "$(")) stack.pop();
    else if (c === "}" && top === "${") stack.pop();
    else if (text.startsWith("<<<", i)) i += 2; // a here-string is one word, not a here-document
    else if (text.startsWith("<<", i) && atTop()) heredoc = true;
  }
  return null;
}
