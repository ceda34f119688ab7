/**
 * Who serves which model, beyond the peers this one hears (design 4e): a runner advertises each model
 * it serves (re-advertised until withdrawn, expiring otherwise), and a requester finds runners of a
 * model in a few hops. The embedded backend answers it from the mesh's members-only Kademlia
 * (net/model-directory.ts); a Holochain conductor has none (null), and every peer hears every other.
 */
export interface ModelDirectoryPort {
  /** Advertises that this peer serves `model` until withdrawn. */
  advertise(model: string): void
  withdraw(model: string): void
  /** Agents (HoloHashB64) advertising `model`, at most `limit` of them. */
  find(model: string, options?: { limit?: number; signal?: AbortSignal }): Promise<string[]>
  /** Directory entries held here: routing table and records. */
  stats(): { routingTable: number; records: number }
}
