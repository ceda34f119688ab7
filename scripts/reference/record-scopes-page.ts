/**
 * `docs/reference/record-scopes.md`: where each entry and link type of the contract lives, everywhere or
 * in its neighbourhood, and why, from the tables in `replication/record-scope.ts`.
 */
import {
  ENTRY_SCOPES,
  LINK_SCOPES,
  type Placement,
} from '../../host/conductor/embedded/replication/record-scope.ts'
import { DNA_NAMES } from '../../zomes-bindings/index.ts'
import { code, generatedNote, inline, table } from './markdown.ts'

const rows = (tables: typeof ENTRY_SCOPES | typeof LINK_SCOPES): string[][] =>
  DNA_NAMES.flatMap((dna) =>
    Object.entries(tables[dna] as Readonly<Record<string, Placement>>).map(([name, { scope, why }]) => [
      code(dna),
      code(name),
      scope,
      inline(why),
    ]),
  )

export function recordScopesPage(): string {
  return [
    generatedNote('`host/conductor/embedded/replication/record-scope.ts`'),
    '',
    '# Where records live',
    '',
    'Each entry and link type of the contract, and where its records live (see ' +
      '[the record](../record.md#where-records-live)): **everywhere** on every peer, or in its ' +
      "**neighbourhood**, the network file's `record.holders` peers closest to its hash (every peer " +
      'while the mesh has that many members or fewer). The genesis of each agent (its invite, grant and ' +
      "witnessed admission) is everywhere; each chain's continuity is checked by its author's neighbourhood. " +
      'The embedded replicator shards past `record.holders` members: a peer stores what lives everywhere ' +
      'and the neighbourhood records it holds, and reads the others from their holders.',
    '',
    '## Entry types',
    '',
    table(['DNA', 'Entry type', 'Lives', 'Why'], rows(ENTRY_SCOPES)),
    '',
    '## Link types',
    '',
    table(['DNA', 'Link type', 'Lives', 'Why'], rows(LINK_SCOPES)),
    '',
  ].join('\n')
}
