/**
 * A relay with tight limits (48 KiB or 2 minutes per relayed connection; libp2p's default is 128 KiB)
 * cuts the connection between two peers behind NAT in the middle of a long answer. (The runner sends
 * tokens in 15 ms batches, so a 3,000-token answer carries about 50 KiB, under the default.) The peers redial through
 * the relay at once, and the work is neither lost nor repeated: one attempt, one signed result, the
 * whole answer. Same lab as nat-relay.test.ts; skipped, with the reason, without root, `ip` or `nft`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TaskSummary, TaskView } from '../../host/scheduler/scheduler-service.ts'
import { printableText } from '../../host/text/printable.ts'
import { LabMesh, LONG_STREAMED_ANSWER, relayedLink } from './lab-mesh.ts'
import { natLabUnavailable } from './nat-lab.ts'

const unavailable = await natLabUnavailable()
if (unavailable !== null) console.log(`tests/net/relay-limits.test.ts skipped: ${unavailable}`)

let mesh: LabMesh

describe.skipIf(unavailable !== null)(
  "a relayed connection cut by the relay's limits",
  { timeout: 240_000 },
  () => {
    beforeAll(async () => {
      mesh = await LabMesh.start({
        homes: 2,
        nat: 'random',
        relayArgs: ['--data-limit', '48KiB', '--duration-limit', '2m'],
      })
      await Promise.all([mesh.startPeer(1, false), mesh.startPeer(2, true)])
    }, 240_000)

    afterAll(() => mesh?.stop())

    it('is redialled, and the task it carried runs once and completes', async () => {
      const [home1, home2] = mesh.peers
      const before = await mesh.waitForPeer(home1!, home2!, (p) => relayedLink(p) && p.capability !== null)
      const res = await mesh.cli(home1!, LONG_STREAMED_ANSWER)
      expect(res.code, res.stderr).toBe(0)
      const [latest] = JSON.parse((await mesh.cli(home1!, ['task', 'ls', '--json'])).stdout) as TaskSummary[]
      const view = JSON.parse(
        (await mesh.cli(home1!, ['task', 'show', latest!.action_hash, '--json'])).stdout,
      ) as TaskView
      expect(view.state.status).toBe('done')
      expect(view.state.assignments).toHaveLength(1)
      expect(view.state.results).toHaveLength(1)
      expect(view.state.receipt?.entry.accepted).toBe(true)
      const output = view.payloads.outputs[view.state.results[0]!.action_hash] as {
        text: string
        timings: { generated_tokens: number }
      }
      expect(output.timings.generated_tokens).toBeGreaterThan(1000)
      // Tokens sent while the connection was down are lost on the way; the CLI says so and prints
      // the whole answer from the signed result.
      expect(res.stdout.endsWith(`${printableText(output.text)}\n`)).toBe(true)
      const after = await mesh.waitForPeer(home1!, home2!, relayedLink)
      expect(after.link!.opened_at).toBeGreaterThan(before.link!.opened_at)
    })
  },
)
