/**
 * The release statements this peer heard (./mesh-versions.ts), as kept in the data dir between runs
 * (./heard-releases-file.ts). Each distinct statement is written once and each agent names it by
 * index: a mesh's members mostly run one release, so a thousand agents cost ~80 bytes each.
 *
 * Read leniently: a statement or an entry that does not parse is dropped alone, and what was heard
 * longer than HEARD_KEPT_MS ago is not recalled (the longer since, the likelier that member changed
 * release meanwhile; a member not recalled counts as unheard, as it did before anything was kept).
 */
import { z } from 'zod'
import { ReleaseStatementSchema } from '../interface/release.ts'
import type { HeardStatement } from './mesh-versions.ts'

/** What was heard longer ago than this is not recalled at start. */
export const HEARD_KEPT_MS = 7 * 24 * 3600 * 1000

/** An agent key's text is 53 characters: anything much longer is not one of ours. */
const MAX_AGENT_CHARS = 128

const FileSchema = z.object({
  v: z.literal(1),
  statements: z.array(z.unknown()),
  heard: z.array(z.unknown()),
})

const EntrySchema = z.tuple([
  z.string().min(1).max(MAX_AGENT_CHARS),
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
])

/** The text kept for `heard`. */
export function encodeHeard(heard: Iterable<HeardStatement>): string {
  const index = new Map<string, number>()
  const statements: unknown[] = []
  const entries: [string, number, number][] = []
  for (const { agent, statement, at } of heard) {
    const key = JSON.stringify(statement)
    let i = index.get(key)
    if (i === undefined) {
      i = statements.push(statement) - 1
      index.set(key, i)
    }
    entries.push([agent, i, at])
  }
  return JSON.stringify({ v: 1, statements, heard: entries })
}

/**
 * What `text` keeps that was heard within HEARD_KEPT_MS of `now`, and how many entries it held that
 * could not be read; null when the text is not such a record at all.
 */
export function decodeHeard(
  text: string,
  now: number,
): { heard: HeardStatement[]; unreadable: number } | null {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return null
  }
  const file = FileSchema.safeParse(json)
  if (!file.success) return null
  const statements = file.data.statements.map((s) => ReleaseStatementSchema.safeParse(s))
  const heard: HeardStatement[] = []
  let unreadable = 0
  for (const raw of file.data.heard) {
    const entry = EntrySchema.safeParse(raw)
    const statement = entry.success ? statements[entry.data[1]] : undefined
    if (!entry.success || !statement?.success) {
      unreadable += 1
      continue
    }
    const [agent, , at] = entry.data
    if (now - at <= HEARD_KEPT_MS) heard.push({ agent, statement: statement.data, at })
  }
  return { heard, unreadable }
}
