/**
 * What `currents translate` says about its outcomes (pure): how many events were translated (the Segment calls the
 * function would send; translate itself sends nothing), skipped and dead-lettered, each with its reason, and for each
 * event type that is not exported, which type it was and why: the closest exportable type for a type the catalogue does
 * not know, since such a type is most often a typo (`users.messages.email.Opn`), or the catalogue's reason.
 */
import { refusalOf, suggestTypes } from '../shared/catalog';
import type { DeadLetter, SkippedEvent } from '../runtime/core/types';
import { didYouMean } from '../shared/suggest';

export class TranslateSummary {
  private translated = 0;
  private inputs = 0;
  private readonly skipped = new Map<SkippedEvent['reason'], number>();
  private readonly dead = new Map<DeadLetter['reason'], number>();
  /** Input name → type as written → events of it that were not exportable. */
  private readonly notExportable = new Map<string, Map<string, number>>();
  /** Type → why it is not exported (the translator's words). */
  private readonly why = new Map<string, string>();
  private readonly problems: string[] = [];

  /** Records one input's outcomes. */
  add(
    input: string,
    result: { send: readonly unknown[]; skipped: readonly SkippedEvent[]; deadLetters: readonly DeadLetter[] },
  ): void {
    this.inputs++;
    this.translated += result.send.length;
    for (const s of result.skipped) {
      this.skipped.set(s.reason, (this.skipped.get(s.reason) ?? 0) + 1);
      if (s.reason !== 'not_exportable') continue;
      const byType = this.notExportable.get(input) ?? new Map<string, number>();
      const type = s.eventType ?? '(no event type)';
      byType.set(type, (byType.get(type) ?? 0) + 1);
      this.notExportable.set(input, byType);
      if (s.detail !== undefined) this.why.set(type, s.detail);
    }
    for (const d of result.deadLetters) {
      this.dead.set(d.reason, (this.dead.get(d.reason) ?? 0) + 1);
      const what = [d.eventType, d.id && `id ${d.id}`].filter(Boolean).join(', ');
      this.problems.push(`  ${input}: ${d.reason}${what ? ` (${what})` : ''}: ${d.detail}`);
    }
  }

  get deadLetterCount(): number {
    return [...this.dead.values()].reduce((a, b) => a + b, 0);
  }

  /** The summary line (`label` says which selection translated), then one line per problem. */
  lines(label: string): string[] {
    const skipCount = [...this.skipped.values()].reduce((a, b) => a + b, 0);
    const total = this.translated + skipCount + this.deadLetterCount;
    const parts = [
      `${this.translated} translated (Segment calls the function would send)`,
      ...[...this.skipped].map(([reason, n]) => `${n} skipped ${reason}`),
      ...[...this.dead].map(([reason, n]) => `${n} dead-lettered ${reason}`),
    ];
    const out = [`currents translate (${label}): ${total} event(s) from ${this.inputs} input(s): ${parts.join(', ')}`];
    for (const [input, byType] of this.notExportable) {
      for (const [type, n] of byType) {
        const skipped = `${n} event${n === 1 ? '' : 's'} skipped`;
        const closest = refusalOf(type)?.kind === 'unknown' ? didYouMean(suggestTypes(type)) : '';
        out.push(
          closest
            ? `  ${input}: ${type} is not an exportable Currents type (${skipped}); ${closest}`
            : `  ${input}: ${this.why.get(type) ?? `${type} is not exported`} (${skipped})`,
        );
      }
    }
    return [...out, ...this.problems];
  }
}
