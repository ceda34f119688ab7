/**
 * The plan for a model that fits on no single peer: a head (a peer with the file, which runs
 * llama-server) and the fewest other peers that, with the head, hold the model with room to spare,
 * each serving its share of the layers over llama.cpp's RPC. Peers are taken by free memory, then
 * round-trip time; one too far away to be worth it, or running another engine build (the RPC protocol
 * carries raw operation codes), is left out with the reason. Layers go in proportion to free memory
 * (`--tensor-split`), so a peer with twice the room takes twice the layers. Pure: the mesh's facts in,
 * the plan out.
 */

export interface SplitCandidate {
  agent: string
  /** This peer has the model's file (it could be the head). */
  hasFile: boolean
  /** Memory this peer may give to models now. */
  freeBytes: number
  /** Measured round trip from the planning peer; null when not measured (unknown peers go last). */
  rttMs: number | null
  /** The engine build this peer runs (the bundled source's commit and the RPC protocol). */
  engineBuild: string
}

export interface SplitOptions {
  /** The model's estimated memory (weights, KV cache, buffers). */
  needBytes: number
  /** Room to spare: the peers together hold `needBytes × headroom`. Default 1.2. */
  headroom?: number
  /** Peers farther than this are not worth it (each token crosses to every worker and back). Default 80 ms. */
  maxRttMs?: number
  /** The head, when the planning peer must be it (it has the file and runs the load). */
  head?: string
}

export interface SplitShare {
  agent: string
  /** Share of the layers, 0..1. */
  share: number
  /** Memory it is asked to hold, estimated. */
  bytes: number
}

export type SplitPlan =
  | { kind: 'single'; agent: string }
  | {
      kind: 'split'
      head: string
      /** Head first: the devices of `--rpc`, in `--tensor-split` order. */
      shares: SplitShare[]
      /** Peers left out and why. */
      skipped: { agent: string; reason: string }[]
    }
  | { kind: 'none'; reason: string; skipped: { agent: string; reason: string }[] }

const DEFAULT_HEADROOM = 1.2
const DEFAULT_MAX_RTT_MS = 80

export function planSplit(candidates: readonly SplitCandidate[], options: SplitOptions): SplitPlan {
  const headroom = options.headroom ?? DEFAULT_HEADROOM
  const maxRtt = options.maxRttMs ?? DEFAULT_MAX_RTT_MS
  const need = options.needBytes * headroom
  const heads = candidates
    .filter((c) => c.hasFile && (options.head === undefined || c.agent === options.head))
    .sort(byRoom)
  const whole = heads.find((c) => c.freeBytes >= need)
  if (whole) return { kind: 'single', agent: whole.agent }
  const head = heads[0]
  if (head === undefined)
    return {
      kind: 'none',
      reason: options.head ? `${options.head} has no copy of the model` : 'no peer has the model file',
      skipped: [],
    }
  const skipped: { agent: string; reason: string }[] = []
  const usable: SplitCandidate[] = []
  for (const c of candidates) {
    if (c.agent === head.agent) continue
    if (c.engineBuild !== head.engineBuild)
      skipped.push({ agent: c.agent, reason: buildMismatch(c.engineBuild, head.engineBuild) })
    else if (c.rttMs !== null && c.rttMs > maxRtt)
      skipped.push({ agent: c.agent, reason: `too far: ${c.rttMs} ms round trip (at most ${maxRtt} ms)` })
    else if (c.freeBytes <= 0) skipped.push({ agent: c.agent, reason: 'no memory free for models' })
    else usable.push(c)
  }
  usable.sort(byRoom)
  const chosen = [head]
  let room = head.freeBytes
  for (const c of usable) {
    if (room >= need) break
    chosen.push(c)
    room += c.freeBytes
  }
  if (room < need) {
    const gib = (b: number) => `${(b / 1024 ** 3).toFixed(2)} GiB`
    return {
      kind: 'none',
      reason: `the mesh has ${gib(room)} free on ${chosen.length} usable peers; the model needs about ${gib(need)}`,
      skipped,
    }
  }
  const shares = chosen.map((c) => ({
    agent: c.agent,
    share: c.freeBytes / room,
    bytes: Math.round((options.needBytes * c.freeBytes) / room),
  }))
  return { kind: 'split', head: head.agent, shares, skipped }
}

/** Whose engine to update, when two peers' builds differ: the older one, by the RPC protocol. */
export function buildMismatch(theirs: string, ours: string): string {
  return (
    `runs engine build ${theirs}, the head runs ${ours}: the RPC protocol carries raw operation codes, ` +
    'so both must run the same build (update the peer whose Ripple is older, then `ripple engine build`)'
  )
}

/** More free memory first, then a shorter round trip (unmeasured last), then by agent for a stable order. */
function byRoom(a: SplitCandidate, b: SplitCandidate): number {
  return (
    b.freeBytes - a.freeBytes ||
    (a.rttMs ?? Number.POSITIVE_INFINITY) - (b.rttMs ?? Number.POSITIVE_INFINITY) ||
    a.agent.localeCompare(b.agent)
  )
}

/** `--tensor-split` for a plan: the shares as integers (per mille), in device order. */
export function tensorSplit(shares: readonly SplitShare[]): string {
  return shares.map((s) => Math.max(1, Math.round(s.share * 1000))).join(',')
}
