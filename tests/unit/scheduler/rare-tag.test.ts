/** Which tag a short walk looks up in the tag index (rare-tag.ts): the rarest among those walked, or none. */
import { describe, expect, it } from 'vitest'
import { rareTag } from '../../../host/scheduler/rare-tag.ts'

const walked = (...tags: string[][]) => tags.map((t) => ({ tags: t }))

describe('rareTag', () => {
  const cases: [string, string[], { tags: string[] }[], number, string | null][] = [
    ['no tag: none', [], walked(['a']), 2, null],
    ['a tag nobody walked has', ['x'], walked(['a'], []), 2, 'x'],
    ['nobody walked: the first tag', ['x', 'y'], [], 2, 'x'],
    ['the tag fewest have', ['a', 'x'], walked(['a'], ['a', 'x'], ['a']), 2, 'x'],
    ['a tie: the first in the task order', ['y', 'x'], walked(['a']), 2, 'y'],
    ['seen fewer times than wanted', ['x'], walked(['x'], []), 2, 'x'],
    ['seen as often as wanted: not rare, none', ['x'], walked(['x'], ['x'], []), 2, null],
    ['every tag common: none', ['a', 'b'], walked(['a', 'b'], ['a', 'b'], ['a']), 2, null],
    ['one common, one rare', ['a', 'b'], walked(['a', 'b'], ['a'], ['a']), 2, 'b'],
    ['fan-out 3 and a spare: seen 3 times is rare', ['x'], walked(['x'], ['x'], ['x']), 4, 'x'],
  ]
  it.each(cases)('%s', (_, tags, w, wanted, expected) => {
    expect(rareTag(tags, w, wanted)).toBe(expected)
  })
})
