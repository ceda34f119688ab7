/**
 * The data plane: the memory promised here, the models this peer serves (each through its own engine
 * process), the splits it heads or holds a share of, requests routed straight to a runner, and the one
 * way every caller (the OpenAI and Anthropic endpoints, MCP, the CLI, memory) runs something on the mesh.
 */
import { availableParallelism, freemem } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_SERVED_SLOT_MS } from '../config/network-schema.ts'
import { engineBuildOf } from '../inference/engine/engine-capability.ts'
import { FileHashCache } from '../inference/file-hash-cache.ts'
import { ModelManager } from '../inference/model-manager.ts'
import { ModelQuarantine } from '../inference/model-quarantine.ts'
import { MemoryBudget } from '../interface/memory-budget.ts'
import { modelInfo } from '../registry/build-capability.ts'
import { AliasFile } from '../requests/alias-file.ts'
import { AliasService } from '../requests/alias-service.ts'
import { DirectService } from '../requests/direct/direct-service.ts'
import { polledBatchWait } from '../requests/direct/polled-batch-wait.ts'
import { MeshAliases } from '../requests/mesh-aliases.ts'
import { RequestRunner } from '../requests/run-request.ts'
import { RpcWorker } from '../split/rpc-worker.ts'
import { SplitService } from '../split/split-service.ts'
import { giveToGet } from '../usage/give-to-get.ts'
import { withRecentUsage } from '../usage/usage-policy.ts'
import { service } from './components.ts'
import { child, trackSubmitted } from './coordination-services.ts'

export interface ModelServiceInit {
  modelsDir: string
  /** Tokens per inference context (capped by each model's training context); default 4096. */
  contextSize?: number
  /** Inference threads; default: the cores this process may use. */
  threads?: number
  /** Requests each loaded model serves at once for one member (`--parallel`); default from its size and free memory. */
  slots?: number
  /** Slots each model's engine runs beyond a member's share, for the owner and members holding none (`--held-back`). */
  heldBackSlots?: number
  /** The most memory models may take here (`--model-memory`); default all that is free. */
  modelMemoryBytes?: number
  /** How long a model stays loaded once idle (`--keep-alive`); default 5 min. */
  keepAliveMs?: number
  /** The most the split worker's tensor cache may hold (`--rpc-cache-size`); default a quarter of the free disk. */
  rpcCacheBytes?: number
  /** Weigh members' turns at this runner's slots by what they served the mesh (`--give-to-get`). */
  giveToGet?: boolean
  /** How often this peer signs its record of what it asked, cover included (`--record-slot`); default the network's. */
  servedSlotMs?: number
}

/** The memory promised on this peer, within `--model-memory` where it is set. */
export function memoryBudget(init: Pick<ModelServiceInit, 'modelMemoryBytes'>) {
  return service([], () => new MemoryBudget({ limitBytes: init.modelMemoryBytes, freeMemory: freemem }))
}

export function modelManager(init: ModelServiceInit) {
  return service(
    ['dataDir', 'logger', 'budget'],
    async (c): Promise<ModelManager> => {
      const hashCache = new FileHashCache(join(c.dataDir, 'model-hashes.json'))
      await hashCache.load()
      const logger = child(c.logger, 'inference')
      const models = new ModelManager({
        modelsDir: init.modelsDir,
        hashCache,
        quarantine: new ModelQuarantine(join(c.dataDir, 'model-quarantine.json')),
        threads: init.threads,
        contextSize: init.contextSize,
        slots: init.slots,
        heldBack: init.heldBackSlots,
        budget: c.budget,
        keepAliveMs: init.keepAliveMs,
        logger,
      })
      // The engine's backend is chosen (GPU ones self-tested) before the capability says which it is.
      await models.backends
        .active()
        .catch((err: unknown) =>
          logger.warn({ err: (err as Error).message }, 'the inference engine cannot run'),
        )
      return models
    },
    'started',
  )
}

/** This peer's memory for splits (an RPC worker behind the mesh's tunnel), and the splits it heads. */
export function splitService(init: { threads?: number; rpcCacheBytes?: number }) {
  return service(
    ['conductor', 'models', 'backend', 'dataDir', 'peers', 'report', 'logger'],
    (c) => {
      const logger = child(c.logger, 'inference')
      const splits = new SplitService({
        self: c.conductor.agentPubKey,
        models: c.models,
        agents: c.backend.agents,
        worker: new RpcWorker({
          dir: async () => {
            const { dir, env } = await c.models.backends.active()
            return { dir, env }
          },
          cacheDir: join(c.dataDir, 'rpc-cache'),
          cacheCapBytes: init.rpcCacheBytes,
          threads: init.threads ?? availableParallelism(),
          logger: logger.child({ component: 'rpc-worker' }),
        }),
        peers: () => c.peers.list(),
        engineBuildOf,
        logger: logger.child({ component: 'split' }),
      })
      // The splits this peer heads go out in its heartbeats, each peer's share with it.
      c.report.add({
        splits: () =>
          splits.views().map(({ model, peers }) => ({
            model,
            peers: peers.map(({ agent, layers, bytes }) => ({ agent, layers, bytes })),
          })),
      })
      return splits
    },
    'started',
  )
}

/** Interactive requests go straight to their runner; the signed record follows the answer. */
export function directService(init: Pick<ModelServiceInit, 'giveToGet' | 'servedSlotMs'>) {
  return service(
    [
      'backend',
      'usage',
      'conductor',
      'workers',
      'policies',
      'models',
      'peers',
      'registry',
      'metrics',
      'network',
      'logger',
    ],
    (c) => {
      const { directory, agents } = c.backend
      const direct = new DirectService({
        coverSlotMs: init.servedSlotMs ?? c.network.record?.served_slot_ms ?? DEFAULT_SERVED_SLOT_MS,
        // Weighed by what each member served this peer, as both signed it (not by what it claims).
        weightOf: init.giveToGet ? giveToGet((since) => c.usage.acceptedFrom(since)) : undefined,
        // Every window of leaves signed here is totalled into this peer's usage.
        conductor: c.usage.watch(c.conductor),
        workers: c.workers,
        // A runner's policies see the requester's recent usage here (and the slots, from the runner).
        policies: withRecentUsage(c.policies, c.usage),
        slotsOf: (model) => c.models.slotsOf(model),
        agents,
        versions: c.backend.versions,
        peers: () => c.peers.list(),
        // A big mesh's runners beyond those heard: the directory, and a load ask answered by the registry.
        own: () => c.registry.own(),
        discovery: directory &&
          agents && {
            directory,
            agents,
            hearsAll: () => c.registry.hearsAll(),
            using: (model) => c.registry.using(model),
          },
        // Where records arrive untold (Holochain), the runner's batch a proof cites is read until it is there.
        waitForAction: c.backend.waitForAction ?? polledBatchWait(c.conductor),
        carrier: c.backend.carrier,
        onServed: (output) => {
          const timings = (
            output as { timings?: { generated_tokens?: number; tokens_per_second?: number | null } }
          ).timings
          c.metrics.answerServed(timings?.generated_tokens ?? null, timings?.tokens_per_second ?? null)
        },
        logger: child(c.logger, 'direct'),
      })
      c.metrics.followDirect(() => direct.inference.stats())
      return direct
    },
    'started',
  )
}

/** The model aliases: the mesh's (policy_store, written by admins) and this peer's own (`aliases.json`). */
export function aliasService() {
  return service(['dataDir', 'backend', 'conductor', 'logger'], async (c) => {
    const logger = child(c.logger, 'inference')
    const file = new AliasFile(join(c.dataDir, 'aliases.json'), logger)
    await file.load()
    const { versions } = c.backend
    const mesh = new MeshAliases({
      conductor: c.conductor,
      versions: versions && { mesh: versions, agents: () => c.backend.links().keys() },
      logger,
    })
    return new AliasService({ file, mesh })
  })
}

export function requestRunner() {
  return service(
    ['scheduler', 'workers', 'direct', 'peers', 'models', 'aliases', 'metrics', 'logger'],
    (c) =>
      new RequestRunner({
        scheduler: c.scheduler,
        workers: c.workers,
        direct: c.direct.inference,
        peers: () => c.peers.list(),
        onSubmitted: (hash) => trackSubmitted(c, hash),
        ownModel: async (name) => {
          const own = (await c.models.list()).models.find((m) => m.name === name)
          return own ? modelInfo(own) : null
        },
        aliases: () => c.aliases.list(),
      }),
  )
}
