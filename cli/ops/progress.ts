/**
 * Progress of a long operation: a bar redrawn in place on a terminal, plain lines (at most one per step reported)
 * otherwise, so that logs and CI output stay readable.
 */
export interface Progress {
  update(done: number, total: number): void;
  /** Ends the bar (a newline on a terminal). */
  end(): void;
}

export function progress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  tty: boolean = Boolean(stream.isTTY),
): Progress {
  let drawn = false;
  let lastLine = '';
  return {
    update(done, total) {
      if (tty) {
        const width = 30;
        const filled = total ? Math.round((done / total) * width) : width;
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
        drawn = true;
      } else {
        const line = `${label}: ${done}/${total}`;
        if (line !== lastLine) stream.write(`${line}\n`);
        lastLine = line;
      }
    },
    end() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
