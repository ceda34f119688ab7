/**
 * `ripple peers` and GET /api/peers a page at a time: the order kept (self first), the counts of
 * members (capabilities in the record, not revoked) and of peers known, and the line the CLI prints.
 */
import { describe, expect, it } from 'vitest'
import { peersPage } from '../../../host/api/routes/peers-route.ts'
import { countLine } from '../../../host/cli/commands/peers-command.ts'
import { CAPABILITY } from './fixtures.ts'

const peer = (agent: string, over: { capability?: null; revoked?: boolean } = {}) => ({
  agent,
  capability: CAPABILITY,
  revoked: false,
  ...over,
})
const MESH = [
  peer('self'),
  peer('a'),
  peer('b', { revoked: true }),
  peer('c', { capability: null }),
  peer('d'),
]

describe('peersPage', () => {
  it.each([
    ['the first page holds self', 1, 2, ['self', 'a']],
    ['the second page', 2, 2, ['b', 'c']],
    ['the last page, short', 3, 2, ['d']],
    ['past the end, empty', 4, 2, []],
    ['one page of all', 1, 100, ['self', 'a', 'b', 'c', 'd']],
  ] as const)('%s', (_, page, limit, agents) => {
    const reply = peersPage(MESH, page, limit)
    expect(reply.peers.map((p) => p.agent)).toEqual(agents)
    expect(reply).toMatchObject({ members: 3, total: 5, page, limit })
  })
})

describe('countLine', () => {
  it.each([
    [
      { members: 3, total: 5, page: 1, limit: 2 },
      '3 members, 5 peers known here, page 1 of 3; next: ripple peers --page 2',
    ],
    [{ members: 3, total: 5, page: 3, limit: 2 }, '3 members, 5 peers known here, page 3 of 3'],
    [{ members: 1, total: 1, page: 1, limit: 100 }, '1 members, 1 peers known here, page 1 of 1'],
  ])('%o', (reply, line) => {
    expect(countLine(reply)).toBe(line)
  })
})
