// "Did you mean ...?" for unknown keys. Not exported from mod.ts.

/**
 * The edit distance between two strings: insertions, deletions,
 * substitutions and transpositions of neighbours each count 1.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        d[0].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate closest to `name`, if it is close enough to be a likely
 * typo (1 edit for short names, up to a third of the length, at most 3).
 */
export function closest(
  name: string,
  candidates: Iterable<string>,
): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    // Lengths further apart than that take more edits: skip the table.
    if (Math.abs(other.length - lower.length) > bestDistance) continue;
    const distance = editDistance(lower, other);
    if (
      distance <= bestDistance &&
      (best === undefined || distance < bestDistance)
    ) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `unknown ...` plus a suggestion when one is close. */
export function unknownMessage(
  what: string,
  name: string,
  candidates: Iterable<string>,
): string {
  const guess = closest(name, candidates);
  return guess === undefined
    ? `unknown ${what} (ignored)`
    : `unknown ${what} (ignored); did you mean ${guess}?`;
}
