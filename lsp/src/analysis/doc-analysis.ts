/**
 * The analysis of one document: the scope at the start of every segment
 * (top-level declarations of the segments before it, cached by identity so
 * that editing a test body does not re-declare anything), and scoped walks of
 * a segment. Broken segments declare what their last good parse declared.
 */
import type { Statement } from './ast.js';
import type { SourceDoc } from './document.js';
import type { InferCtx } from './infer.js';
import type { Source } from './lua-types.js';
import type { Segment } from './segments.js';
import type { Placed, Scope } from './scope.js';
import { declareStatement, walkBlock, type Visitor } from './walk.js';

interface ScopeCache {
  entry: Scope;
  exit: Scope;
}

export class DocAnalysis {
  private scopes = new WeakMap<Segment, ScopeCache>();
  private sources = new WeakMap<Segment, Source>();
  /** chain[k]: the entry scope of segment k, valid while `chainEpoch` is the document's editEpoch. */
  private chain: Scope[] = [null];
  private chainEpoch = -1;

  constructor(
    readonly doc: SourceDoc,
    private readonly ctxOf: () => InferCtx,
  ) {}

  get ctx(): InferCtx {
    return this.ctxOf();
  }

  /** Node ranges of `seg` are relative to this source (stale trees have no position). */
  sourceOf(seg: Segment): Source {
    let s = this.sources.get(seg);
    if (!s) {
      const uri = this.doc.uri;
      s = seg.body ? { uri, get base() { return seg.base; } } : { uri, base: NaN };
      this.sources.set(seg, s);
    }
    return s;
  }

  /** Statements that declare for later code: the tree, or the last good one. */
  declaring(seg: Segment): Statement[] {
    return seg.body ?? seg.lastGood;
  }

  /**
   * The scope at the start of segment `index`. The entry scopes of the
   * segments before the furthest one asked for are kept in `chain` until the
   * document's segments change, so a pass over all segments is linear in
   * their number (it was quadratic: each call walked every earlier segment).
   */
  entryScope(index: number): Scope {
    const segs = this.doc.segments;
    if (this.chainEpoch !== this.doc.editEpoch) {
      this.chainEpoch = this.doc.editEpoch;
      this.chain = [null];
    }
    const chain = this.chain;
    const last = Math.min(index, segs.length);
    for (let k = chain.length - 1; k < last; k++) chain.push(this.exitScope(k, chain[k]));
    return chain[last];
  }

  /** The scope after segment `k` entered with `entry` (cached per segment while its entry is the same). */
  private exitScope(k: number, entry: Scope): Scope {
    const seg = this.doc.segments[k];
    const c = this.scopes.get(seg);
    if (c && c.entry === entry) return c.exit;
    let scope = entry;
    const src = this.sourceOf(seg);
    const stmts = this.declaring(seg);
    const rest = this.rest(k);
    stmts.forEach((stmt, idx) => {
      let after: Scope = scope;
      const following = () => this.placedFrom(stmts, idx + 1, after, src, rest);
      after = declareStatement(stmt, scope, src, following);
      scope = after;
    });
    this.scopes.set(seg, { entry, exit: scope });
    return scope;
  }

  private *placedFrom(stmts: Statement[], from: number, scope: Scope, source: Source, rest: () => Iterable<Placed>): Iterable<Placed> {
    for (let k = from; k < stmts.length; k++) {
      yield { stmt: stmts[k], scope, source };
      scope = declareStatement(stmts[k], scope, source);
    }
    yield* rest();
  }

  /** Top-level statements of the segments after `index`, each with its scope. */
  rest(index: number): () => Iterable<Placed> {
    return () => this.restGen(index);
  }

  private *restGen(index: number): Iterable<Placed> {
    const segs = this.doc.segments;
    for (let k = index + 1; k < segs.length; k++) {
      let scope = this.entryScope(k);
      const src = this.sourceOf(segs[k]);
      for (const stmt of this.declaring(segs[k])) {
        yield { stmt, scope, source: src };
        scope = declareStatement(stmt, scope, src);
      }
    }
  }

  /** Walks segment `index` (a parsed one) with its entry scope. */
  walkSegment(index: number, visit: Visitor): void {
    const seg = this.doc.segments[index];
    if (!seg.body) return;
    walkBlock(seg.body, this.entryScope(index), { source: this.sourceOf(seg), visit }, undefined, this.rest(index));
  }

  /** Every top-level statement that parsed, with its scope and segment index. */
  *topLevel(): Iterable<Placed & { segment: number }> {
    const segs = this.doc.segments;
    for (let k = 0; k < segs.length; k++) {
      const seg = segs[k];
      if (!seg.body) continue;
      let scope = this.entryScope(k);
      const src = this.sourceOf(seg);
      for (const stmt of seg.body) {
        yield { stmt, scope, source: src, segment: k };
        scope = declareStatement(stmt, scope, src);
      }
    }
  }
}
