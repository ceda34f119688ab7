/**
 * DaemonMetrics: its gauges read their sources when scraped, its counters and histograms take what
 * the daemon records, and the Prometheus text carries both, in a registry of each daemon's own.
 */
import { describe, expect, it } from 'vitest'
import type { ReplicationStats } from '../../../host/interface/network-port.ts'
import { DaemonMetrics, type MetricsSources } from '../../../host/metrics/daemon-metrics.ts'
import type { TaskState } from '../../../zomes-bindings/index.ts'
import { CAPABILITY } from '../api/fixtures.ts'

const STATS: ReplicationStats = {
  published: 4,
  gossiped: 10,
  fetched: 3,
  refetched: 0,
  stored: 12,
  duplicates: 1,
  ignored: 0,
  rejected: 2,
  pending: 5,
  syncs: 7,
  pushes: { sent: 6, acked: 5, failed: 1, opsReceived: 9, opsKept: 8 },
}

function sources(parts: Partial<MetricsSources> = {}): MetricsSources {
  return {
    peers: async () => ({
      peers: [
        { status: 'online', capability: CAPABILITY },
        { status: 'online', capability: CAPABILITY, revoked: true },
        { status: 'stale', capability: null },
      ],
      warrants: [{}],
    }),
    tasks: async () => [{ status: 'submitted' }, { status: 'done' }, { status: 'done' }],
    replication: () => STATS,
    ...parts,
  }
}

/** The value of one sample line of the exposition (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** A task that ended: only what taskEnded reads (its timestamp, status, claims and results' metrics). */
function ended(status: TaskState['status'], submittedAtMs: number, tokens: [number | null, number | null][]) {
  return {
    task: { entry: {}, action_hash: 't', timestamp: submittedAtMs * 1000 },
    claims: [{}, {}],
    results: tokens.map(([tokens_out, tokens_per_second]) => ({
      entry: { metrics: { tokens_out, tokens_per_second } },
    })),
    status,
  } as unknown as TaskState
}

describe('DaemonMetrics', () => {
  it('shows the network traffic by protocol and direction, and the connections', async () => {
    const flows = new Map([
      ['/meshsub/1.1.0', { msgsIn: 5, msgsOut: 3, bytesIn: 500, bytesOut: 300 }],
      ['/ripple/x/load/1.0.0', { msgsIn: 1, msgsOut: 1, bytesIn: 40, bytesOut: 900 }],
    ])
    const text = await new DaemonMetrics(sources({ traffic: () => ({ flows, connections: 7 }) })).text()
    expect(sample(text, 'ripple_net_messages_total{protocol="/meshsub/1.1.0",dir="in"}')).toBe(5)
    expect(sample(text, 'ripple_net_messages_total{protocol="/meshsub/1.1.0",dir="out"}')).toBe(3)
    expect(sample(text, 'ripple_net_bytes_total{protocol="/ripple/x/load/1.0.0",dir="out"}')).toBe(900)
    expect(sample(text, 'ripple_net_connections')).toBe(7)
  })

  it('shows the gossip sent by topic class and part, counts and bytes, as the meter has them', async () => {
    const gossip = new Map([
      ['model:subscription', { count: 12, bytes: 720 }],
      ['any:idontwant', { count: 30, bytes: 690 }],
    ])
    const metrics = new DaemonMetrics(
      sources({ traffic: () => ({ flows: new Map(), connections: 0, gossip }) }),
    )
    const text = await metrics.text()
    expect(sample(text, 'ripple_net_gossip_sent_total{topic="model",part="subscription"}')).toBe(12)
    expect(sample(text, 'ripple_net_gossip_sent_total{topic="any",part="idontwant"}')).toBe(30)
    expect(sample(text, 'ripple_net_gossip_sent_bytes_total{topic="model",part="subscription"}')).toBe(720)
    // The meter's counts since start, not added to at each scrape.
    gossip.set('model:subscription', { count: 14, bytes: 840 })
    const again = await metrics.text()
    expect(sample(again, 'ripple_net_gossip_sent_total{topic="model",part="subscription"}')).toBe(14)
    expect(sample(again, 'ripple_net_gossip_sent_total{topic="any",part="idontwant"}')).toBe(30)
  })

  it('shows the zome reads asked of holders by DNA, zome function and kind', async () => {
    const reads = [
      { dna: 'agent_registry', fn: 'list_nodes', kind: 'links' as const, count: 12 },
      { dna: 'agent_registry', fn: 'list_nodes', kind: 'record' as const, count: 40 },
    ]
    const traffic = () => ({ flows: new Map(), connections: 0, reads })
    const text = await new DaemonMetrics(sources({ traffic })).text()
    const series = 'ripple_record_reads_total{dna="agent_registry",fn="list_nodes"'
    expect(sample(text, `${series},kind="links"}`)).toBe(12)
    expect(sample(text, `${series},kind="record"}`)).toBe(40)
  })

  it('shows the dials of members by the way tried (the walks are directory lookups)', async () => {
    const dials = { stored: 30, told: 4, walk: 1 }
    const text = await new DaemonMetrics(
      sources({ traffic: () => ({ flows: new Map(), connections: 0, dials }) }),
    ).text()
    expect(sample(text, 'ripple_net_member_dials_total{via="stored"}')).toBe(30)
    expect(sample(text, 'ripple_net_member_dials_total{via="told"}')).toBe(4)
    expect(sample(text, 'ripple_net_member_dials_total{via="walk"}')).toBe(1)
  })

  it('shows the connections opened since start by direction, and none where the node has no count', async () => {
    const opened = { inbound: 12, outbound: 5 }
    const text = await new DaemonMetrics(
      sources({ traffic: () => ({ flows: new Map(), connections: 3, opened }) }),
    ).text()
    expect(sample(text, 'ripple_net_connections_opened_total{direction="inbound"}')).toBe(12)
    expect(sample(text, 'ripple_net_connections_opened_total{direction="outbound"}')).toBe(5)
    const none = await new DaemonMetrics(
      sources({ traffic: () => ({ flows: new Map(), connections: 3 }) }),
    ).text()
    expect(none).not.toContain('ripple_net_connections_opened_total{')
  })

  it('reads peers, warrants and tasks from its sources when scraped', async () => {
    const text = await new DaemonMetrics(sources()).text()
    expect(sample(text, 'ripple_peers{status="online"}')).toBe(2)
    expect(sample(text, 'ripple_peers{status="stale"}')).toBe(1)
    expect(sample(text, 'ripple_peers{status="offline"}')).toBe(0)
    expect(sample(text, 'ripple_warrants')).toBe(1)
    // A revoked member and a peer with no capability in the record are no members.
    expect(sample(text, 'ripple_members')).toBe(1)
    expect(sample(text, 'ripple_tasks{state="done"}')).toBe(2)
    expect(sample(text, 'ripple_tasks{state="submitted"}')).toBe(1)
  })

  it("mirrors the replicator's running counts, each scrape showing them anew", async () => {
    let stats = STATS
    const metrics = new DaemonMetrics(sources({ replication: () => stats }))
    const first = await metrics.text()
    expect(sample(first, 'ripple_ops_received_total')).toBe(13)
    expect(sample(first, 'ripple_ops_stored_total')).toBe(12)
    expect(sample(first, 'ripple_ops_rejected_total')).toBe(2)
    expect(sample(first, 'ripple_ops_published_total')).toBe(4)
    expect(sample(first, 'ripple_replication_syncs_total')).toBe(7)
    expect(sample(first, 'ripple_replication_pending_ops')).toBe(5)
    expect(sample(first, 'ripple_record_pushes_sent_total')).toBe(6)
    expect(sample(first, 'ripple_record_pushes_acked_total')).toBe(5)
    expect(sample(first, 'ripple_record_pushes_failed_total')).toBe(1)
    expect(sample(first, 'ripple_record_pushed_ops_received_total')).toBe(9)
    expect(sample(first, 'ripple_record_pushed_ops_kept_total')).toBe(8)
    stats = { ...STATS, stored: 20 }
    // Not 32: the counter is reset to the replicator's count, not added to.
    expect(sample(await metrics.text(), 'ripple_ops_stored_total')).toBe(20)
  })

  it('shows whether records are sharded as this peer sees it now, 0 where the backend never shards', async () => {
    let sharded = false
    const metrics = new DaemonMetrics(sources({ sharded: () => sharded }))
    expect(sample(await metrics.text(), 'ripple_record_sharded')).toBe(0)
    sharded = true
    expect(sample(await metrics.text(), 'ripple_record_sharded')).toBe(1)
    expect(sample(await new DaemonMetrics(sources()).text(), 'ripple_record_sharded')).toBe(0)
  })

  it('leaves the replication and direct series at zero where there are none', async () => {
    const text = await new DaemonMetrics(sources({ replication: () => null })).text()
    expect(sample(text, 'ripple_ops_stored_total')).toBe(0)
    expect(sample(text, 'ripple_direct_requests_total')).toBe(0)
  })

  it('counts direct requests and chain actions from their sources', async () => {
    const direct = () => ({ requests: 9, failovers: 2, recorded: 6, unrecorded: 1, stayed: 0, moved: 0 })
    const metrics = new DaemonMetrics(sources({ chainActions: async () => ({ resource_mesh: 17 }) }))
    metrics.followDirect(direct)
    const text = await metrics.text()
    expect(sample(text, 'ripple_direct_requests_total')).toBe(9)
    expect(sample(text, 'ripple_direct_failovers_total')).toBe(2)
    expect(sample(text, 'ripple_direct_recorded_total')).toBe(6)
    expect(sample(text, 'ripple_direct_unrecorded_total')).toBe(1)
    expect(sample(text, 'ripple_chain_actions{dna="resource_mesh"}')).toBe(17)
  })

  it('takes latency, claims and tokens from a task that ended', async () => {
    const metrics = new DaemonMetrics(sources())
    metrics.taskEnded(
      ended('done', 1_000, [
        [30, 12.5],
        [null, null],
      ]),
      3_500,
    )
    const text = await metrics.text()
    expect(sample(text, 'ripple_task_duration_seconds_count{status="done"}')).toBe(1)
    expect(sample(text, 'ripple_task_duration_seconds_sum{status="done"}')).toBe(2.5)
    expect(sample(text, 'ripple_task_duration_seconds_bucket{le="2.5",status="done"}')).toBe(1)
    expect(sample(text, 'ripple_task_duration_seconds_bucket{le="1",status="done"}')).toBe(0)
    expect(sample(text, 'ripple_tasks_ended_total{status="done"}')).toBe(1)
    expect(sample(text, 'ripple_claims_total')).toBe(2)
    expect(sample(text, 'ripple_tokens_generated_total')).toBe(30)
    expect(sample(text, 'ripple_tokens_per_second')).toBe(12.5)
  })

  it('counts a task that ended before its timestamp (a clock ahead) as taking no time', async () => {
    const metrics = new DaemonMetrics(sources())
    metrics.taskEnded(ended('failed', 5_000, []), 4_000)
    expect(sample(await metrics.text(), 'ripple_task_duration_seconds_sum{status="failed"}')).toBe(0)
  })

  it('records direct answers, stored ops, model loads and API requests', async () => {
    const metrics = new DaemonMetrics(sources())
    metrics.answerServed(8, 40)
    metrics.answerServed(null, null)
    metrics.opsStored([0.02, -3])
    metrics.modelLoaded('qwen', 1_500)
    metrics.request('/v1/chat/completions', 'POST', 200)
    metrics.request('/v1/chat/completions', 'POST', 200)
    const text = await metrics.text()
    expect(sample(text, 'ripple_tokens_generated_total')).toBe(8)
    expect(sample(text, 'ripple_tokens_per_second')).toBe(40)
    expect(sample(text, 'ripple_replication_lag_seconds_count')).toBe(2)
    // The age behind this clock counts as 0, so both fall in the first bucket.
    expect(sample(text, 'ripple_replication_lag_seconds_bucket{le="0.025"}')).toBe(2)
    expect(sample(text, 'ripple_model_load_seconds_sum{model="qwen"}')).toBe(1.5)
    expect(
      sample(text, 'ripple_api_requests_total{route="/v1/chat/completions",method="POST",status="200"}'),
    ).toBe(2)
  })

  it('keeps a registry of its own, so two daemons in one process do not share counts', async () => {
    const a = new DaemonMetrics(sources())
    const b = new DaemonMetrics(sources())
    a.request('/status', 'GET', 200)
    expect(
      sample(await a.text(), 'ripple_api_requests_total{route="/status",method="GET",status="200"}'),
    ).toBe(1)
    expect(await b.text()).not.toContain('route="/status"')
    expect(await a.text()).toMatch(/^ripple_process_cpu_user_seconds_total /m)
  })
})
