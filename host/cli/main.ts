/** The `ripple` command line. */
import '../runtime/node20-polyfills.ts'
import { Command } from 'commander'
import { hostVersion } from '../daemon/host-version.ts'
import { printableText } from '../text/printable.ts'
import { artifactCommand } from './commands/artifact-command.ts'
import { engineCommand } from './commands/engine-command.ts'
import { inferCommand } from './commands/infer-command.ts'
import { inviteCommand } from './commands/invite-command.ts'
import { keysCommand } from './commands/keys-command.ts'
import { mcpCommand } from './commands/mcp-command.ts'
import { memoryCommand } from './commands/memory-command.ts'
import { modelsCommand } from './commands/models-command.ts'
import { peersCommand } from './commands/peers-command.ts'
import { policyCommand } from './commands/policy-command.ts'
import { relayCommand } from './commands/relay-command.ts'
import { serviceCommand } from './commands/service-command.ts'
import { statusCommand } from './commands/status-command.ts'
import { taskCommand } from './commands/task-command.ts'
import { tokenCommand } from './commands/token-command.ts'
import { upCommand } from './commands/up-command.ts'
import { usageCommand } from './commands/usage-command.ts'

const program = new Command('ripple')
  .description('Ripple: a Holochain-native peer-to-peer agent mesh')
  .version(await hostVersion())
  .addCommand(upCommand())
  .addCommand(relayCommand())
  .addCommand(statusCommand())
  .addCommand(peersCommand())
  .addCommand(modelsCommand())
  .addCommand(engineCommand())
  .addCommand(inferCommand())
  .addCommand(taskCommand())
  .addCommand(policyCommand())
  .addCommand(inviteCommand())
  .addCommand(tokenCommand())
  .addCommand(mcpCommand())
  .addCommand(keysCommand())
  .addCommand(usageCommand())
  .addCommand(artifactCommand())
  .addCommand(memoryCommand())
  .addCommand(serviceCommand())

try {
  await program.parseAsync()
} catch (err) {
  // Expected failures (no daemon, bad network file, port in use) are one line for a person;
  // anything else keeps its stack.
  const error = err as Error
  const expected = error.name !== 'Error' && error.name !== 'TypeError' && error.name !== 'RangeError'
  // Error messages may quote what a peer sent.
  process.stderr.write(
    `ripple: ${printableText(expected ? error.message : (error.stack ?? error.message))}\n`,
  )
  process.exit(1)
}
