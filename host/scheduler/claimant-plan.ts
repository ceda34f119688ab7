/**
 * What a host that could run a task does about it next, from the task's records, what this host can
 * do and the time: claim it, hold back, or leave it.
 *
 * A burst of tasks must not cost every node a claim on every task: the first fan-out + SPARE
 * capable nodes by rendezvous hash of (task, node) are "eager"; the others hold back and claim only a
 * task still unassigned (or short of claimants) after LATE_CLAIM_WINDOWS claim windows that lacks
 * claims from nodes not tried yet, so a task whose eager nodes are gone, busy elsewhere or failed it
 * still finds a claimant; a host behind on its own visits waits longer. The requester closes its claim
 * window as soon as the claims in hand decide the outcome (`claimsDecide`). Of a fan-out 1 task's
 * eager nodes the first claims at once, and the spare too if its claim could rank ahead; otherwise the
 * spare claims only if the first has not claimed half a window on (it is gone or slow): a task the
 * first node takes costs one claim, and the requester waits for no second one. Unless the attempt
 * must load the model first (or failed): then the spare claims at once, so a load that fails there is
 * retried on another node holding the file, not on the same one again.
 */
import {
  type Claim,
  type ClaimSnapshot,
  currentAssignments,
  type EntryRecord,
  type TaskState,
} from '../../zomes-bindings/index.ts'
import { rendezvousOrder, rendezvousRank } from '../interface/rendezvous.ts'
import { rankClaims } from './claim-ranking.ts'
import { isTerminal } from './task-watch.ts'

/** Nodes beyond a task's fan-out that are eager to claim it (a spare). */
export const SPARE_CLAIMANTS = 1
/** Claim windows a fan-out 1 task's spare waits for the first node to claim it and be assigned. */
export const SPARE_WAIT_WINDOWS = 0.5
/** Claim windows the others wait before claiming a task that lacks claims (claims in flight arrive first). */
export const LATE_CLAIM_WINDOWS = 10
/**
 * Claim windows from submission after which every capable node has had its chance to claim: the late
 * claimants' wait, and two windows more for their claims to arrive.
 */
export const FILL_WINDOWS = LATE_CLAIM_WINDOWS + 2

export interface ClaimantInput {
  /** This host's agent. */
  me: string
  /** Microseconds since the epoch. */
  now: number
  /** Why this host cannot run the task (no worker, unmet requirement, no model that fits), or null. */
  cannotRun: string | null
  /** The known nodes whose advertised capability meets the task's requirements. */
  capable: readonly CapableNode[]
  /** What this host would claim with now. */
  snapshot: ClaimSnapshot
  claimWindowMs: number
  /** This host is behind on its visits (a backlog of tasks waiting): it claims none late meanwhile. */
  behind: boolean
}

export type ClaimantStep =
  /** Nothing to do: it has finished, or this host claimed it already. */
  | { kind: 'none' }
  | { kind: 'claim' }
  /** This host cannot run it. */
  | { kind: 'decline'; reason: string }
  /** Not now; look again at `until` (microseconds) if it is still waiting then, or never (null). */
  | { kind: 'hold'; until: number | null }

export function planClaimant(state: TaskState, input: ClaimantInput): ClaimantStep {
  if (isTerminal(state.status) || state.claims.some((c) => c.author === input.me)) return { kind: 'none' }
  if (input.cannotRun !== null) return { kind: 'decline', reason: input.cannotRun }
  const { fan_out } = state.task.entry
  const eager = fan_out + SPARE_CLAIMANTS
  const hash = state.task.action_hash
  const capableAgents = input.capable.map((n) => n.author)
  const rank = rendezvousRank(hash, input.me, capableAgents)
  const [first] = rendezvousOrder(hash, capableAgents)
  const spareClaims = () => spareRanksFirst(state, input, first) || attemptMayFail(state)
  if (rank < fan_out || (rank < eager && (fan_out !== 1 || spareClaims()))) return { kind: 'claim' }
  const lateWait = input.claimWindowMs * LATE_CLAIM_WINDOWS * 1000
  if (rank < eager) {
    const spareAt = state.task.timestamp + input.claimWindowMs * SPARE_WAIT_WINDOWS * 1000
    if (input.now < spareAt) return { kind: 'hold', until: spareAt }
    // Still without the first node's claim: it may be gone. (Had it claimed, it ranks ahead of
    // this host, as spareRanksFirst said, and the requester assigns it when it gets to it.)
    const firstClaimed = state.claims.some((c) => c.author === first)
    if (!firstClaimed && (state.status === 'submitted' || state.status === 'claimed')) {
      // Behind on its visits, this host sees the first node's claim late too: it looks again later.
      return input.behind ? { kind: 'hold', until: input.now + lateWait } : { kind: 'claim' }
    }
  }
  const lateAt = state.task.timestamp + lateWait
  // Late: only for a task still waiting (or with fewer claimants than slots) that lacks claims from
  // nodes not yet tried; a busy requester is no reason to pile on.
  const tried = new Set(state.assignments.map((a) => a.entry.assignee))
  const claimants = new Set(state.claims.map((c) => c.author))
  const untried = [...claimants].filter((a) => !tried.has(a)).length
  const waiting = state.status === 'submitted' || state.status === 'claimed' || claimants.size < fan_out
  if (input.now < lateAt) return { kind: 'hold', until: lateAt }
  if (!waiting || untried >= eager) return { kind: 'hold', until: null }
  // A host behind on its visits sees tasks late, and so does the mesh it is part of (a burst): the
  // eager claims are more likely on their way than missing, and a late claim would only add work.
  // It looks again a late wait from now.
  if (input.behind) return { kind: 'hold', until: input.now + lateWait }
  return { kind: 'claim' }
}

/**
 * Whether a current attempt of the task must load its model first (the assignee's claim shows it not
 * loaded: loads are what fail, a file that does not fit or a backend that will not take it) or has
 * failed: the requester's retry then needs a claimant not tried yet.
 */
function attemptMayFail(state: TaskState): boolean {
  const model = state.task.entry.requirements.model
  return currentAssignments(state.assignments).some((a) => {
    const failed = state.results.some(
      (r) => r.entry.assignment === a.action_hash && r.entry.status === 'error',
    )
    const claim = state.claims.find((c) => c.action_hash === a.entry.claim)
    const cold = model !== null && claim !== undefined && !claim.entry.snapshot.loaded_models.includes(model)
    return failed || cold
  })
}

/** A node that could run the task, and the best it could claim with (advertised capability, empty queue). */
export interface CapableNode {
  author: string
  snapshot: ClaimSnapshot
}

/** A claim `node` could make on the task (not written: for ranking only). */
function claimBy(state: TaskState, node: CapableNode): EntryRecord<Claim> {
  return {
    action_hash: '',
    author: node.author,
    timestamp: 0,
    entry: { task: state.task.action_hash, snapshot: node.snapshot },
  }
}

/**
 * Whether this host, a fan-out 1 task's spare, would rank ahead of the claims in hand and of the best
 * the `first` node by rendezvous could claim: then the requester waits for its claim, and it claims at once.
 */
function spareRanksFirst(state: TaskState, input: ClaimantInput, first: string | undefined): boolean {
  const mine = claimBy(state, { author: input.me, snapshot: input.snapshot })
  const others = [
    ...state.claims,
    ...input.capable
      .filter((n) => n.author === first && !state.claims.some((c) => c.author === n.author))
      .map((n) => claimBy(state, n)),
  ]
  return rankClaims(state.task, [mine, ...others])[0] === mine
}

/**
 * Whether the claims in hand decide who runs the task first, as far as `capable` (the known capable
 * nodes) goes, so the claim window can close early: every node that claims at once has claimed, or
 * (fan-out 1) the best claim not `passedOver` ranks ahead of anything an eager node still missing
 * could claim. With fewer known capable nodes than claim at once, those known are all there is to
 * wait for: a mesh of one machine does not wait out the window on every task. (A node this host does
 * not know yet may still claim before the assignment, and its claim is ranked with the others.)
 */
export function claimsDecide(
  state: TaskState,
  capable: readonly CapableNode[],
  passedOver: ReadonlySet<string> = new Set(),
): boolean {
  const { fan_out } = state.task.entry
  const expected = fan_out + SPARE_CLAIMANTS
  const eager = rendezvousOrder(
    state.task.action_hash,
    capable.map((n) => n.author),
  ).slice(0, expected)
  if (eager.length === 0) return false
  const claimants = new Set(state.claims.map((c) => c.author))
  const missing = capable.filter((n) => eager.includes(n.author) && !claimants.has(n.author))
  if (missing.length === 0) return true
  const inHand = state.claims.filter((c) => !passedOver.has(c.author))
  if (fan_out !== 1 || inHand.length === 0) return false
  const couldClaim = missing.map((n) => claimBy(state, n))
  const best = rankClaims(state.task, [...inHand, ...couldClaim])[0]
  return best !== undefined && inHand.includes(best)
}
