import { describe, expect, it } from 'vitest'
import { recordsSharded } from '../../../../host/conductor/embedded/replication/record-sharding.ts'
import { OWN_STATEMENT, type ProtocolName } from '../../../../host/interface/release.ts'
import { PeerVersions } from '../../../../host/net/mesh-versions.ts'

const speaking = (record: boolean) => ({
  everySpeaks: (protocol: ProtocolName, version: number) => protocol === 'record' && version === 1 && record,
})

describe('whether records live with their neighbourhood only', () => {
  it('only past R members, and only once every member speaks record/1', () => {
    const cases = [
      { members: 8, holders: 8, record: true, sharded: false },
      { members: 3, holders: 8, record: true, sharded: false },
      { members: 9, holders: 8, record: true, sharded: true },
      { members: 12, holders: 4, record: true, sharded: true },
      { members: 12, holders: 4, record: false, sharded: false },
    ]
    for (const { members, holders, record, sharded } of cases)
      expect({
        members,
        holders,
        record,
        sharded: recordsSharded({ members, holders, versions: speaking(record) }),
      }).toEqual({
        members,
        holders,
        record,
        sharded,
      })
  })

  it('keeps full replication while a 0.2.0 peer that states no record is a member, or a 0.1.0 one', () => {
    const agents = Array.from({ length: 5 }, (_, i) => `agent-${i}`)
    const versions = new PeerVersions({ self: agents[0]!, members: () => agents })
    for (const agent of agents.slice(1)) versions.record(agent, OWN_STATEMENT)
    expect(recordsSharded({ members: 5, holders: 2, versions })).toBe(true)
    const { record: _, ...before } = OWN_STATEMENT.protocols
    versions.record(agents[1]!, { release: '0.2.0', protocols: before })
    expect(recordsSharded({ members: 5, holders: 2, versions })).toBe(false)
    versions.record(agents[1]!, OWN_STATEMENT)
    versions.useMembers(() => [...agents, 'never-met'])
    expect(recordsSharded({ members: 6, holders: 2, versions })).toBe(false)
  })
})
