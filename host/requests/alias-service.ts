/**
 * The model aliases in force on this peer (./model-aliases.ts): the mesh's, set by an admin, and this
 * peer's own (./alias-file.ts), which override the mesh's of the same name. Setting one checks it
 * beside those in force, so every alias names models only.
 */
import type { Failure } from '../interface/failure-kind.ts'
import type { AliasFile } from './alias-file.ts'
import {
  type AliasScope,
  aliasesInForce,
  checkAlias,
  type ModelAlias,
  ModelAliasSchema,
  type ScopedAlias,
} from './model-aliases.ts'

/** The mesh-wide aliases, as an admin writes them under the rules. */
export interface MeshAliasStore {
  list(): Promise<ModelAlias[]>
  set(alias: ModelAlias): Promise<void>
  /** False when the mesh has no alias of that name. */
  remove(name: string): Promise<boolean>
}

export interface AliasesPort {
  /** The aliases in force, each with where it was set; sorted by name. */
  list(): Promise<ScopedAlias[]>
  /** Sets or replaces an alias, on the mesh (an admin's) or on this peer only. */
  set(alias: ModelAlias, scope: AliasScope): Promise<ScopedAlias>
  remove(name: string, scope: AliasScope): Promise<void>
}

export class AliasError extends Error {
  static override readonly name = 'AliasError'
  constructor(
    readonly failureKind: Failure,
    message: string,
    readonly details: { field: string | null } = { field: null },
  ) {
    super(message)
    this.name = 'AliasError'
  }
}

export class AliasService implements AliasesPort {
  readonly #file: Pick<AliasFile, 'list' | 'set' | 'remove'>
  readonly #mesh: MeshAliasStore | null

  /** `mesh` null: this peer's network keeps no mesh-wide aliases (its own still work). */
  constructor(init: { file: Pick<AliasFile, 'list' | 'set' | 'remove'>; mesh: MeshAliasStore | null }) {
    this.#file = init.file
    this.#mesh = init.mesh
  }

  async list(): Promise<ScopedAlias[]> {
    return aliasesInForce((await this.#mesh?.list()) ?? [], this.#file.list())
  }

  async set(input: ModelAlias, scope: AliasScope): Promise<ScopedAlias> {
    const parsed = ModelAliasSchema.safeParse(input)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new AliasError('invalid', `invalid alias: ${issue?.message}`, {
        field: issue?.path.join('.') || null,
      })
    }
    const alias = parsed.data
    const why = checkAlias(alias, await this.list())
    if (why !== null) throw new AliasError('invalid', why, { field: 'targets' })
    if (scope === 'mesh') await this.#meshStore().set(alias)
    else await this.#file.set(alias)
    return { ...alias, scope }
  }

  async remove(name: string, scope: AliasScope): Promise<void> {
    const removed = scope === 'mesh' ? await this.#meshStore().remove(name) : await this.#file.remove(name)
    if (!removed)
      throw new AliasError(
        'not_found',
        `no alias "${name}" ${scope === 'mesh' ? 'on the mesh' : 'on this peer'}`,
        { field: 'name' },
      )
  }

  #meshStore(): MeshAliasStore {
    if (this.#mesh === null)
      throw new AliasError('unavailable', 'this peer keeps no mesh-wide aliases; set it on this peer')
    return this.#mesh
  }
}
