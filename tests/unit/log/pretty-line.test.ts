import { describe, expect, it } from 'vitest'
import { prettyLine } from '../../../host/log/pretty-line.ts'

const AT = new Date(2026, 0, 2, 3, 4, 5, 67).getTime()
const line = (record: Record<string, unknown>) =>
  JSON.stringify({ level: 30, time: AT, pid: 1, hostname: 'h', ...record })

describe('prettyLine', () => {
  it('writes time, level, component, message and the other fields as key=value', () => {
    expect(prettyLine(line({ component: 'artifacts', cid: 'bafk', n: 2, msg: 'replicated artifact' }))).toBe(
      '03:04:05.067 INFO  [artifacts] replicated artifact cid=bafk n=2\n',
    )
    expect(prettyLine(line({ level: 40, msg: 'slow', why: 'a b', at: { x: 1 } }))).toBe(
      '03:04:05.067 WARN  slow why="a b" at={"x":1}\n',
    )
  })

  it('names an error by its message, and adds its stack at error level only', () => {
    const err = {
      type: 'Error',
      message: 'disk full',
      stack: 'Error: disk full\n    at write (store.ts:1:1)',
    }
    expect(prettyLine(line({ level: 40, err, msg: 'retrying' }))).toBe(
      '03:04:05.067 WARN  retrying err="disk full"\n',
    )
    expect(prettyLine(line({ level: 50, err, msg: 'failed' }))).toBe(
      '03:04:05.067 ERROR failed err="disk full"\n    at write (store.ts:1:1)\n',
    )
  })

  it('escapes the control characters a peer may put in a value', () => {
    const printed = prettyLine(line({ msg: 'peer said', name: 'evil\u001b[2J\u0085' }))
    expect(printed).toBe('03:04:05.067 INFO  peer said name=evil\\x1b[2J\\x85\n')
  })

  it('passes a line that is not JSON through unchanged', () => {
    expect(prettyLine('not json\n')).toBe('not json\n')
  })
})
