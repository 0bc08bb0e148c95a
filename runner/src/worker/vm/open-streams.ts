/** The snapshot precondition on streams: a snapshot cannot hold a stream's host side. */

/** Raises naming each open stream of the VM (`open`: stream → where it was opened). */
export function refuseOpenStreams(label: string, open: ReadonlyMap<object, string>): void {
  if (open.size === 0) return;
  const list = [...open.values()].map((w) => `  ${w}`).join('\n');
  throw new Error(`${label}: cannot snapshot with streams open; close them first (stream:close()):\n${list}`);
}
