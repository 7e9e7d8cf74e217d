// The cache's supervised maintenance loop: background eviction above the high watermark (or after
// ENOSPC), and the probe that brings passthrough mode back to caching.
import type { CacheSpace } from './cache-space.ts';
import type { ChunkStore } from './chunk-store.ts';
import { sleepUnless } from './deadline.ts';
import type { CacheIndex } from './index-db.ts';
import type { Logger } from './log.ts';
import type { PassthroughSwitch } from './passthrough.ts';

export interface MaintenanceOptions {
  space: CacheSpace;
  store: ChunkStore;
  index: CacheIndex;
  passthrough: PassthroughSwitch;
  maxBytes: number;
  highWatermark: number;
  lowWatermark: number;
  probeIntervalMs?: number;
  log: Logger;
}

export class CacheMaintenance {
  readonly #o: MaintenanceOptions;
  #wake: (() => void) | null = null;
  #pending = false;
  #forceEvict = false;

  constructor(options: MaintenanceOptions) {
    this.#o = options;
  }

  /** Wakes the loop; `force` (after ENOSPC) evicts even below the high watermark. */
  kick(force = false): void {
    this.#pending = true;
    if (force) this.#forceEvict = true;
    this.#wake?.();
  }

  /** Wakes the loop without new work (shutdown: it sees its signal aborted). */
  wake(): void {
    this.#wake?.();
  }

  async run(signal: AbortSignal): Promise<void> {
    const { passthrough } = this.#o;
    while (!signal.aborted) {
      this.#pending = false;
      await this.#evict();
      const probeMs = this.#o.probeIntervalMs ?? 5_000;
      if (passthrough.probeDue(probeMs)) await this.#probe();
      if (this.#pending) continue; // kicked while working: go again before sleeping
      const wake = new AbortController();
      this.#wake = () => wake.abort();
      const idleMs = passthrough.active ? probeMs : 60_000;
      await sleepUnless(idleMs, AbortSignal.any([signal, wake.signal]));
      this.#wake = null;
    }
  }

  // Forced: down to the low watermark or half the current size, whichever is smaller.
  async #evict(): Promise<void> {
    const { space, index, maxBytes, highWatermark, lowWatermark } = this.#o;
    if (this.#forceEvict) {
      this.#forceEvict = false;
      await space.evictTo(Math.min(lowWatermark * maxBytes, Math.floor(index.bytes / 2)));
    } else if (index.bytes > highWatermark * maxBytes) {
      await space.evictTo(lowWatermark * maxBytes);
    }
  }

  async #probe(): Promise<void> {
    try {
      await this.#o.store.probe();
      this.#o.passthrough.exit();
    } catch (error) {
      this.#o.log.log('debug', 'passthrough-probe-failed', { error });
    }
  }
}
