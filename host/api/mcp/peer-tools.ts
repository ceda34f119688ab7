/** Tools that look at the mesh: this peer's status, the peers (hardware, load, models), the models; the peer list as a resource. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import type { ApiClient } from '../client/index.ts'
import type { ApiPeer } from '../contract/index.ts'
import { JSON_TYPE, jsonResult } from './tool-reply.ts'

const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const

/** A peer as an agent needs it: who, whether it is up, its machine, its load and its models. */
export function peerSummary(peer: ApiPeer) {
  const capability = peer.capability
  return {
    agent: peer.agent,
    name: peer.name,
    self: peer.self,
    status: peer.status,
    last_heartbeat_ms_ago: peer.last_heartbeat_ms_ago,
    hardware: capability && {
      cpu: capability.hardware.cpu.model,
      cores: capability.hardware.cpu.cores,
      ram_bytes: capability.hardware.ram_bytes,
      gpus: capability.hardware.gpus,
    },
    load: peer.load,
    models: (capability?.inference.models ?? []).map((m) => ({
      name: m.name,
      loaded: m.loaded,
      parameters: m.parameters,
      quantisation: m.quantisation,
      context_length: m.context_length,
    })),
    tags: capability?.tags ?? [],
    warrant: peer.warrant && { rule: peer.warrant.rule, reason: peer.warrant.reason },
  }
}

export function registerPeerTools(server: McpServer, api: ApiClient): void {
  server.registerTool(
    'mesh_status',
    {
      title: 'Mesh status',
      description:
        'This Ripple peer (agent key, network, version, uptime, its machine and models) and how many peers of the mesh it sees online, stale or offline.',
      annotations: READ_ONLY,
    },
    async (extra) => {
      const [status, { peers, warrants }] = await Promise.all([
        api.status({ signal: extra.signal }),
        api.peers({ signal: extra.signal }),
      ])
      const count = (s: ApiPeer['status']) => peers.filter((p) => p.status === s).length
      const self = peers.find((p) => p.self)
      return jsonResult({
        agent: status.agent,
        network: status.network,
        version: status.version,
        uptime_ms: status.uptime_ms,
        self: self ? peerSummary(self) : null,
        peers: { online: count('online'), stale: count('stale'), offline: count('offline') },
        warrants: warrants.length,
      })
    },
  )

  server.registerTool(
    'list_peers',
    {
      title: 'List peers',
      description:
        'The peers of the mesh this peer knows (itself first): status (online, stale, offline), hardware (CPU, cores, RAM, GPUs), current load (CPU, RAM, GPU, queue) and the models each offers, loaded or not.',
      inputSchema: {
        status: z
          .enum(['online', 'stale', 'offline'])
          .optional()
          .describe('only peers with this status (default: all)'),
      },
      annotations: READ_ONLY,
    },
    async ({ status }, extra) => {
      const { peers } = await api.peers({ signal: extra.signal })
      return jsonResult({
        peers: peers.filter((p) => status === undefined || p.status === status).map(peerSummary),
      })
    },
  )

  server.registerTool(
    'list_models',
    {
      title: 'List models',
      description:
        "The GGUF models of the mesh: by name, the online peers that offer each (and whether it is loaded there), this peer's own models directory (with any unusable files and why), and the aliases (a name, or a pattern like claude-*, standing for models in order of preference, with the model each runs now). Name a model or an alias in generate_text or embed to run on a peer that has it.",
      annotations: READ_ONLY,
    },
    async (extra) => {
      const [local, { peers }, { aliases }] = await Promise.all([
        api.listModels({ signal: extra.signal }),
        api.peers({ signal: extra.signal }),
        api.listAliases({ signal: extra.signal }),
      ])
      const byModel = new Map<
        string,
        { agent: string; name: string | null; loaded: boolean; file_hash: string }[]
      >()
      for (const peer of peers.filter((p) => p.status === 'online')) {
        for (const m of peer.capability?.inference.models ?? []) {
          const holders = byModel.get(m.name) ?? []
          holders.push({ agent: peer.agent, name: peer.name, loaded: m.loaded, file_hash: m.file_hash })
          byModel.set(m.name, holders)
        }
      }
      return jsonResult({
        mesh: [...byModel].map(([name, holders]) => ({ name, peers: holders })),
        local: local.models,
        unusable: local.unusable,
        aliases,
      })
    },
  )

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
}
