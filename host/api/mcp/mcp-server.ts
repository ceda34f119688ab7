/**
 * Ripple's MCP server: the mesh as tools and resources for an agent. It acts only as this peer's
 * agent, through the management API, offering what the credential it was reached with allows: the
 * token's holder everything `/api` does, an API key only what it may do on `/v1`. It never starts processes for
 * a remote peer; tasks it submits run wherever the mesh's scheduling and policies put them.
 * Served over stdio (`ripple mcp`) and Streamable HTTP (`/mcp` on the daemon's listener).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { ApiKeyView } from '../api-keys.ts'
import type { ApiClient } from '../client/index.ts'
import type { EndpointUsage } from '../openai/endpoint-usage.ts'
import { registerArtifactTools } from './artifact-tools.ts'
import { registerInferenceTools } from './inference-tools.ts'
import { registerMemoryTools } from './memory-tools.ts'
import { registerPeerTools } from './peer-tools.ts'
import { registerTaskTools } from './task-tools.ts'

export interface RippleMcpInit {
  /** The daemon's API. */
  api: ApiClient
  /**
   * The API key the session was opened with, or null for the token's holder. A key may only look at
   * the mesh and run inference (on its models, when scoped): the tools of the inference endpoint.
   */
  key?: ApiKeyView | null
  /** The key's limits and usage notes, the same as `/v1`'s: a key's requests count once across both. */
  limits?: Pick<EndpointUsage, 'admit'>
  version: string
}

export function createMcpServer({ api, key = null, limits, version }: RippleMcpInit): McpServer {
  const server = new McpServer(
    { name: 'ripple', title: 'Ripple mesh', version },
    {
      instructions:
        key === null
          ? 'Ripple is a peer-to-peer mesh of machines that run tasks and local LLM inference for each other. Start with mesh_status or list_peers / list_models; run text generation with generate_text (or any task kind with submit_task), then follow or inspect tasks with get_task. Store and read content-addressed files with add_artifact / get_artifact. Remember and search by meaning with memory_upsert / memory_search (memory_collections lists the collections).'
          : `Ripple is a peer-to-peer mesh of machines that run local LLM inference for each other. This API key may look at the mesh (mesh_status, list_peers, list_models) and run generate_text and embed${key.models === null ? '' : ` with the models ${key.models.join(', ')}`}.`,
    },
  )
  registerPeerTools(server, api)
  registerInferenceTools(server, api, key, limits)
  if (key !== null) return server
  registerTaskTools(server, api)
  registerArtifactTools(server, api)
  registerMemoryTools(server, api)
  return server
}
