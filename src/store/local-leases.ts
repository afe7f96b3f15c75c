/**
 * Leases of a store that only one process writes (SQLite): kept in memory, by this process's
 * clock. They still fence: a write with a lease that expired or changed hands is refused.
 */
import { LeaseLostError, type Lease } from './store.js';

export class LocalLeases {
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly now: () => number = Date.now) {}

  acquire(name: string, holder: string, ttlMs: number): Lease | undefined {
    const now = this.now();
    const current = this.leases.get(name);
    if (current && current.holder !== holder && current.expires_at > now) return undefined;
    const renewal = current !== undefined && current.holder === holder && current.expires_at > now;
    const lease: Lease = {
      name,
      holder,
      generation: renewal ? current.generation : (current?.generation ?? 0) + 1,
      expires_at: now + ttlMs,
    };
    this.leases.set(name, lease);
    return lease;
  }

  release(lease: Lease): void {
    const current = this.leases.get(lease.name);
    if (current && current.holder === lease.holder && current.generation === lease.generation) {
      this.leases.set(lease.name, { ...current, expires_at: 0 });
    }
  }

  /** Throws LeaseLostError unless `fence` is the current, unexpired lease. */
  check(fence: Lease | undefined): void {
    if (!fence) return;
    const current = this.leases.get(fence.name);
    if (
      !current ||
      current.holder !== fence.holder ||
      current.generation !== fence.generation ||
      current.expires_at <= this.now()
    ) {
      throw new LeaseLostError(`lease ${fence.name} (generation ${fence.generation}) is no longer held`);
    }
  }
}
