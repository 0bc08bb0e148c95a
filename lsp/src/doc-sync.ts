/**
 * Document sync: didOpen / didChange / didClose applied to the open
 * documents, in order. A full-text change (full sync) is applied as the edit
 * between the two texts (SourceDoc.replaceSteps). A change applies at once
 * unless it needs more than STEP_CHARS of text segmented (opening a large
 * file, a large paste, a new text that differs over that much): that text is
 * segmented in slices (slices.ts) while the document keeps its previous
 * state, and the changes that arrive meanwhile wait behind it. Requests about a document wait for `ready(uri)`, so they
 * see every change sent before them; requests about other documents do not.
 * Nothing else changes a document while it is busy (publishing gives up).
 */
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { fileKindOf, SourceDoc } from './analysis/document.js';
import { segmentSteps } from './analysis/segments.js';
import type { Steps } from './analysis/steps.js';
import { toOffset } from './positions.js';
import { sliced } from './slices.js';
import type { WorkspaceManager } from './workspace-manager.js';

export interface SyncEvents {
  /** The document is open with its text (after `changed` when changes came while it was segmented). */
  opened(uri: string): void;
  changed(uri: string): void;
  failed(uri: string, error: unknown): void;
}

interface Pending {
  /** Changes not applied yet, in order (each notification's changes with its version). */
  queue: { changes: TextDocumentContentChangeEvent[]; version: number }[];
  /** What to tell when the queue is empty. */
  opened: boolean;
  changed: boolean;
  closed: boolean;
  ready: Promise<void>;
  done: () => void;
}

export class DocumentSync {
  private pending = new Map<string, Pending>();

  constructor(
    private readonly workspace: WorkspaceManager,
    private readonly events: SyncEvents,
  ) {}

  /** Resolves once every change received so far for `uri` is applied. */
  ready(uri: string): Promise<void> {
    return this.pending.get(uri)?.ready ?? Promise.resolve();
  }

  /** True while changes of `uri` are being applied in slices. */
  busy(uri: string): boolean {
    return this.pending.has(uri);
  }

  open(uri: string, text: string, version: number): void {
    this.close(uri);
    const p = this.begin(uri);
    const inline = this.run(uri, p, segmentSteps(text), (segments) => {
      this.workspace.openDoc(new SourceDoc(uri, fileKindOf(uri), text, version, segments));
      p.opened = true;
    });
    if (inline) this.drain(uri, p);
  }

  change(uri: string, changes: TextDocumentContentChangeEvent[], version: number): void {
    const waiting = this.pending.get(uri);
    const p = waiting ?? this.begin(uri);
    p.queue.push({ changes: [...changes], version });
    if (!waiting) this.drain(uri, p);
  }

  /** Forgets the changes of `uri` still waiting; what is being applied in slices for it is dropped when done. */
  close(uri: string): void {
    const p = this.pending.get(uri);
    if (!p) return;
    p.closed = true;
    this.pending.delete(uri);
    p.done();
  }

  private begin(uri: string): Pending {
    let done!: () => void;
    const ready = new Promise<void>((r) => (done = r));
    const p: Pending = { queue: [], opened: false, changed: false, closed: false, ready, done };
    this.pending.set(uri, p);
    return p;
  }

  private fail(uri: string, e: unknown): void {
    this.close(uri);
    this.events.failed(uri, e);
  }

  /**
   * Runs `steps` in slices, then `then` with their result. True when that
   * happened at once (no step yielded); else the queue is drained again after.
   */
  private run<T>(uri: string, p: Pending, steps: Steps<T>, then: (value: T) => void): boolean {
    let inline = true;
    let finished = false;
    sliced(steps, (value) => {
      if (p.closed) return;
      finished = true;
      try {
        then(value);
        if (!inline) this.drain(uri, p);
      } catch (e) {
        this.fail(uri, e);
      }
    }, (e) => this.fail(uri, e));
    inline = false;
    return finished;
  }

  /** Applies the queued changes in order; one that takes slices drains the rest when it is done. */
  private drain(uri: string, p: Pending): void {
    const doc = this.workspace.open.get(uri);
    while (doc && !p.closed && p.queue.length) {
      const { changes, version } = p.queue[0];
      const c = changes.shift();
      if (!c) {
        p.queue.shift();
        continue;
      }
      p.changed = true;
      const steps = 'range' in c
        ? doc.editSteps(toOffset(doc, c.range.start), toOffset(doc, c.range.end), c.text, version)
        : doc.replaceSteps(c.text, version);
      if (!this.run(uri, p, steps, () => undefined)) return;
    }
    if (p.closed) return;
    this.pending.delete(uri);
    p.done();
    if (p.changed) this.events.changed(uri);
    if (p.opened) this.events.opened(uri);
  }
}
