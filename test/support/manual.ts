// Reading the manual (README.md and docs/*.md) as its tests need it: the shell examples, cut into
// commands with the output each is shown with, and the receivers the examples talk to.
//
// Markers, each an HTML comment alone on its line (the served pages leave them out):
//   <!-- receiver -->                 the next ```js block is a receiver the file's examples call: run it
//   <!-- receivers: epayment.md -->   this file's examples call that file's receivers
//   <!-- not run: why -->             the next ```sh block is shown, not run (it names placeholders)
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;

export interface ManualFile {
  /** Its path from the repository's root: README.md, docs/epayment.md, … */
  file: string;
  text: string;
}

export function manualFiles(): ManualFile[] {
  const docs = readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort();
  return ['README.md', ...docs.map((f) => `docs/${f}`)].map((file) => ({ file, text: readFileSync(path.join(ROOT, file), 'utf8') }));
}

export interface Block {
  lang: string;
  code: string;
  /** The marker comment on the line before its opening fence, if any (without `<!--` and `-->`). */
  marker?: string;
  line: number;
}

/** The fenced code blocks of a Markdown file, with the marker before each. */
export function blocksOf(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    const before = /^<!--\s*(.*?)\s*-->$/.exec(lines[start - 1] ?? '');
    blocks.push({ lang: open[1], code: body.join('\n'), line: start + 1, ...(before ? { marker: before[1] } : {}) });
  }
  return blocks;
}

/** The files named by a `<!-- receivers: a.md b.md -->` marker anywhere in the file. */
export function receiversFrom(markdown: string): string[] {
  const m = /^<!--\s*receivers:\s*(.*?)\s*-->$/m.exec(markdown);
  return m ? m[1].split(/\s+/) : [];
}

export interface Command {
  /** The command as written (continuation lines included). */
  source: string;
  /** The comment lines right after it, joined: what it prints, as the manual shows it. */
  shown?: string;
}

/**
 * A shell block cut into its top-level commands. A command ends at a newline outside quotes and
 * `$( )`, not after a backslash; `#` after a blank (or at a line's start) comments out the rest of
 * the line; a line that is only a comment, right after a command, shows that command's output.
 */
export function commandsOf(code: string): Command[] {
  const commands: Command[] = [];
  let current = '';
  let single = false, double = false, depth = 0;
  let shown: string[] = [];
  const lines = code.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li];
    const atStart = current.trim() === '' && !single && !double && depth === 0;
    if (atStart && /^\s*#/.test(line)) {
      const text = line.replace(/^\s*#\s?/, '');
      if (commands.length === 0 && /^\s*[[{]/.test(text)) throw new Error(`output shown before any command of its block: ${text.slice(0, 120)}`);
      shown.push(text);
      continue;
    }
    if (atStart && line.trim() === '') continue;
    let i = 0;
    for (; i < line.length; i++) {
      const c = line[i];
      if (single) { if (c === "'") single = false; continue; }
      if (double) {
        if (c === '\\') { i++; continue; }
        if (c === '"') double = false;
        continue;
      }
      if (c === '\\') { i++; continue; }
      if (c === "'") single = true;
      else if (c === '"') double = true;
      else if (c === '$' && line[i + 1] === '(') { depth++; i++; }
      else if (c === '(' ) depth++;
      else if (c === ')') depth = Math.max(0, depth - 1);
      else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) break;
    }
    current += line.slice(0, i) + '\n';
    const continued = /\\\s*$/.test(line.slice(0, i)) || single || double || depth > 0;
    if (!continued) {
      const done = current;
      current = '';
      if (done.trim() !== '') {
        if (commands.length > 0 && shown.length > 0) commands[commands.length - 1].shown = shown.join('\n');
        shown = [];
        commands.push({ source: done.trim() });
      }
    }
  }
  if (single || double || depth > 0) throw new Error(`a quote or $( is still open at the end of the block: ${current.slice(0, 200)}`);
  if (current.trim() !== '') commands.push({ source: current.trim() });
  if (commands.length > 0 && shown.length > 0) commands[commands.length - 1].shown = shown.join('\n');
  return commands;
}

export interface Expectation {
  /** The HTTP status the command's last request is answered with, when the manual shows one. */
  status?: number;
  /** A pattern the whole output must match (`…` stands for anything), when the manual shows the output. */
  output?: RegExp;
  /** Only the first line of the output (a status line of `curl -i`). */
  firstLine?: boolean;
  /** Some 4xx (PSP API v3's error list names no status). */
  clientError?: boolean;
}

/**
 * What the manual's comment after a command promises: `HTTP/1.1 204 No Content` (curl -i's status
 * line), `201 {…}` (a status and the body), `{…}` or `[…]` (the body; its status is the body's
 * `"status"` for a problem, any 4xx for a v3 error list, else 2xx). Any other comment is prose and
 * promises nothing. A trailing note in parentheses after two blanks is not part of it.
 * `base` replaces the manual's http://localhost:8080.
 */
export function expectationOf(shown: string | undefined, base: string): Expectation {
  if (!shown) return {};
  const lines = shown.split('\n');
  // Continuation lines of a body are indented; a new unindented line starts prose.
  let text = lines[0];
  for (const l of lines.slice(1)) {
    if (/^\s/.test(l)) text += l.trim();
    else break;
  }
  text = text.replace(/\s{2,}\(.*\)\s*$/, '').trim();
  // What looks like output must be read in full, or the manual would show what no test checks.
  if (/^HTTP\//.test(text) && !/^HTTP\/1\.1 \d{3}\b/.test(text)) throw new Error(`a status line other than HTTP/1.1 NNN: ${text}`);
  if (/^\d{3}\b/.test(text) && !/^\d{3} [[{]/.test(text)) throw new Error(`a status without the body after it: ${text}`);
  if (/^(\d{3} )?[[{]/.test(text) && !/[\]}]$/.test(text)) throw new Error(`output that does not end where its body does (continue it on lines indented after "#"): ${text.slice(0, 200)}`);
  const pattern = (s: string) => new RegExp(`^${s.split('…').map((p) => p.replaceAll('http://localhost:8080', base).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?')}$`);
  const statusLine = /^HTTP\/1\.1 (\d{3})\b/.exec(text);
  if (statusLine) return { status: Number(statusLine[1]), output: pattern(text), firstLine: true };
  const withStatus = /^(\d{3}) ([[{].*)$/.exec(text);
  if (withStatus) return { status: Number(withStatus[1]), output: pattern(withStatus[2]) };
  if (/^[[{]/.test(text)) {
    // An error's body: RFC 7807 (a title and a status), or PSP API v3's list of errors.
    const problem = /"title":/.test(text) ? /"status":(\d{3})/.exec(text) : null;
    const v3Error = /^\[\{"errorCode"/.test(text);
    return { ...(problem ? { status: Number(problem[1]) } : v3Error ? { clientError: true } : {}), output: pattern(text) };
  }
  return {};
}
