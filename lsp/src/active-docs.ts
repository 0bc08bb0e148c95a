/**
 * The documents in use: the ACTIVE_DOCS open documents most recently edited
 * or asked about (opening a document alone does not count: an editor asks
 * about the ones it shows). The server lets the others rest
 * (SourceDoc.rest): they keep their text, and their trees and analyses are
 * rebuilt when they are next needed — a request about them, or a re-check
 * after a fixture or helper changed. With hundreds of files open, the memory
 * is that of their texts plus the trees of a few dozen.
 */
export const ACTIVE_DOCS = 32;

export class ActiveDocs {
  /** Least recently used first (a Set keeps insertion order). */
  private order = new Set<string>();

  constructor(private readonly limit = ACTIVE_DOCS) {}

  /** `uri` is in use; returns the documents that stop being in use because of it. */
  touch(uri: string): string[] {
    this.order.delete(uri);
    this.order.add(uri);
    const out: string[] = [];
    for (const old of this.order) {
      if (this.order.size - out.length <= this.limit) break;
      out.push(old);
    }
    for (const old of out) this.order.delete(old);
    return out;
  }

  has(uri: string): boolean {
    return this.order.has(uri);
  }

  forget(uri: string): void {
    this.order.delete(uri);
  }
}
