/**
 * Values computed from a text and kept by it, for the texts every machine of a fleet repeats (version strings, file
 * paths, registry keys): computed once, read back by a map lookup. Bounded: past `limit`
 * texts everything is dropped and computed again as asked — a fleet repeats a few thousand, so that never happens on
 * one, and memory stays flat on input that repeats nothing.
 */
export class TextMemo<V> {
  private readonly values = new Map<string, V>();

  constructor(
    private readonly limit: number,
    private readonly compute: (text: string) => V,
  ) {}

  get(text: string): V {
    let v = this.values.get(text);
    if (v === undefined) {
      if (this.values.size >= this.limit) this.values.clear();
      v = this.compute(text);
      this.values.set(text, v);
    }
    return v;
  }
}
