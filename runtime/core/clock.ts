import type { Clock } from './types';

/**
 * A clock that runs `offsetMs` ahead of (or behind) the system clock. Local runs and tests enable it with
 * CURRENTS_TEST_CLOCK=1 to move a running function through a 48-hour grace period in milliseconds; the infrastructure
 * never sets that variable, so a deployed function always uses the system clock.
 */
export class OffsetClock implements Clock {
  constructor(
    public offsetMs = 0,
    private readonly base: () => number = Date.now,
  ) {}

  now(): number {
    return this.base() + this.offsetMs;
  }
}
