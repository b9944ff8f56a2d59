/** The local Segment server's exact counters (`stats()`), cleared by `reset()`. */

export function freshCounters() {
  return {
    requests: 0,
    requestsByStatus: {} as Record<string, number>,
    bytesReceived: 0,
    eventsReceived: 0,
    duplicates: 0,
    droppedInvalid: 0,
    discarded: {} as Record<string, number>,
    publicApiRequestsByStatus: {} as Record<string, number>,
    tokenRequestsByStatus: {} as Record<string, number>,
    tokensIssued: 0,
    faultsInjected: 0,
    maxInFlight: 0,
  };
}

export type Counters = ReturnType<typeof freshCounters>;

export function bump(map: Record<string, number>, key: string | number): void {
  map[String(key)] = (map[String(key)] ?? 0) + 1;
}
