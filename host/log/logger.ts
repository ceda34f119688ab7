/**
 * The host's logger, on stderr, so stdout stays free for what the CLI prints to a person (and for the
 * `ripple: ready` line that tests and benchmarks wait for): readable lines on a terminal, pino's JSON
 * lines otherwise (a pipe, a file, a log collector) or when asked for.
 */
import { writeSync } from 'node:fs'
import { pino } from 'pino'
import { inertJson } from '../text/printable.ts'
import { prettyLine } from './pretty-line.ts'

export type Logger = pino.Logger

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export const LOG_FORMATS = ['pretty', 'json'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

/** Pretty when standard error is a terminal, JSON otherwise. */
export function defaultLogFormat(): LogFormat {
  return process.stderr.isTTY ? 'pretty' : 'json'
}

export function createLogger(level: LogLevel = 'info', format: LogFormat = 'json'): Logger {
  // Synchronous writes: the last lines before a shutdown or a crash must not be lost. Logged values may
  // come from peers: no control character of theirs reaches the terminal that reads the log.
  const destination =
    format === 'json'
      ? pino.destination({ fd: 2, sync: true })
      : { write: (line: string) => writeSync(2, prettyLine(line)) }
  return pino({ level, hooks: { streamWrite: inertJson } }, destination)
}

/** A logger that drops everything (tests, quiet library callers). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
