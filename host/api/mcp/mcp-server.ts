/**
 * Ripple's MCP server: the mesh as tools and resources for an agent. It acts only as this peer's
 * agent, through the management API with the credential it was reached with (the API token now, an
 * API key later): whatever it does, that caller could do through `/api`. It never starts processes for
 * a remote peer; tasks it submits run wherever the mesh's scheduling and policies put them.
 * Served over stdio (`ripple mcp`) and Streamable HTTP (`/mcp` on the daemon's listener).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { ApiClient } from '../client/index.ts'
import { registerArtifactTools } from './artifact-tools.ts'
import { registerInferenceTools } from './inference-tools.ts'
import { registerResources } from './mcp-resources.ts'
import { registerMeshTools } from './mesh-tools.ts'
import { registerTaskTools } from './task-tools.ts'

export interface RippleMcpInit {
  /** The daemon's API, with the caller's credential. */
  api: ApiClient
  version: string
}

export function createMcpServer({ api, version }: RippleMcpInit): McpServer {
  const server = new McpServer(
    { name: 'ripple', title: 'Ripple mesh', version },
    {
      instructions:
        'Ripple is a peer-to-peer mesh of machines that run tasks and local LLM inference for each other. Start with mesh_status or list_peers / list_models; run text generation with generate_text (or any task kind with submit_task), then follow or inspect tasks with get_task.',
    },
  )
  registerMeshTools(server, api)
  registerTaskTools(server, api)
  registerInferenceTools(server, api)
  registerArtifactTools(server, api)
  registerResources(server, api)
  return server
}
