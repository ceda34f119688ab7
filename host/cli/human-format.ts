/**
 * Text a person reads in the terminal: sizes, durations, and a capability in a few lines. Rows and tables
 * escape every cell (`printable`): their values come from peers.
 */

import type { NodeCapability } from '../../zomes-bindings/index.ts'
import type { BackendStatus } from '../inference/engine/engine-backends.ts'
import { type KeepAliveState, keepAliveText } from '../interface/keep-alive-text.ts'
import { formatBytes } from '../text/byte-size.ts'
import { formatDuration } from '../text/duration-text.ts'
import { printable } from '../text/printable.ts'

export { formatBytes, formatDuration }

/** A loaded model's keep-alive as `ripple models ls` and `ripple status` show it. */
export const keepAliveLine = (m: KeepAliveState): string => keepAliveText(m, formatDuration)

/** A loaded model's slots as `ripple status` shows them: a member's share, those held back, those running. */
export function slotsLine(m: { slots: number; held_back: number; running: number }): string {
  const held = m.held_back > 0 ? ` + ${m.held_back} held back` : ''
  return `${m.slots - m.held_back} slots${held}, ${m.running} running`
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`
  return String(n)
}

/** `[label, value]` rows describing a capability. */
export function capabilityRows(capability: NodeCapability): [string, string][] {
  const { cpu, gpus, os } = capability.hardware
  const models = capability.inference.models
  return [
    ['name', capability.name],
    ['cpu', `${cpu.model}, ${cpu.cores} cores / ${cpu.threads} threads, ${cpu.arch}`],
    ['ram', formatBytes(capability.hardware.ram_bytes)],
    [
      'gpus',
      gpus.length === 0
        ? 'none'
        : gpus.map((g) => `${g.vendor} ${g.model} (${formatBytes(g.vram_bytes)})`).join('; '),
    ],
    ['disk free', formatBytes(capability.hardware.disk_free_bytes)],
    ['os', `${os.distro || os.platform} ${os.release}, kernel ${os.kernel}`.trim()],
    [
      'models',
      models.length === 0
        ? 'none'
        : models
            .map(
              (m) =>
                `${m.name} (${[m.architecture, m.parameters && formatCount(m.parameters), m.quantisation].filter(Boolean).join(' ')})`,
            )
            .join('; '),
    ],
    ['tags', capability.tags.length === 0 ? 'none' : capability.tags.join(', ')],
  ]
}

/** Rows as aligned `label  value` lines. */
export function alignRows(rows: readonly [string, string][], indent = ''): string {
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}  ${printable(value)}`).join('\n')
}

/** Rows under a header, each column padded to its widest cell. */
export function formatTable(header: readonly string[], unsafeRows: readonly (readonly string[])[]): string {
  const rows = unsafeRows.map((r) => r.map(printable))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** The backend the engine runs on and why the others do not, or how to build the engine. */
export function engineLine(status: BackendStatus | null): string {
  if (status === null) return 'not built: run `bash scripts/build-engine.sh` (the install does)'
  return `llama.cpp ${status.engine_build}, ${status.summary.replace(/^engine backend: /, '')}`
}
