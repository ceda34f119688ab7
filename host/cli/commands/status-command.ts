/** `ripple status`: what the running daemon is, and what this machine offers the mesh. */
import { Command } from 'commander'
import { statementText } from '../../interface/version-gap.ts'
import { printableJson } from '../../text/printable.ts'
import {
  alignRows,
  capabilityRows,
  engineLine,
  formatBytes,
  formatDuration,
  keepAliveLine,
  slotsLine,
} from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

export function statusCommand(): Command {
  return addTargetOptions(
    new Command('status').description('show the running daemon and its capability'),
  ).action(async (options: TargetOptions) => {
    const status = await (await connectDaemon(options)).status()
    if (options.json) {
      process.stdout.write(`${printableJson(status)}\n`)
      return
    }
    const rows: [string, string][] = [
      ['agent', status.agent],
      ['network', `${status.network} (${status.backend})`],
      ...(status.standing === null ? [] : [['REFUSED', status.standing] as [string, string]]),
      ['release', statementText(status.release)],
      ['uptime', formatDuration(status.uptime_ms)],
      ['pid', String(status.pid)],
      ['data dir', status.data_dir],
      ['models dir', status.models_dir],
      ['engine', engineLine(status.engine)],
      ...capabilityRows(status.capability),
      ...status.unusable_models.map((m): [string, string] => ['unusable', `${m.path}: ${m.reason}`]),
      ...status.loaded_models.map((m): [string, string] => [
        'loaded',
        `${m.name}: ${slotsLine(m)}; ${keepAliveLine(m)}`,
      ]),
      ...(status.rpc_cache === null
        ? []
        : [
            [
              'rpc cache',
              `${formatBytes(status.rpc_cache.bytes)} of ${formatBytes(status.rpc_cache.cap_bytes)}`,
            ] as [string, string],
          ]),
    ]
    process.stdout.write(`${alignRows(rows)}\n`)
  })
}
