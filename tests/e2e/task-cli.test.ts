import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TaskSummary, TaskView } from '../../host/scheduler/scheduler-service.ts'
import { type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

let dataDir: string
let daemon: RunningRipple

const startDaemon = () =>
  startRipple(['--data-dir', dataDir, '--api-port', '0', '--name', 'task-peer', '--log-level', 'warn'])

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ripple-e2e-task-'))
  daemon = await startDaemon()
}, 90_000)

afterAll(async () => {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

describe('ripple task (CLI against a running `ripple up`)', { timeout: 60_000 }, () => {
  it('`task submit sha256 --wait` shows progress and prints the accepted output', async () => {
    const res = await runRipple([
      'task',
      'submit',
      'sha256',
      '--input',
      '{"data":"hello"}',
      '--wait',
      '--data-dir',
      dataDir,
    ])
    expect(res.code, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout)).toEqual({
      sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
      bytes: 5,
    })
    expect(res.stderr).toMatch(/^ripple: submitted uhCkk\S+$/m)
    expect(res.stderr).toMatch(/^ripple: \[\d+s\] (assigned|running) \(attempt 1 on uhCAk\S+\)$/m)
    expect(res.stderr).toMatch(/^ripple: \[\d+s\] done/m)
  })

  it('`task ls` and `task show` report the task with its receipt', async () => {
    const ls = await runRipple(['task', 'ls', '--json', '--data-dir', dataDir])
    expect(ls.code, ls.stderr).toBe(0)
    const [task] = JSON.parse(ls.stdout) as TaskSummary[]
    expect(task).toMatchObject({ kind: 'sha256', status: 'done', attempts: 1 })

    const show = await runRipple(['task', 'show', task!.action_hash, '--data-dir', dataDir])
    expect(show.code, show.stderr).toBe(0)
    expect(show.stdout).toMatch(/^status\s+done$/m)
    expect(show.stdout).toMatch(/^receipt\s+accepted \(output hash verified\)/m)
    const json = JSON.parse(
      (await runRipple(['task', 'show', task!.action_hash, '--json', '--data-dir', dataDir])).stdout,
    )
    expect((json as TaskView).state.receipt?.entry.accepted).toBe(true)
  })

  it('refuses an input the worker would not take, with the field at fault', async () => {
    const res = await runRipple(['task', 'submit', 'sha256', '--input', '{"bytes":1}', '--data-dir', dataDir])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/InvalidPayloadError \(HTTP 400\): invalid input for sha256/)
  })

  it('cancels a task this peer submitted', async () => {
    const submitted = await runRipple([
      'task',
      'submit',
      'echo',
      '--input',
      '{"message":"slow","delay_ms":30000}',
      '--data-dir',
      dataDir,
    ])
    expect(submitted.code, submitted.stderr).toBe(0)
    const hash = submitted.stdout.trim()
    const cancel = await runRipple([
      'task',
      'cancel',
      hash,
      '--reason',
      'changed my mind',
      '--data-dir',
      dataDir,
    ])
    expect(cancel.code, cancel.stderr).toBe(0)
    const show = await runRipple(['task', 'show', hash, '--json', '--data-dir', dataDir])
    expect((JSON.parse(show.stdout) as TaskView).state.status).toBe('cancelled')
  })

  it('`policy ls` says no policies are published; the first peer of its private mesh is its admin', async () => {
    const ls = await runRipple(['policy', 'ls', '--data-dir', dataDir])
    expect(ls.stdout).toMatch(/no policies/)
    // On the open network nobody may publish (the rules' policy.no_progenitor, in the shared vectors).
    const publish = await runRipple([
      'policy',
      'publish',
      'allow-all',
      '--text',
      'permit(principal, action, resource);',
      '--data-dir',
      dataDir,
    ])
    expect(publish.code, publish.stderr).toBe(0)
    expect(publish.stdout).toMatch(/^published allow-all/)
    expect((await runRipple(['policy', 'ls', '--data-dir', dataDir])).stdout).toMatch(/allow-all/)
    const bad = await runRipple(['policy', 'publish', 'bad', '--text', 'permit(', '--data-dir', dataDir])
    expect(bad.stderr).toMatch(/InvalidPolicyTextError \(HTTP 400\)/)
  })

  it('`infer` with no model on any peer says why and gives up at once, cancelling the task', async () => {
    const res = await runRipple(['infer', 'hello', '--data-dir', dataDir])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/^ripple: waiting for a claim: no node has any model$/m)
    expect(res.stderr).toMatch(/no peer can serve task uhCkk\S+ \(cancelled it\): no node has any model/)
    const ls = JSON.parse(
      (await runRipple(['task', 'ls', '--json', '--data-dir', dataDir])).stdout,
    ) as TaskSummary[]
    expect(ls.find((t) => t.kind === 'infer.generate')?.status).toBe('cancelled')
  })

  it('`task ls` still lists finished tasks after the daemon restarts', async () => {
    daemon.child.kill('SIGTERM')
    await daemon.exited
    daemon = await startDaemon()
    const ls = await runRipple(['task', 'ls', '--json', '--data-dir', dataDir])
    expect(ls.code, ls.stderr).toBe(0)
    const tasks = JSON.parse(ls.stdout) as TaskSummary[]
    expect(tasks.find((t) => t.kind === 'sha256')).toMatchObject({ status: 'done', attempts: 1 })
    expect(tasks.find((t) => t.kind === 'infer.generate')).toMatchObject({ status: 'cancelled' })
  })
})
