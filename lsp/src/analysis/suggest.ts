/** "Did you mean" suggestions. */

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
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
