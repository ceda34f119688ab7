/**
 * A transfer's progress on stderr: one line kept updated on a terminal, else a line per 10% (or per
 * 64 MiB when the total is unknown, as for standard input). Silent for `--json` and small transfers.
 */
import { formatBytes } from './human-format.ts'

const QUIET_BELOW = 1024 * 1024
const UNKNOWN_STEP = 64 * 1024 * 1024

export function byteProgress(label: string, total: number | null, enabled: boolean) {
  const tty = process.stderr.isTTY
  let shownStep = -1
  let shown = false
  return {
    show(bytes: number): void {
      if (!enabled || (total !== null && total < QUIET_BELOW)) return
      const text =
        total === null
          ? `ripple: ${label} ${formatBytes(bytes)}`
          : `ripple: ${label} ${formatBytes(bytes)} / ${formatBytes(total)} ${Math.floor((bytes / Math.max(total, 1)) * 100)}%`
      const step =
        total === null ? Math.floor(bytes / UNKNOWN_STEP) : Math.floor((bytes / Math.max(total, 1)) * 10)
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
