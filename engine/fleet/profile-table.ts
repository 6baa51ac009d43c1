/**
 * One table of machine profiles shared by every thread of a scan (a SharedArrayBuffer): maps a 128-bit fingerprint
 * of what the catalog's rules can read to the id of the result set that answers it. The first thread to see a
 * profile claims it and scans; every later machine with the same profile — in any thread — just names that result
 * set, without waiting for the scan to finish (the caller joins ids to results).
 *
 * Open addressing, linear probing, insert-only, lock-free: an entry is claimed by a compare-and-swap of its id word
 * from EMPTY to WRITING; the fingerprint is written next, then the id is published. Readers that meet WRITING spin
 * for the few nanoseconds that takes. When the table is full, new profiles are scanned and not recorded (memory
 * stays bounded; only the sharing stops).
 */

const EMPTY = 0;
const WRITING = -1;
const WORDS = 5; // fingerprint (4 × 32 bits), id
// Header: [0] next result-set id, [1] entries used, [2] capacity (entries).
const HEADER = 3;

export interface ProfileTableHandle {
  readonly buffer: SharedArrayBuffer;
}

/** How a thread should treat one machine. */
export const Claim = {
  /** Another machine already claimed this profile: reuse its result set. */
  Shared: 0,
  /** This machine is the first with the profile: scan it; its result set will be shared. */
  First: 1,
  /** Not recorded (table full or disabled): scan it; its result set is its own. */
  Alone: 2,
} as const;
export type Claim = (typeof Claim)[keyof typeof Claim];

export class ProfileTable {
  private readonly words: Int32Array;
  private readonly mask: number;
  private readonly limit: number;
  /** Set by claim(): the result-set id for the machine just claimed. */
  id = 0;

  constructor(handle: ProfileTableHandle) {
    this.words = new Int32Array(handle.buffer);
    const capacity = this.words[2]!;
    this.mask = capacity - 1;
    // Keep probes short: stop recording at three quarters full.
    this.limit = Math.floor(capacity * 0.75);
  }

  /** A table for up to `profiles` recorded profiles (0: none — every machine is scanned on its own). */
  static create(profiles: number): ProfileTableHandle {
    let capacity = 0;
    if (profiles > 0) {
      capacity = 2;
      while (capacity * 0.75 < profiles) capacity *= 2;
    }
    const buffer = new SharedArrayBuffer((HEADER + capacity * WORDS) * 4);
    const w = new Int32Array(buffer);
    w[0] = 1;
    w[2] = capacity;
    return { buffer };
  }

  /** Result sets handed out so far. */
  get issued(): number {
    return Atomics.load(this.words, 0) - 1;
  }

  /** Recorded profiles. */
  get recorded(): number {
    return Atomics.load(this.words, 1);
  }

  /** Entries the table can hold (0: recording is off). */
  get capacity(): number {
    return this.mask + 1;
  }

  private fresh(): number {
    return Atomics.add(this.words, 0, 1);
  }

  /** A result set of its own for a machine that is not looked up. */
  claimAlone(): Claim {
    this.id = this.fresh();
    return Claim.Alone;
  }

  /** The result set recorded for a fingerprint, or 0 when there is none (nothing is claimed). */
  find(a: number, b: number, c: number, d: number): number {
    const w = this.words;
    if (this.mask < 0) return 0;
    let slot = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (let probes = 0; probes <= this.mask; probes++, slot = (slot + 1) & this.mask) {
      const at = HEADER + slot * WORDS;
      let id = Atomics.load(w, at + 4);
      if (id === EMPTY) return 0;
      while (id === WRITING) id = Atomics.load(w, at + 4);
      if (w[at] === a && w[at + 1] === b && w[at + 2] === c && w[at + 3] === d) return id;
    }
    return 0;
  }

  /** Looks a fingerprint up; claims it if new. The result set to use is left in `this.id`. */
  claim(a: number, b: number, c: number, d: number): Claim {
    const w = this.words;
    if (this.mask < 0) return this.claimAlone();
    let slot = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (let probes = 0; probes <= this.mask; probes++, slot = (slot + 1) & this.mask) {
      const at = HEADER + slot * WORDS;
      let id = Atomics.load(w, at + 4);
      if (id === EMPTY) {
        if (Atomics.load(w, 1) >= this.limit) break;
        if (Atomics.compareExchange(w, at + 4, EMPTY, WRITING) === EMPTY) {
          w[at] = a;
          w[at + 1] = b;
          w[at + 2] = c;
          w[at + 3] = d;
          Atomics.add(w, 1, 1);
          this.id = this.fresh();
          Atomics.store(w, at + 4, this.id); // publishes the fingerprint written above
          return Claim.First;
        }
        id = Atomics.load(w, at + 4);
      }
      while (id === WRITING) id = Atomics.load(w, at + 4);
      if (w[at] === a && w[at + 1] === b && w[at + 2] === c && w[at + 3] === d) {
        this.id = id;
        return Claim.Shared;
      }
    }
    return this.claimAlone();
  }
}
