/**
 * The first request of a size's load (the model loads on the runner): on a loaded machine (32 daemons
 * on 2 cores) a first dial to the runner may time out, so it is asked again a few times.
 */
import { sleep } from '../measure.ts'
import { whyFailed } from './peers-report.ts'

/** Null once `ask` answered, at most 4 tries 15 s apart; else why the last try failed. */
export async function warmUp(ask: () => Promise<void>): Promise<string | null> {
  let why = ''
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await sleep(15_000)
    try {
      await ask()
      return null
    } catch (err) {
      why = whyFailed(err)
      console.error(`mesh-peers: a first request failed (try ${attempt + 1} of 4): ${why}`)
    }
  }
  return why
}
