/**
 * A pino JSON line as a line for a person at a terminal: time, level, component, message, then the
 * other fields as key=value. Values come from peers at times, so every one is made printable.
 */
import { printable } from '../text/printable.ts'

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}
const ERROR_LEVEL = 50

/** A string bare unless it holds a space, quote or `=` (then quoted); anything else as JSON. */
function fieldValue(value: unknown): string {
  if (typeof value !== 'string') return printable(JSON.stringify(value))
  return printable(/[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value)
}

export function prettyLine(json: string): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json
  }
  const { level, time, msg, component, err, pid: _pid, hostname: _hostname, ...fields } = record
  const at = new Date(typeof time === 'number' ? time : Date.now())
  const clock = `${at.toTimeString().slice(0, 8)}.${String(at.getMilliseconds()).padStart(3, '0')}`
  const levelNumber = typeof level === 'number' ? level : 30
  const parts = [clock, (LEVELS[levelNumber] ?? String(level)).padEnd(5)]
  if (typeof component === 'string') parts.push(`[${printable(component)}]`)
  if (msg !== undefined) parts.push(printable(String(msg)))
  const error = err as { message?: unknown; stack?: unknown } | undefined
  if (error !== undefined) fields.err = error.message ?? error
  for (const [key, value] of Object.entries(fields)) parts.push(`${printable(key)}=${fieldValue(value)}`)
  // A failure's stack is what one needs to report it; lesser levels keep to one line.
  const stack =
    levelNumber >= ERROR_LEVEL && typeof error?.stack === 'string'
      ? `\n${error.stack
          .split('\n')
          .slice(1)
          .map((l) => `    ${printable(l.trim())}`)
          .join('\n')}`
      : ''
  return `${parts.join(' ')}${stack}\n`
}
