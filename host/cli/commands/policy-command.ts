/** `ripple policy publish|ls`: the Cedar policies of the mesh (publishing needs an admin key). */
import { readFile } from 'node:fs/promises'
import { Command, InvalidArgumentError } from 'commander'
import type { PublishPolicyBody } from '../../api/contract/index.ts'
import { printableJson } from '../../text/printable.ts'
import { parseIntegerIn } from '../cli-options.ts'
import { formatTable } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

interface PublishOptions extends TargetOptions {
  file?: string
  text?: string
  description?: string
  version?: number
}

export function policyCommand(): Command {
  return new Command('policy')
    .description('publish and list the Cedar policies that gate claim, assign and run')
    .addCommand(
      addTargetOptions(
        new Command('publish')
          .description('publish a policy (or a new version of one) as this peer; only admins may')
          .argument('<id>', 'policy id, e.g. no-gpu-for-strangers')
          .option('--file <path>', 'file holding the Cedar text')
          .option('--text <cedar>', 'the Cedar text itself')
          .option('--description <text>', 'what the policy is for')
          .option('--version <n>', 'version (default: one above the latest)', parseIntegerIn(1, 2147483647)),
      ).action(async (id: string, options: PublishOptions) => {
        if ((options.file === undefined) === (options.text === undefined)) {
          throw new InvalidArgumentError('give the Cedar text with exactly one of --file and --text')
        }
        const body: PublishPolicyBody = {
          id,
          text: options.text ?? (await readFile(options.file!, 'utf8')),
          ...(options.description === undefined ? {} : { description: options.description }),
          ...(options.version === undefined ? {} : { version: options.version }),
        }
        const ref = await (await connectDaemon(options)).publishPolicy(body)
        process.stdout.write(
          `${options.json ? JSON.stringify(ref, null, 2) : `published ${id} (${ref.action_hash})`}\n`,
        )
      }),
    )
    .addCommand(
      addTargetOptions(new Command('ls').description('list the latest version of each policy')).action(
        async (options: TargetOptions) => {
          const { policies } = await (await connectDaemon(options)).listPolicies()
          if (options.json) {
            process.stdout.write(`${printableJson(policies)}\n`)
            return
          }
          if (policies.length === 0) {
            process.stdout.write('no policies: every claim, assignment and run is allowed\n')
            return
          }
          const rows = policies.map((p) => [
            p.entry.id,
            String(p.entry.version),
            `${p.author.slice(0, 12)}…`,
            p.entry.description || p.entry.text.replace(/\s+/g, ' ').slice(0, 60),
          ])
          process.stdout.write(`${formatTable(['ID', 'VERSION', 'AUTHOR', 'DESCRIPTION'], rows)}\n`)
        },
      ),
    )
}
