/**
 * Resolves once an action is held by this peer: written here, or received from a peer and verified.
 * Lets a caller (the API, benchmarks, tests) wait for propagation without polling.
 */

import { decodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import type { ChainStore } from '../../../storage/chain-store.ts'
import type { Replication } from './replicator.ts'

export interface WaitForActionInit {
  store: Pick<ChainStore, 'getAction'>
  replication: Pick<Replication, 'onOpsStored'>
}

/** True when the action is stored within `timeoutMs`, false when the time ran out. */
export function waitForAction(
  init: WaitForActionInit,
  actionHashB64: string,
  timeoutMs: number,
): Promise<boolean> {
  const hash = decodeHashB64(actionHashB64, 'action')
  if (init.store.getAction(hash) !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const finish = (stored: boolean) => {
      clearTimeout(timer)
      unsubscribe()
      resolve(stored)
    }
    const unsubscribe = init.replication.onOpsStored((event) => {
      if (event.actions.some((action) => hashesEqual(action.hash, hash))) finish(true)
    })
    const timer = setTimeout(() => finish(false), timeoutMs)
  })
}
