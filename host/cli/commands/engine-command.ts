/**
 * `ripple engine`: the inference engine on this machine. `build` builds llama.cpp's server (and, with
 * `--gpu cuda`, the CUDA backend for the GPUs present, with the installed toolkit) from the source
 * node-llama-cpp ships; `status` chooses the backend as a daemon would (self-testing GPU backends
 * not proved yet) and says which runs and why the others do not.
 */
import { spawn } from 'node:child_process'
import { Command, Option } from 'commander'
import { BUILDABLE_GPUS } from '../../inference/engine/backend-table.ts'
import { EngineBackends } from '../../inference/engine/engine-backends.ts'
import { createLogger } from '../../log/logger.ts'
import { repoPath } from '../../runtime/repo-root.ts'
import { alignRows, engineLine } from '../human-format.ts'

export function engineCommand(): Command {
  const engine = new Command('engine').description(
    "the inference engine (llama.cpp's server) on this machine",
  )
  engine
    .command('build')
    .description(
      'build llama-server and ggml-rpc-server from the bundled llama.cpp source (skipped when built)',
    )
    .addOption(
      new Option('--gpu <backend>', 'also build this GPU backend for the local GPUs').choices(BUILDABLE_GPUS),
    )
    .option('--force', 'build again even when built for this source')
    .action(async (options: { gpu?: string; force?: boolean }) => {
      const args = [
        repoPath('scripts', 'build-engine.sh'),
        ...(options.gpu ? ['--gpu', options.gpu] : []),
        ...(options.force ? ['--force'] : []),
      ]
      const child = spawn('bash', args, { stdio: 'inherit' })
      const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)))
      process.exitCode = code
    })
  engine
    .command('status')
    .description('which backend the engine runs on here, and why the others do not')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const backends = new EngineBackends({ logger: createLogger('warn') })
      await backends.active()
      const status = backends.status()
      if (options.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`)
        return
      }
      const rows: [string, string][] = [
        ['engine', engineLine(status)],
        ...(status?.backends ?? []).map((b): [string, string] => [
          b.id,
          `${b.state}${b.detail ? `: ${b.detail}` : ''}${b.fix ? ` (fix: ${b.fix})` : ''}`,
        ]),
      ]
      process.stdout.write(`${alignRows(rows)}\n`)
    })
  return engine
}
