/** "Did you mean" suggestions. */

/** Edit distance where swapping two neighbours counts as one edit ("fsat" -> "fast"). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate closest to `name`, if it is close enough to be a typo. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(1, Math.floor(name.length / 3));
  for (const c of candidates) {
    const d = c.toLowerCase() === name.toLowerCase() ? 0 : distance(name, c);
    if (d < bestD && (d <= limit || (name.length >= 3 && c.startsWith(name)))) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/** `: did you mean "x"?` or a list of what exists. */
export function didYouMean(name: string, candidates: string[], quote = "'"): string {
  const s = suggest(name, candidates);
  if (s) return `did you mean ${quote}${s}${quote}?`;
  if (candidates.length === 0) return '';
  const shown = candidates.slice(0, 12).join(', ');
  return `known: ${shown}${candidates.length > 12 ? ', ...' : ''}`;
}
