/**
 * The CLI's one progress bar, for every command that shows a long operation's Progress (a model load
 * or pull, an artifact's transfer, a memory write, a task's model load): on stderr, one line kept
 * updated on a terminal, else a line per tenth (per 64 MiB or 10,000 items while the total is not
 * known, as for standard input).
 */
import { type Progress, type ProgressUnit, progressFraction } from '../interface/progress.ts'
import { formatBytes, formatCount } from './human-format.ts'

const WIDTH = 30

/** How each unit is counted on the line (a percent is the bar's own), and its step while the total is unknown. */
const UNITS: Record<ProgressUnit, { format: ((n: number) => string) | null; unknownStep: number }> = {
  bytes: { format: formatBytes, unknownStep: 64 * 1024 * 1024 },
  items: { format: formatCount, unknownStep: 10_000 },
  percent: { format: null, unknownStep: 10 },
}

export interface ProgressBarOptions {
  /** False for `--json` and the like: the bar shows nothing. */
  enabled: boolean
  /** A total under this shows nothing: small transfers end before a bar could help. */
  quietBelow?: number
}

export interface ProgressBar {
  show(progress: Progress): void
  /** Ends the line kept updated on a terminal. */
  end(): void
}

export function progressBar(label: string, { enabled, quietBelow = 0 }: ProgressBarOptions): ProgressBar {
  const tty = process.stderr.isTTY
  let shownStep = -1
  let shown = false
  return {
    show(progress) {
      if (!enabled || (progress.total !== null && progress.total < quietBelow)) return
      const fraction = progressFraction(progress)
      const step =
        fraction === null
          ? Math.floor(progress.done / UNITS[progress.unit].unknownStep)
          : Math.floor(fraction * 10)
      const text = `ripple: ${label} ${progressLine(progress)}`
      if (tty) process.stderr.write(`\r${text}`)
      else if (step > shownStep) process.stderr.write(`${text}\n`)
      shownStep = Math.max(shownStep, step)
      shown = true
    },
    end() {
      if (tty && shown) process.stderr.write('\n')
    },
  }
}

/** `[#########.....] 64% 1.2 GiB / 1.9 GiB`; the count alone while the total is not known. */
function progressLine(progress: Progress): string {
  const { format } = UNITS[progress.unit]
  const fraction = progressFraction(progress)
  const counts =
    format === null
      ? []
      : [format(progress.done), ...(progress.total === null ? [] : [format(progress.total)])]
  if (fraction === null) return counts.join(' / ')
  const bar = `[${'#'.repeat(Math.round(fraction * WIDTH)).padEnd(WIDTH, '.')}] ${Math.floor(fraction * 100)}%`
  return [bar, counts.join(' / ')].filter(Boolean).join(' ')
}
