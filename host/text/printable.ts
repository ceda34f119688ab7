/**
 * Text from peers (names, model names, reasons, generated text) made safe to show in a terminal or a
 * log: every character a terminal acts on (C0 and C1 controls, DEL, bidi overrides) is written as a
 * visible escape, so a string cannot clear the screen, move the cursor, recolour output or fake a row.
 * The one escaping helper every printer uses; the rules refuse the same characters in entries, this
 * catches what arrives another way (an old op, a reason, a model's output).
 */
import { CONTROL_CHARS } from '../../zomes-bindings/index.ts'

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escapeChar(c: string): string {
  const named = NAMED[c]
  if (named) return named
  const code = c.codePointAt(0) ?? 0
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`
}

/** One line: every control character, line breaks and tabs included, as a visible escape. */
export function printable(s: string): string {
  return s.replace(CONTROL_CHARS, escapeChar)
}

/**
 * Text of several lines (a reason, generated text): line feeds and tabs kept, every other control
 * escaped. Character by character, so text streamed in pieces prints the same as the whole.
 */
export function printableText(s: string): string {
  return s.replace(CONTROL_CHARS, (c) => (c === '\n' || c === '\t' ? c : escapeChar(c)))
}

/**
 * Serialised JSON (a log line, a `--json` reply) with the controls JSON leaves raw (DEL, C1, bidi)
 * written as `\u` escapes: still the same JSON, but inert when read in a terminal. C0 controls are
 * escaped by JSON itself, so the only raw ones are its own line breaks, which stay.
 */
export function inertJson(line: string): string {
  return line.replace(CONTROL_CHARS, (c) =>
    c === '\n' ? c : `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  )
}

/** `value` as indented JSON for the terminal (`--json`), inert like a log line. */
export const printableJson = (value: unknown): string => inertJson(JSON.stringify(value, null, 2))
