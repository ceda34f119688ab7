/**
 * Every command's help as a person reads it: a default is written the way the option is typed (`24h`,
 * `256.0 MiB`), never as the milliseconds or bytes it parses to (`--expires` said 86400000).
 */
import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { artifactCommand } from '../../../host/cli/commands/artifact-command.ts'
import { engineCommand } from '../../../host/cli/commands/engine-command.ts'
import { inferCommand } from '../../../host/cli/commands/infer-command.ts'
import { inviteCommand } from '../../../host/cli/commands/invite-command.ts'
import { keysCommand } from '../../../host/cli/commands/keys-command.ts'
import { mcpCommand } from '../../../host/cli/commands/mcp-command.ts'
import { memoryCommand } from '../../../host/cli/commands/memory-command.ts'
import { modelsCommand } from '../../../host/cli/commands/models-command.ts'
import { peersCommand } from '../../../host/cli/commands/peers-command.ts'
import { policyCommand } from '../../../host/cli/commands/policy-command.ts'
import { relayCommand } from '../../../host/cli/commands/relay-command.ts'
import { statusCommand } from '../../../host/cli/commands/status-command.ts'
import { taskCommand } from '../../../host/cli/commands/task-command.ts'
import { tokenCommand } from '../../../host/cli/commands/token-command.ts'
import { upCommand } from '../../../host/cli/commands/up-command.ts'

const commands = [
  upCommand(),
  relayCommand(),
  statusCommand(),
  peersCommand(),
  modelsCommand(),
  engineCommand(),
  inferCommand(),
  taskCommand(),
  policyCommand(),
  inviteCommand(),
  tokenCommand(),
  mcpCommand(),
  keysCommand(),
  artifactCommand(),
  memoryCommand(),
]

const everyCommand = (command: Command): Command[] => [command, ...command.commands.flatMap(everyCommand)]

describe('command help', () => {
  it.each(commands.flatMap(everyCommand).map((c) => [c.name(), c] as const))(
    '%s writes its defaults as they are typed',
    (_name, command) => {
      const defaults = [...command.helpInformation().matchAll(/\(default:\s+([^)]*)\)/g)].map((m) => m[1])
      // A port (3478) is typed as a number; a duration or a size of five digits or more is not.
      for (const text of defaults) expect(text).not.toMatch(/^\d{5,}$/)
    },
  )

  it('says the invite lasts a day and the relay limits in their units', () => {
    const invite = inviteCommand().commands.find((c) => c.name() === 'create')!
    expect(invite.helpInformation()).toMatch(/\(default:\s+24h\)/)
    expect(relayCommand().helpInformation()).toMatch(/\(default:\s+256\.0 MiB\)[\s\S]*\(default:\s+30m\)/)
  })
})
