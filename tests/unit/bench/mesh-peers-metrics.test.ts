/**
 * The mesh-peers bench reads each daemon's gossip by part from /metrics as DaemonMetrics writes it:
 * a label renamed or reordered there would leave the bench's column empty without a word.
 */
import { describe, expect, it } from 'vitest'
import { gossipByPart } from '../../../bench/mesh-peers.ts'
import { DaemonMetrics } from '../../../host/metrics/daemon-metrics.ts'

describe('gossipByPart', () => {
  it('reads ripple_net_gossip_sent_total by topic class and part, not its bytes', async () => {
    const gossip = new Map([
      ['model:subscription', { count: 12, bytes: 720 }],
      ['any:idontwant', { count: 30, bytes: 690 }],
    ])
    const text = await new DaemonMetrics({
      peers: async () => ({ peers: [], warrants: [] }),
      tasks: async () => [],
      replication: () => null,
      traffic: () => ({ flows: new Map(), connections: 0, gossip }),
    }).text()
    expect(gossipByPart(text)).toEqual(
      new Map([
        ['model:subscription', 12],
        ['any:idontwant', 30],
      ]),
    )
  })
})
