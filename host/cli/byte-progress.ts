/**
 * A transfer's progress on stderr: one line kept updated on a terminal, else a line per 10% (or per
 * 64 MiB when the total is unknown, as for standard input). Silent for `--json` and small transfers.
 */
import { formatBytes } from './human-format.ts'

const QUIET_BELOW = 1024 * 1024
const UNKNOWN_STEP = 64 * 1024 * 1024

/** How a progress counts: bytes by default; documents, say, with their own format and thresholds. */
export interface ProgressUnit {
  format: (n: number) => string
  quietBelow: number
  unknownStep: number
}

const BYTES: ProgressUnit = { format: formatBytes, quietBelow: QUIET_BELOW, unknownStep: UNKNOWN_STEP }

export function byteProgress(
  label: string,
  total: number | null,
  enabled: boolean,
  unit: ProgressUnit = BYTES,
) {
  const { format, quietBelow, unknownStep } = unit
  const tty = process.stderr.isTTY
  let shownStep = -1
  let shown = false
  return {
    show(bytes: number): void {
      if (!enabled || (total !== null && total < quietBelow)) return
      const text =
        total === null
          ? `ripple: ${label} ${format(bytes)}`
          : `ripple: ${label} ${format(bytes)} / ${format(total)} ${Math.floor((bytes / Math.max(total, 1)) * 100)}%`
      const step =
        total === null ? Math.floor(bytes / unknownStep) : Math.floor((bytes / Math.max(total, 1)) * 10)
      if (tty) process.stderr.write(`\r${text}`)
      else if (step > shownStep) process.stderr.write(`${text}\n`)
      shownStep = Math.max(shownStep, step)
      shown = true
    },
    /** Ends the line kept updated on a terminal. */
    end(): void {
      if (tty && shown) process.stderr.write('\n')
    },
  }
}
