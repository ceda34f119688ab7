/**
 * A runner's slots and the turns at them (issue 47, point 3). A request takes a free slot at once
 * when nobody waits for the model; otherwise it waits in the model's fair line (fair-line.ts: the
 * owner's own first, then members by weight), or, when not asked to queue, is refused as busy so its
 * requester tries the next peer. Only the owner's own request passes those waiting. A slot given back
 * goes to the next in line at once; a short poll catches slots the engine frees by itself (scheduled
 * tasks share it). Slots are counted here as taken (the engine's own count lags until a request
 * reaches it), and said to the policies: who holds them, who waits.
 *
 * Held-back slots: the engine runs `heldBack` slots beyond a member's share (`--parallel`), so a swarm
 * holding its whole share leaves room for the owner and for a member holding none, who start at once
 * rather than behind a whole generation of the swarm's. The rule (mayHold): the owner takes any free
 * slot; a member its first one; a member's slots beyond its first, all members' together, stay below
 * its share (share - 1 of them), so one member alone holds at most its share.
 *
 * Slots held for nothing (issue 55, point 7): a slot a member took for an offer and gave back unused
 * (its prompt never came) is charged to it as if it had run there that long, less a round trip's
 * second (UNUSED_FREE_MS): it takes no slot until
 * as long again has passed (its debts add up), while the others take their turns; a request of it
 * waiting in line waits that out. A member holding slots with offers alone so holds about as much
 * time as it is kept out.
 *
 * Priority (issue 58, point 2): the line serves the higher band first (band-line.ts), and a request
 * that finds every slot taken by a lower band's waits rather than being refused as busy: it asks the
 * lowest band's parkable request below its own to park, or, where one of them ends sooner than a park
 * would free its slot, waits for the first slot to free (preemption.ts). The parked one goes back in
 * line ahead of its member's others (`first`).
 */
import type { Band } from '../priority.ts'
import { BandLine } from './band-line.ts'
import { type Holder, preemptionFor } from './preemption.ts'

export interface SlotTurnsInit {
  /** This peer's agent: its requests are the owner's. */
  self: string
  /**
   * A loaded model's slots (the engine's, held-back ones included), how many it runs and how many of
   * them are held back beyond a member's share (default none); null when not loaded (a request loads it).
   */
  slotsOf: (model: string) => { slots: number; busy: number; heldBack?: number } | null
  /** A member's share of turns (default 1). */
  weightOf?: (member: string) => number
  /** How often a line looks for a slot the engine freed by itself (default 20 ms). */
  pollMs?: number
  /** false: one first-come line, no owner first, no share (what bench/fair-share.ts compares with). */
  fair?: boolean
  /** The clock debts are kept by (default Date.now). */
  now?: () => number
}

export interface TakeOptions {
  /** Wait in line for a slot (every candidate was busy); else refuse at once when none is free. */
  queue: boolean
  signal: AbortSignal
  /** How long it may wait in line. */
  waitMs: number
  /** Its band (default interactive: the owner's, and a requester that states none is heard as agent by the runner). */
  band?: Band
  /** Its hold, which a higher band's request may ask to park while it runs. */
  holder?: Holder
  /** Ahead of its member's others in its band's line (a parked request going back to a slot). */
  first?: boolean
}

/** The model's slots as the policies see them when a request of `requester` comes. */
export interface SlotContext {
  [key: string]: boolean | number
  /** The request is the owner's own. */
  owner: boolean
  /** The model's slots, held-back ones included (0 when it is not loaded yet). */
  slots: number
  /** Of them, those beyond a member's share: for the owner and members holding none. */
  held_back: number
  /** Slots taken, and those of them by other members. */
  running: number
  others_running: number
  owner_waiting: number
  others_waiting: number
}

interface Waiter {
  go: () => void
}

/**
 * What a slot held unused costs nothing for: a requester's own round trip between `ready` and its
 * prompt, or its quick word that it will send none. A shorter hold frees the slot for the next in line
 * anyway, so holding by quick offers gains nothing while anyone waits.
 */
export const UNUSED_FREE_MS = 1_000

/** Members whose debts keep them out past the oldest forgotten: bounds memory whoever offers. */
const MAX_DEBTORS = 4096

/** Slots held by the owner and by others, and by each member. */
interface Held {
  owner: number
  others: number
  by: Map<string, number>
}

export class SlotTurns {
  readonly #init: SlotTurnsInit
  readonly #lines = new Map<string, { line: BandLine<Waiter>; timer: NodeJS.Timeout }>()
  readonly #held = new Map<string, Held>()
  /** Per model, the holds that may be parked, in the order they took their slots. */
  readonly #holders = new Map<string, Set<Holder>>()
  /** Each member's debt for slots it held unused: when it may take a slot again (its clock). */
  readonly #owedUntil = new Map<string, number>()

  constructor(init: SlotTurnsInit) {
    this.#init = init
  }

  /**
   * Takes a slot of `model` for `requester`: true once taken (give it back with `release`), false
   * when refused as busy; rejects when `signal` aborts while it waits.
   */
  take(model: string, requester: string, options: TakeOptions): Promise<boolean> {
    const owner = requester === this.#init.self
    const fair = this.#init.fair ?? true
    const band = options.band ?? 'interactive'
    const line = this.#lines.get(model)?.line
    // Nobody ahead who could take the slot: the owner passes members; a member passes those held
    // back; a band passes those below it.
    const ahead = !fair
      ? (line?.size ?? 0) > 0
      : owner
        ? (line?.ownerWaiting(band) ?? 0) > 0
        : (line?.waiting((m) => this.#mayHold(model, m), band) ?? false)
    if (!ahead && this.#free(model) && this.#mayHold(model, requester)) {
      this.#hold(model, requester, 1, options.holder)
      return Promise.resolve(true)
    }
    // Every slot taken: a lower band's request gives its slot up, or ends first; this one waits for it.
    const preempt =
      fair && !this.#free(model) ? preemptionFor(this.#holders.get(model) ?? [], band) : undefined
    if (!options.queue && preempt === undefined) return Promise.resolve(false)
    options.signal.throwIfAborted()
    return new Promise<boolean>((resolve, reject) => {
      const waiting = this.#line(model)
      const done = () => {
        clearTimeout(deadline)
        options.signal.removeEventListener('abort', aborted)
      }
      const waiter: Waiter = {
        go: () => {
          done()
          this.#hold(model, requester, 1, options.holder)
          resolve(true)
        },
      }
      const deadline = setTimeout(() => {
        if (!waiting.remove(waiter)) return
        done()
        resolve(false)
      }, options.waitMs)
      const aborted = () => {
        if (!waiting.remove(waiter)) return
        done()
        reject(options.signal.reason)
      }
      options.signal.addEventListener('abort', aborted, { once: true })
      waiting.push(waiter, fair ? requester : '', fair && owner, fair ? band : 'interactive', options.first)
      if (typeof preempt === 'object') {
        const victim = preempt.park
        victim.parking = true
        // Its slot comes back through release once it is parked; a park that fails leaves it running.
        victim.park?.().catch(() => {
          victim.parking = false
        })
      }
    })
  }

  /**
   * Gives back a slot `requester` took; the next in line takes it. `unusedMs`: how long it held it
   * for nothing (an offer whose prompt never came), charged to it (the owner is never charged).
   */
  release(model: string, requester: string, unusedMs = 0, holder?: Holder): void {
    const owed = unusedMs - UNUSED_FREE_MS
    if (owed > 0 && requester !== this.#init.self && this.#init.fair !== false) {
      const now = this.#now()
      const until = Math.max(this.#owedUntil.get(requester) ?? now, now) + owed
      this.#owedUntil.delete(requester)
      this.#owedUntil.set(requester, until)
      if (this.#owedUntil.size > MAX_DEBTORS) this.#owedUntil.delete(this.#owedUntil.keys().next().value!)
    }
    this.#hold(model, requester, -1, holder)
    this.#grant(model)
  }

  /** How long `member` is still kept out for slots it held unused (ms; 0 when it owes nothing). */
  owedMs(member: string): number {
    const until = this.#owedUntil.get(member)
    if (until === undefined) return 0
    const left = until - this.#now()
    if (left > 0) return left
    this.#owedUntil.delete(member)
    return 0
  }

  #now(): number {
    return (this.#init.now ?? Date.now)()
  }

  /** The model's slots, who holds them and who waits, for a request of `requester`. */
  context(model: string, requester: string): SlotContext {
    const held = this.#held.get(model) ?? { owner: 0, others: 0, by: new Map() }
    const line = this.#lines.get(model)?.line
    const ownerWaiting = line?.ownerWaiting() ?? 0
    const slots = this.#init.slotsOf(model)
    return {
      owner: requester === this.#init.self,
      slots: slots?.slots ?? 0,
      held_back: slots?.heldBack ?? 0,
      running: held.owner + held.others,
      others_running: held.others,
      owner_waiting: ownerWaiting,
      others_waiting: (line?.size ?? 0) - ownerWaiting,
    }
  }

  #free(model: string): boolean {
    const slots = this.#init.slotsOf(model)
    const held = this.#held.get(model)
    return slots === null || Math.max(slots.busy, (held?.owner ?? 0) + (held?.others ?? 0)) < slots.slots
  }

  /**
   * Whether `member` may take one more (free) slot: the owner always; a member in debt none; a member its first; members'
   * slots beyond their first, all together, stay below a member's share (the engine's slots less the
   * held-back ones), so the held-back ones stay free for the owner and members holding none.
   */
  #mayHold(model: string, member: string): boolean {
    if (this.#init.fair === false || member === this.#init.self) return true
    if (this.owedMs(member) > 0) return false
    const held = this.#held.get(model)
    if ((held?.by.get(member) ?? 0) === 0) return true
    const slots = this.#init.slotsOf(model)
    // Not loaded: the load gives the count; a request holding a slot waits for it anyway.
    if (slots === null) return true
    let extra = 0
    for (const [holder, n] of held?.by ?? []) if (holder !== this.#init.self) extra += n - 1
    return extra < slots.slots - (slots.heldBack ?? 0) - 1
  }

  #hold(model: string, member: string, by: 1 | -1, holder?: Holder): void {
    if (holder) this.#track(model, holder, by)
    const held = this.#held.get(model) ?? { owner: 0, others: 0, by: new Map<string, number>() }
    const side = member === this.#init.self ? 'owner' : 'others'
    held[side] = Math.max(0, held[side] + by)
    const mine = Math.max(0, (held.by.get(member) ?? 0) + by)
    if (mine === 0) held.by.delete(member)
    else held.by.set(member, mine)
    if (held.owner + held.others === 0) this.#held.delete(model)
    else this.#held.set(model, held)
  }

  /** A hold that may be parked, while it holds its slot. */
  #track(model: string, holder: Holder, by: 1 | -1): void {
    const holders = this.#holders.get(model) ?? new Set<Holder>()
    if (by === 1) {
      holder.parking = false
      holders.add(holder)
    } else holders.delete(holder)
    if (holders.size === 0) this.#holders.delete(model)
    else this.#holders.set(model, holders)
  }

  #line(model: string): BandLine<Waiter> {
    let entry = this.#lines.get(model)
    if (entry === undefined) {
      const timer = setInterval(() => this.#grant(model), this.#init.pollMs ?? 20)
      timer.unref()
      entry = { line: new BandLine(this.#init.weightOf), timer }
      this.#lines.set(model, entry)
    }
    return entry.line
  }

  /** Free slots go to the next in line (each taken as it is given); an empty line is dropped. */
  #grant(model: string): void {
    const entry = this.#lines.get(model)
    if (entry === undefined) return
    while (entry.line.size > 0 && this.#free(model)) {
      const next = entry.line.next((member) => this.#mayHold(model, member))
      if (next === undefined) break
      next.go()
    }
    if (entry.line.size === 0) {
      clearInterval(entry.timer)
      this.#lines.delete(model)
    }
  }
}
