/**
 * Joining over the internet, measured in the NAT lab (tests/net/nat-lab.ts; root, `ip` and `nft`):
 * the time from starting `ripple up` behind one NAT to its first op (its capability) held by a peer
 * behind another NAT, through a `ripple relay`; then propagation of capability updates (API call on the
 * writer -> stored and valid on the other, GET /api/records/:hash/wait) over a relayed connection
 * (`masquerade random`: WebRTC cannot get through), over a direct WebRTC one (port-preserving NATs), and
 * between two peers on one LAN (loopback), in one run. The bench reaches each lab peer's API (on its
 * namespace's loopback) through a Unix socket forwarded inside the namespace.
 * Run: `sudo npm run bench relay-propagation`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../host/api/client/index.ts'
import type { ApiPeer } from '../host/api/contract/index.ts'
import { isolatedNetwork, type RunningRipple, startRipple } from '../tests/e2e/ripple-process.ts'
import { LabMesh, type LabPeer } from '../tests/net/lab-mesh.ts'
import { natLabUnavailable } from '../tests/net/nat-lab.ts'
import { labApi } from './lab-api.ts'
import { percentile, round, sleep, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const WRITES = 30
const GAP_MS = 100

/** A client of a lab peer's API, through a forwarder in its namespace. */
async function labClient(mesh: LabMesh, peer: LabPeer): Promise<ApiClient> {
  const api = await labApi(mesh, peer)
  return new ApiClient({ baseUrl: api.url, token: api.token, fetch: api.fetch })
}

/** Update latencies from `a` to `b` and back, writers in turn. */
async function propagation(a: ApiClient, b: ApiClient): Promise<{ latencies: number[]; lost: number }> {
  const latencies: number[] = []
  let lost = 0
  for (let w = 0; w < WRITES; w++) {
    const [writer, reader] = w % 2 === 0 ? [a, b] : [b, a]
    const { capability } = await writer.status()
    const started = performance.now()
    const ref = await writer.callZome('agent_registry', 'advertise_capability', {
      ...capability,
      tags: [`bench-${w}`],
    })
    const res = await reader.waitForRecord(ref.action_hash, { timeoutMs: 10_000 })
    if (res.stored) latencies.push(performance.now() - started)
    else lost++
    await sleep(GAP_MS)
  }
  return { latencies, lost }
}

const sees = (peers: ApiPeer[], agent: string, want: (p: ApiPeer) => boolean) =>
  peers.some((p) => p.agent === agent && want(p))

async function labRun(nat: 'random' | 'port-preserving') {
  const mesh = await LabMesh.start({ homes: 2, nat })
  try {
    const home1 = await mesh.startPeer(1, false)
    const api1 = await labClient(mesh, home1)
    const started = performance.now()
    const home2 = await mesh.startPeer(2, false)
    await waitFor(
      'the first op through the relay',
      async () => sees((await api1.peers()).peers, home2.agent, (p) => p.capability !== null),
      120_000,
    )
    const firstOpMs = performance.now() - started
    const path = nat === 'random' ? 'relayed' : 'direct'
    await waitFor(
      `a ${path} link`,
      async () => sees((await api1.peers()).peers, home2.agent, (p) => p.link?.path === path),
      90_000,
    )
    const { latencies, lost } = await propagation(api1, await labClient(mesh, home2))
    return { path, firstOpMs, latencies, lost }
  } finally {
    await mesh.stop()
  }
}

async function lanRun() {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-lan-'))
  const network = await isolatedNetwork(root, 'bench-lan')
  const daemons: RunningRipple[] = []
  try {
    const apis: ApiClient[] = []
    for (const n of [1, 2]) {
      const dataDir = join(root, `peer-${n}`)
      const proc = await startRipple(
        ['--network', network, '--data-dir', dataDir, '--api-port', '0', '--log-level', 'warn'],
        120_000,
      )
      daemons.push(proc)
      const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
      apis.push(new ApiClient({ baseUrl: /^ripple: api (\S+)$/m.exec(proc.stdout())?.[1] ?? '', token }))
    }
    await waitFor(
      'the LAN peers to see each other',
      async () =>
        (await apis[0]!.peers()).peers.filter((p) => p.status === 'online' && p.capability !== null)
          .length === 2,
      60_000,
    )
    return { path: 'LAN', firstOpMs: Number.NaN, ...(await propagation(apis[0]!, apis[1]!)) }
  } finally {
    for (const d of daemons) d.child.kill('SIGKILL')
    await rm(root, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const unavailable = await natLabUnavailable()
  const note = `${WRITES} capability updates, writers in turn: API call on the writer -> stored and valid on the other; first op: ripple up started behind one NAT -> its capability held behind the other`
  if (unavailable !== null)
    return { name: 'relay-propagation', rows: [{ skipped: unavailable }], figures: {}, note }
  const runs = [await labRun('random'), await labRun('port-preserving'), await lanRun()]
  const rows = runs.map((r) => ({
    path: r.path,
    first_op_through_relay_ms: Number.isNaN(r.firstOpMs) ? '-' : round(r.firstOpMs, 0),
    deliveries: r.latencies.length,
    lost: r.lost,
    p50_ms: round(percentile(r.latencies, 50)),
    p95_ms: round(percentile(r.latencies, 95)),
  }))
  const figures: Record<string, number> = {}
  for (const r of runs) {
    figures[`${r.path.toLowerCase()}_p50_ms`] = round(percentile(r.latencies, 50))
    figures[`${r.path.toLowerCase()}_p95_ms`] = round(percentile(r.latencies, 95))
  }
  figures.first_op_through_relay_ms = round(runs[0]!.firstOpMs, 0)
  return { name: 'relay-propagation', rows, figures, note }
}
