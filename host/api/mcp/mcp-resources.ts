/** Resources an agent can read: the peer list, and any task by its hash (recent ones listed). */
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { ApiClient } from '../client/index.ts'
import { peerSummary } from './mesh-tools.ts'

const JSON_TYPE = 'application/json'

export function registerResources(server: McpServer, api: ApiClient): void {
  server.registerResource(
    'peers',
    'ripple://peers',
    {
      title: 'Peers of the mesh',
      description: 'Every peer this one knows: status, hardware, load, models',
      mimeType: JSON_TYPE,
    },
    async (uri, extra) => {
      const { peers } = await api.peers({ signal: extra.signal })
      return {
        contents: [{ uri: uri.href, mimeType: JSON_TYPE, text: JSON.stringify(peers.map(peerSummary)) }],
      }
    },
  )

  server.registerResource(
    'task',
    new ResourceTemplate('ripple://tasks/{hash}', {
      list: async (extra) => {
        const { tasks } = await api.listTasks({ signal: extra.signal })
        return {
          resources: tasks.map((t) => ({
            uri: `ripple://tasks/${t.action_hash}`,
            name: `${t.kind} ${t.status}`,
            mimeType: JSON_TYPE,
          })),
        }
      },
    }),
    {
      title: 'A task',
      description:
        'The whole life of a task by its action hash: claims, assignments, signed results, receipt',
      mimeType: JSON_TYPE,
    },
    async (uri, { hash }, extra) => {
      const view = await api.getTask(String(hash), { signal: extra.signal })
      return { contents: [{ uri: uri.href, mimeType: JSON_TYPE, text: JSON.stringify(view) }] }
    },
  )
}
