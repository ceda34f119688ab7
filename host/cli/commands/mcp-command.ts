/**
 * `ripple mcp`: the MCP server over stdio, for agent CLIs that spawn their tools. It finds the running
 * daemon like the other commands (`--data-dir`, or the only one running) and acts through its API
 * with the token from the data dir. stdout carries only MCP messages.
 */
import { Command } from 'commander'
import { hostVersion } from '../../daemon/host-version.ts'
import { connectDaemon, type LocateOptions } from '../locate-daemon.ts'

export function mcpCommand(): Command {
  return new Command('mcp')
    .description('serve the mesh to an agent over MCP (stdio), through the running daemon')
    .option('--data-dir <dir>', 'data dir of the daemon (default: the only running one)')
    .option('--api-url <url>', 'API URL of the daemon (instead of --data-dir)')
    .action(async (options: LocateOptions) => {
      const api = await connectDaemon(options)
      // Fails now, on stderr, if the daemon is not there, rather than on the agent's first call.
      await api.status()
      // Loaded here, not with the CLI: every other command (and `ripple up`) would pay for the SDK.
      const [{ StdioServerTransport }, { createMcpServer }] = await Promise.all([
        import('@modelcontextprotocol/sdk/server/stdio.js'),
        import('../../api/mcp/mcp-server.ts'),
      ])
      const server = createMcpServer({ api, version: await hostVersion() })
      const transport = new StdioServerTransport()
      const closed = new Promise<void>((resolve) => {
        transport.onclose = resolve
      })
      await server.connect(transport)
      process.stdin.once('end', () => void server.close())
      await closed
    })
}
