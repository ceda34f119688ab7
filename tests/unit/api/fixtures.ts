/** A fake conductor and a valid capability for API tests (no embedded conductor needed). */

import type { ApiComponents, ApiNode } from '../../../host/api/api-node.ts'
import { ApiServer, type ApiServerInit } from '../../../host/api/api-server.ts'
import type { StatusView } from '../../../host/api/contract/index.ts'
import type { GenerateOutput } from '../../../host/api/openai/generation.ts'
import { ZomeFunctionNotImplementedError } from '../../../host/conductor/embedded/errors.ts'
import {
  InvalidEntryError,
  UnresolvedDependenciesError,
} from '../../../host/conductor/embedded/validation/validator.ts'
import type { ModelManager } from '../../../host/inference/model-manager.ts'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import type { PeerEntry } from '../../../host/interface/live-peers.ts'
import { OWN_STATEMENT } from '../../../host/interface/release.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { dhtLocation, HOLO_HASH_PREFIXES, type NodeCapability } from '../../../zomes-bindings/index.ts'
import type { TestHost } from '../scheduler/fixtures.ts'

const AGENT_CORE = new Uint8Array(32).fill(7)
/** A well-formed agent key (type prefix, core, DHT location), as the contract's schemas require. */
export const AGENT = `u${Buffer.concat([HOLO_HASH_PREFIXES.agent, AGENT_CORE, dhtLocation(AGENT_CORE)]).toString('base64url')}`
const UNKNOWN_CORE = new Uint8Array(32).fill(9)
/** A well-formed action hash of a record nobody holds: the fake conductor answers it as unresolved. */
export const UNKNOWN_ACTION = `u${Buffer.concat([HOLO_HASH_PREFIXES.action, UNKNOWN_CORE, dhtLocation(UNKNOWN_CORE)]).toString('base64url')}`

export const CAPABILITY: NodeCapability = {
  name: 'test-peer',
  hardware: {
    cpu: { model: 'Test CPU', cores: 2, threads: 4, arch: 'x64', speed_ghz: 3 },
    ram_bytes: 8 * 1024 ** 3,
    gpus: [],
    disk_free_bytes: 100 * 1024 ** 3,
    os: { platform: 'linux', distro: 'Debian', release: '12', kernel: '6.1' },
  },
  inference: { models: [], tokens_per_second: null },
  storage: { ipfs_free_bytes: 0, pinned_bytes: 0 },
  memory: { shards_held: 0, capacity_bytes: 0 },
  tags: [],
  host_version: '0.1.0',
}

/** A peer of the mesh, online, that holds the model `tiny` (for routes that ask who may run it). */
export const TINY_HOLDER = {
  agent: 'uhCAkHOLDER',
  self: false,
  status: 'online',
  name: 'holder',
  capability: {
    ...CAPABILITY,
    inference: {
      tokens_per_second: null,
      models: [{ name: 'tiny', file_hash: 'a'.repeat(64), size_bytes: 1, parameters: 1, loaded: true }],
    },
  },
  load: null,
  last_heartbeat_ms_ago: 0,
} as unknown as PeerEntry

/** What GET /api/status answers in API tests. */
export function statusView(): StatusView {
  return {
    agent: AGENT,
    network: 'local',
    network_id: 'ab'.repeat(32),
    progenitor: null,
    backend: 'embedded',
    version: '0.1.0',
    pid: process.pid,
    data_dir: '/tmp/x',
    models_dir: '/tmp/x/models',
    uptime_ms: 1,
    multiaddrs: [],
    warrants: [],
    capability: CAPABILITY,
    unusable_models: [],
    loaded_models: [],
    engine: null,
    rpc_cache: null,
    standing: null,
    release: OWN_STATEMENT,
  }
}

/** Answers agent_registry calls; `rejectNames` makes advertise_capability fail the way the rules would. */
export function fakeConductor(): ConductorPort {
  const callZome = async (dna: string, fn: string, payload: unknown): Promise<unknown> => {
    if (dna === 'agent_registry' && fn === 'advertise_capability') {
      if ((payload as NodeCapability).name === 'rejected-by-rules') {
        throw new InvalidEntryError('node_capability.name', 'this name is refused')
      }
      return { action_hash: 'uhCkk', entry_hash: 'uhCEk' }
    }
    if (dna === 'agent_registry' && fn === 'list_nodes') return []
    if (dna === 'agent_registry' && fn === 'get_capability') return null
    // As the embedded conductor answers a write that refers to a record it does not hold.
    if (dna === 'resource_mesh' && fn === 'claim_task')
      throw new UnresolvedDependenciesError([UNKNOWN_ACTION])
    throw new ZomeFunctionNotImplementedError(dna, fn)
  }
  return {
    backend: 'embedded',
    agentPubKey: AGENT,
    callZome: callZome as ConductorPort['callZome'],
    agentInfo: async () => {
      throw new Error('not used')
    },
    broadcastSignal: async () => {},
    sendSignal: async () => {},
    onSignal: () => () => {},
    close: async () => {},
  }
}

type TestModels = Pick<ModelManager, 'list' | 'load' | 'unload'> & Partial<Pick<ModelManager, 'onChange'>>

/** What a test gives an API server: its own settings, and the parts of the node it uses. */
export interface TestInit extends Partial<Omit<ApiServerInit, 'node'>> {
  components?: Partial<Omit<ApiComponents, 'models'>> & { models?: TestModels }
  node?: Partial<Omit<ApiNode, 'components'>>
}

/** An API server's init for tests: loopback, the token `the-token`, a node with no models; `over` adds the rest. */
export function baseInit(over: TestInit = {}): ApiServerInit {
  const { components = {}, node = {}, ...server } = over
  return {
    host: '127.0.0.1',
    port: 0,
    token: 'the-token',
    logger: silentLogger(),
    ...server,
    node: {
      status: () => {
        throw new Error('not used')
      },
      ...node,
      components: {
        conductor: fakeConductor(),
        peers: { list: async () => [], warrants: () => [] },
        ...components,
        models: {
          list: async () => ({ models: [], unusable: [] }),
          load: async () => Promise.reject(new Error('x')),
          unload: async () => false,
          onChange: () => () => {},
          ...components.models,
        },
      },
    },
  }
}

/** An API server (not started) over a test host's tasks and policies, with no models; `extra` adds routes. */
export function tasksApiServer(host: TestHost, token: string, extra: TestInit = {}): ApiServer {
  return new ApiServer(
    baseInit({
      token,
      ...extra,
      components: {
        conductor: host.conductor,
        scheduler: host.scheduler,
        workers: host.workers,
        policies: host.policies,
        ...extra.components,
      },
    }),
  )
}

/** A generation's output as the worker answers it, for the translation tests of the /v1 routes. */
export function generateOutput(over: Partial<GenerateOutput> = {}): GenerateOutput {
  return {
    text: 'hello',
    reasoning: '',
    json: null,
    tool_calls: [],
    stop_reason: 'eos',
    model: { name: 'tiny', file_hash: 'f'.repeat(64), parameters: 1, quantisation: 'F32' },
    params: {
      max_tokens: 8,
      temperature: 0,
      seed: 1,
      top_p: null,
      constraint: 'none',
      context_size: 4096,
      threads: 1,
    },
    timings: {
      load_ms: 0,
      prompt_tokens: 5,
      generated_tokens: 2,
      reasoning_tokens: 0,
      time_to_first_token_ms: 1,
      total_ms: 2,
      tokens_per_second: null,
      cached_tokens: 0,
    },
    ...over,
  }
}
