/**
 * Virtual models: a name agents are configured with once (`coder`), or a pattern for the names they
 * send unasked (`claude-*`, `gpt-*`), that stands for real models in order of preference. Pure: the
 * aliases, the mesh's models and the asked name in, the model to run (or why none) out.
 *
 * One step, never recursive: a target is a model name, never looked up as an alias again, so no
 * alias can loop; `checkAlias` refuses an alias naming an alias at set time, so what is set says
 * what runs. A pattern is a name with one trailing `*` (a prefix, `*` alone for any name); nothing
 * else is a glob.
 */
import { z } from 'zod'
import type { PeerModel } from './peer-models.ts'

/** The characters of model names the mesh and agents use (`claude-sonnet-4-5`, `gpt-5.1-codex`, `qwen3:8b`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/
const PATTERN = /^(?:[A-Za-z0-9][A-Za-z0-9._:/-]{0,126})?\*$/
export const MAX_ALIAS_TARGETS = 8

export const AliasNameSchema = z
  .string()
  .refine(
    (s) => NAME.test(s) || PATTERN.test(s),
    'an alias is a model name (letters, digits, ".", "_", ":", "/", "-"; 128 at most) or such a prefix ending in one "*"',
  )
export const AliasTargetSchema = z
  .string()
  .regex(NAME, 'a target is a model name (letters, digits, ".", "_", ":", "/", "-"; 128 at most), no "*"')

export const ModelAliasSchema = z.strictObject({
  name: AliasNameSchema,
  /** Models in order of preference. */
  targets: z
    .array(AliasTargetSchema)
    .min(1, 'an alias names at least one model')
    .max(MAX_ALIAS_TARGETS, `an alias names at most ${MAX_ALIAS_TARGETS} models`)
    .refine((t) => new Set(t).size === t.length, 'an alias names each model once'),
})
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
  if (alias.targets.includes(alias.name)) return `alias "${alias.name}" names itself`
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
