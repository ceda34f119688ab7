import type { Command } from 'commander'
import type { LocateOptions } from './locate-daemon.ts'

export interface TargetOptions extends LocateOptions {
  json?: boolean
}

/** Options of every command that talks to a running daemon. */
export function addTargetOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'data dir of the daemon (default: the only running one)')
    .option('--api-url <url>', 'API URL of the daemon (instead of --data-dir)')
    .option('--token <token>', 'API token (default: read from the data dir)')
    .option('--json', 'print JSON for machines instead of text')
}
