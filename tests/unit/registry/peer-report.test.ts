/**
 * What services built after the registry report in this peer's heartbeat: each adds its own part;
 * a part nobody added reads as nothing to report, and a part added twice is refused.
 */
import { describe, expect, it } from 'vitest'
import { PeerReport } from '../../../host/registry/index.ts'

describe('PeerReport', () => {
  it('reads nothing to report before a part is added', () => {
    const report = new PeerReport()
    expect([report.queueDepth(), report.splits(), report.shardsHeld()]).toEqual([0, [], 0])
  })

  it('reads each part from the service that added it, when asked', () => {
    const report = new PeerReport()
    let queue = 1
    report.add({ queueDepth: () => queue })
    report.add({
      shardsHeld: () => 4,
      splits: () => [{ model: 'big', peers: [{ agent: 'a', layers: 3, bytes: 9 }] }],
    })
    queue = 2
    expect(report.queueDepth()).toBe(2)
    expect(report.shardsHeld()).toBe(4)
    expect(report.splits()).toEqual([{ model: 'big', peers: [{ agent: 'a', layers: 3, bytes: 9 }] }])
  })

  it('refuses a part added twice: one owner each', () => {
    const report = new PeerReport()
    report.add({ queueDepth: () => 1 })
    expect(() => report.add({ queueDepth: () => 2 })).toThrow("this peer's queueDepth is reported twice")
    expect(report.queueDepth()).toBe(1)
  })
})
