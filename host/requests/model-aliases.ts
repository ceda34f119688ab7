/**
 * Virtual models: a name agents are configured with once (`coder`), or a pattern for the names they
 * send unasked (`claude-*`, `gpt-*`), that stands for real models in order of preference. Pure: the
 * aliases, the mesh's models and the asked name in, the model to run (or why none) out.
 *
 * One step, never recursive: a target is a model name, never looked up as an alias again, so no
 * alias can loop; `checkAlias` refuses an alias naming an alias at set time, so what is set says
 * what runs. A pattern is a name with one trailing `*` (a prefix, `*` alone for any name); nothing
 * else is a glob. Names and targets are the mesh's model names (zomes-bindings/policy_store.ts).
 */
import { z } from 'zod'
import { AliasTargetSchema, LIMITS, ModelAliasNameSchema } from '../../zomes-bindings/index.ts'
import type { PeerModel } from './peer-models.ts'

/** An alias's name (a model name, or a pattern) and targets (model names), as the mesh's rules take them. */
export const AliasNameSchema = ModelAliasNameSchema
export const MAX_ALIAS_TARGETS = LIMITS.model_alias.targets.max

export const ModelAliasSchema = z
  .strictObject({
    name: AliasNameSchema,
    /** Models in order of preference. */
    targets: z
      .array(AliasTargetSchema)
      .min(1, 'an alias names at least one model')
      .max(MAX_ALIAS_TARGETS, `an alias names at most ${MAX_ALIAS_TARGETS} models`)
      .refine((t) => new Set(t).size === t.length, 'an alias names each model once'),
  })
  .refine((a) => !a.targets.includes(a.name), { message: 'an alias cannot name itself', path: ['targets'] })
export type ModelAlias = z.infer<typeof ModelAliasSchema>

/** Where an alias was set: on the mesh by an admin, or on this peer only. */
export type AliasScope = 'mesh' | 'peer'
export interface ScopedAlias extends ModelAlias {
  scope: AliasScope
}

export const isPattern = (name: string) => name.endsWith('*')

/** The aliases in force: this peer's override the mesh's of the same name; sorted by name. */
export function aliasesInForce(mesh: readonly ModelAlias[], peer: readonly ModelAlias[]): ScopedAlias[] {
  const byName = new Map<string, ScopedAlias>()
  for (const a of mesh) byName.set(a.name, { ...a, scope: 'mesh' })
  for (const a of peer) byName.set(a.name, { ...a, scope: 'peer' })
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * Why `alias` cannot be set beside `others` (the aliases in force, whatever the scope), or null.
 * A target that is itself an alias, or an alias that is some alias's target, would make a chain:
 * refused, so every alias names models only.
 */
export function checkAlias(alias: ModelAlias, others: readonly ModelAlias[]): string | null {
  const rest = others.filter((o) => o.name !== alias.name)
  for (const target of alias.targets) {
    const named = rest.find((o) => o.name === target)
    if (named) return `"${target}" is an alias (of ${named.targets.join(', ')}); an alias names models only`
  }
  const citing = rest.find((o) => o.targets.includes(alias.name))
  if (citing) return `"${alias.name}" is a target of alias "${citing.name}"; an alias cannot be a target`
  return null
}

/** The alias that answers `asked`: the one of that exact name, else the longest pattern that matches it. */
export function aliasFor(asked: string, aliases: readonly ModelAlias[]): ModelAlias | null {
  const exact = aliases.find((a) => a.name === asked && !isPattern(a.name))
  if (exact) return exact
  let best: ModelAlias | null = null
  for (const a of aliases) {
    if (!isPattern(a.name) || !asked.startsWith(a.name.slice(0, -1))) continue
    if (best === null || a.name.length > best.name.length) best = a
  }
  return best
}

export type Resolution =
  /** Run `model`; `alias` names the alias that chose it (null: asked by its own name). */
  | { model: string; alias: string | null }
  /** An alias matched but no peer serves any of its models. */
  | { model: null; alias: string; why: string }

/**
 * The model to run for `asked`. A model some peer serves under that exact name wins; else its alias
 * gives the first of its targets that some peer serves with a slot free, else the first one served
 * (the request waits for it). Neither a model nor an alias: `asked` itself (its run says not found).
 */
export function resolveModel(
  asked: string,
  aliases: readonly ModelAlias[],
  models: readonly Pick<PeerModel, 'name' | 'peers' | 'busy'>[],
): Resolution {
  const served = (name: string) => models.find((m) => m.name === name && m.peers.length > 0)
  if (served(asked)) return { model: asked, alias: null }
  const alias = aliasFor(asked, aliases)
  if (alias === null) return { model: asked, alias: null }
  const candidates = alias.targets.flatMap((t) => served(t) ?? [])
  const free = candidates.find((m) => m.peers.some((p) => !m.busy.includes(p)))
  const chosen = free ?? candidates[0]
  if (chosen) return { model: chosen.name, alias: alias.name }
  const named = alias.name === asked ? `alias "${asked}"` : `"${asked}" (alias "${alias.name}")`
  return {
    model: null,
    alias: alias.name,
    why: `${named} names ${alias.targets.join(', ')}; no peer of the mesh serves any of them`,
  }
}
