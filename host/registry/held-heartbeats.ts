/**
 * Which heartbeats a peer holds (design 4e): at most `HELD_MAX`, whatever the mesh's size. A mesh
 * where a peer hears fewer agents than that (a team's, and every mesh small enough for routing news
 * to go to all: NEWS_TO_ALL_BELOW in heartbeat-pace.ts is below it) holds every heartbeat it hears, as
 * before. Past that a peer keeps the heartbeats it wants (routing news on the topics of the models it
 * serves or uses, and heads whose splits name it) and, in the room left, a sample of the mesh-wide
 * idle beat: the first heard, kept while they live (a peer that goes offline makes room for the next);
 * the count of members comes from the record, not from heartbeats. Pure.
 */
import { NEWS_TO_ALL_BELOW } from './heartbeat-pace.ts'

/** Heartbeats a peer holds at most. */
export const HELD_MAX = 48

export interface HeldSlot {
  agent: string
  receivedAt: number
  /** Whether its last heartbeat is old enough that the peer counts as offline. */
  offline: boolean
  /** Whether it is one this peer wants (see above), lately. */
  wanted: boolean
}

/** Whether a heartbeat from an agent not held is taken, and which held one it replaces. */
export type Room = { take: true; drop: string | null } | { take: false }

const oldest = (slots: readonly HeldSlot[]) =>
  slots.reduce<HeldSlot | null>((a, s) => (a === null || s.receivedAt < a.receivedAt ? s : a), null)

/**
 * What to do with a heartbeat from an agent not among `held`, `wanted` or not: taken while there is
 * room; else in place of the longest-offline one; else, when wanted, in place of the oldest heard of
 * the sample (then of those wanted: a model with more runners than room rotates through its latest);
 * else turned away, the sample staying as it is.
 */
export function makeRoom(held: readonly HeldSlot[], wanted: boolean, max = HELD_MAX): Room {
  if (held.length < max) return { take: true, drop: null }
  const drop =
    oldest(held.filter((s) => s.offline)) ??
    (wanted ? (oldest(held.filter((s) => !s.wanted)) ?? oldest(held)) : null)
  return drop === null ? { take: false } : { take: true, drop: drop.agent }
}

/**
 * The other peers online, as the heartbeat's pace and the choice of routing news to all count them:
 * those held while the view has room (it holds all it hears), the members on record (other than
 * itself, not revoked) once it holds as many online as it may (then it hears more than it holds). And
 * the members on record while a peer has not yet listened long enough to have heard every peer online
 * (`heardAll`), where they are a big mesh's: a newcomer to a big mesh hears few at first, and counting
 * only those it sent its news to all at a small mesh's pace until its view filled, every join costing
 * every peer a beat an interval for minutes (the simulation's 450 new peers at once drowned in them).
 */
export function othersOnline(heldOnline: number, members: number, heardAll: boolean, max = HELD_MAX): number {
  const byRecord = heldOnline >= max || (!heardAll && members >= NEWS_TO_ALL_BELOW)
  return byRecord ? Math.max(heldOnline, members) : heldOnline
}
