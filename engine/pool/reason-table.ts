/**
 * One copy of each reason text among the result sets the pool holds. Reasons repeat across profiles (the same
 * update is Required for the same cause on machines that differ elsewhere: on the first 2,000 machines of the issue-14
 * fleet, 271,198 reasons, 90 MB, were 38,615 distinct texts, 12.6 MB), but every result set arrives from its worker
 * with copies of its own (as bytes: engine/fleet/reason-bytes.ts). A set kept for sharing has its reasons decoded and
 * interned here when a second machine names it: the sets then share one string each, and counting only the distinct
 * ones is what lets the pool's memory budget hold with reasons on.
 *
 * Counted by reference: a text is forgotten (and its bytes no longer counted) when the last set holding it is
 * released, so the count follows what the pool keeps, not everything it has seen.
 */

/** Estimated heap bytes of one distinct text: the string (≈ 1 byte a char, header) and its table entry. */
const textBytes = (s: string): number => s.length + 64;

export class ReasonTable {
  private readonly texts = new Map<string, { text: string; refs: number }>();
  /** Estimated bytes of the distinct texts held. */
  bytes = 0;

  /** Replaces each reason of `reasons` by the table's copy (in place); returns the bytes of texts it added. */
  intern(reasons: string[]): number {
    let added = 0;
    for (let k = 0; k < reasons.length; k++) {
      const r = reasons[k]!;
      if (r.length === 0) continue;
      const e = this.texts.get(r);
      if (e) {
        e.refs++;
        reasons[k] = e.text;
      } else {
        this.texts.set(r, { text: r, refs: 1 });
        added += textBytes(r);
      }
    }
    this.bytes += added;
    return added;
  }

  /** A set that held these (interned) reasons is let go; returns the bytes of texts no set holds any more. */
  release(reasons: readonly string[]): number {
    let freed = 0;
    for (const r of reasons) {
      if (r.length === 0) continue;
      const e = this.texts.get(r);
      if (e === undefined) continue;
      if (--e.refs === 0) {
        this.texts.delete(r);
        freed += textBytes(r);
      }
    }
    this.bytes -= freed;
    return freed;
  }

  get size(): number {
    return this.texts.size;
  }
}
