/**
 * The mesh-wide model aliases: `ModelAlias` entries in policy_store, written by admins (the rules say
 * who), read by every peer. Append-only: the latest entry of a name is the alias, one naming no
 * models removes it. Read through a short cache (every request naming a model asks). A peer whose
 * rules predate the entry would refuse it, so none is written until every member reads it (entries 3).
 */
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { MeshVersions } from '../interface/release.ts'
import type { Logger } from '../log/logger.ts'
import type { MeshAliasStore } from './alias-service.ts'
import { AliasError } from './alias-service.ts'
import type { ModelAlias } from './model-aliases.ts'

/** The version of the entries protocol whose rules know `ModelAlias`. */
export const MODEL_ALIAS_ENTRIES = 3
const DEFAULT_CACHE_MS = 2000

export interface MeshAliasesInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  /**
   * What the members speak, and the agents to name when one lags. Null where peers state none (a
   * Holochain backend, where every member runs the one DNA, whose rules know the entry).
   */
  versions: { mesh: Pick<MeshVersions, 'everySpeaks' | 'of'>; agents: () => Iterable<string> } | null
  cacheMs?: number
  logger: Pick<Logger, 'warn'>
}

export class MeshAliases implements MeshAliasStore {
  readonly #init: MeshAliasesInit
  #cached: { at: number; aliases: ModelAlias[] } | null = null
  #failing = false

  constructor(init: MeshAliasesInit) {
    this.#init = init
  }

  async list(): Promise<ModelAlias[]> {
    const cacheMs = this.#init.cacheMs ?? DEFAULT_CACHE_MS
    if (this.#cached !== null && Date.now() - this.#cached.at < cacheMs) return this.#cached.aliases
    try {
      const records = await this.#init.conductor.callZome('policy_store', 'list_model_aliases', null)
      const aliases = records.map(({ entry }) => ({ name: entry.name, targets: entry.targets }))
      this.#cached = { at: Date.now(), aliases }
      this.#failing = false
      return aliases
    } catch (err) {
      // A request naming a model must not fail for want of the aliases: those last read serve, until
      // the next read (said once per run of failures, not on every request).
      const aliases = this.#cached?.aliases ?? []
      if (!this.#failing)
        this.#init.logger.warn(
          { err: (err as Error).message },
          'the mesh-wide model aliases could not be read',
        )
      this.#failing = true
      this.#cached = { at: Date.now(), aliases }
      return aliases
    }
  }

  async set(alias: ModelAlias): Promise<void> {
    await this.#publish(alias.name, alias.targets)
  }

  async remove(name: string): Promise<boolean> {
    this.#cached = null
    if (!(await this.list()).some((a) => a.name === name)) return false
    await this.#publish(name, [])
    return true
  }

  async #publish(name: string, targets: string[]): Promise<void> {
    const lagging = laggingPeers(this.#init.versions)
    if (lagging !== null)
      throw new AliasError(
        'unavailable',
        `mesh-wide aliases wait until every member reads them: ${lagging.length === 0 ? 'a member' : `peer ${lagging.join(', ')}`} runs an older Ripple (upgrade ${lagging.length === 1 ? 'it' : 'them'}), or set it on this peer`,
      )
    const { conductor } = this.#init
    const admins = await conductor.callZome('policy_store', 'list_admins', null)
    const grant = admins.find((g) => g.entry.agent === conductor.agentPubKey)
    // The rules on every peer decide whether this agent may: a non-admin's write is refused there.
    await conductor.callZome('policy_store', 'publish_model_alias', {
      name,
      targets,
      admin_grant: grant?.action_hash ?? null,
    })
    this.#cached = null
  }
}

/** The members that do not read `ModelAlias` yet ([] when one is unknown), or null when all do. */
function laggingPeers(versions: MeshAliasesInit['versions']): string[] | null {
  if (versions === null || versions.mesh.everySpeaks('entries', MODEL_ALIAS_ENTRIES)) return null
  return [...versions.agents()].filter(
    (agent) => (versions.mesh.of(agent)?.protocols.entries ?? 1) < MODEL_ALIAS_ENTRIES,
  )
}
