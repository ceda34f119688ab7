/**
 * Which of a task's tags to look up in the registry's tag index (find_nodes_by_tag) when its walk
 * (known-nodes.ts) read its bound of members and found too few capable: the tag fewest of them have,
 * the first in the task's order on a tie, so every host that walked the same members asks for the same
 * one. None when the task names no tag, or when even that tag is on `wanted` or more of those walked:
 * then the tag is not what is rare, and its index lists about N × seen / walked members, each a read.
 */
export function rareTag(
  tags: readonly string[],
  walked: readonly { tags: readonly string[] }[],
  wanted: number,
) {
  let best: { tag: string; seen: number } | null = null
  for (const tag of tags) {
    const seen = walked.filter((c) => c.tags.includes(tag)).length
    if (best === null || seen < best.seen) best = { tag, seen }
  }
  return best !== null && best.seen < wanted ? best.tag : null
}
