/**
 * The host's logger: pino JSON lines on stderr, so stdout stays free for what the CLI prints
 * to a person (and for the `ripple: ready` line that tests and benchmarks wait for).
 */
import { pino } from 'pino'
import { inertJson } from '../text/printable.ts'

export type Logger = pino.Logger

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export function createLogger(level: LogLevel = 'info'): Logger {
  // Synchronous writes: the last lines before a shutdown or a crash must not be lost. Logged values may
  // come from peers: no control character of theirs reaches the terminal that reads the log.
  return pino({ level, hooks: { streamWrite: inertJson } }, pino.destination({ fd: 2, sync: true }))
}

/** A logger that drops everything (tests, quiet library callers). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
