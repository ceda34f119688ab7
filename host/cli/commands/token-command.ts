/** `ripple token`: prints the API token for scripts (read from the daemon's 0600 file, never printed at start). */
import { Command } from 'commander'
import { locateDaemon } from '../locate-daemon.ts'

export function tokenCommand(): Command {
  return new Command('token')
    .description("print the running daemon's API token (for scripts: Authorization: Bearer <token>)")
    .option('--data-dir <dir>', 'data dir of the daemon (default: the only running one)')
    .action(async (options: { dataDir?: string }) => {
      const { token } = await locateDaemon(options)
      process.stdout.write(`${token}\n`)
    })
}
