/**
 * A line-by-line diff of two texts (the stored manifest and the changed one), as the rollout tab
 * and the manifest editor show it before anything is applied. No preact here: the tests import it.
 */

export interface DiffLine {
  kind: 'same' | 'add' | 'del';
  text: string;
  /** The line's number in the old text (same, del) and in the new one (same, add), from 1. */
  oldNo?: number;
  newNo?: number;
}

/** Past this many cells the middle part is shown as all deleted then all added, not matched line by line. */
const MAX_CELLS = 4_000_000;

function lines(text: string): string[] {
  if (text === '') return [];
  // Text pasted from Windows ends its lines in CR LF: the same lines as LF.
  const list = text.replace(/\r\n?/g, '\n').split('\n');
  if (list[list.length - 1] === '') list.pop();
  return list;
}

/** The lines of `before` and `after` in order, each kept, deleted or added (a longest common subsequence). */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = lines(before);
  const b = lines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out: DiffLine[] = [];
  for (let i = 0; i < start; i++) out.push({ kind: 'same', text: a[i]!, oldNo: i + 1, newNo: i + 1 });
  const n = endA - start;
  const m = endB - start;
  if (n * m > MAX_CELLS) {
    for (let i = start; i < endA; i++) out.push({ kind: 'del', text: a[i]!, oldNo: i + 1 });
    for (let j = start; j < endB; j++) out.push({ kind: 'add', text: b[j]!, newNo: j + 1 });
  } else {
    // lcs[i][j]: the longest common subsequence of a[start+i..endA) and b[start+j..endB).
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * width + j] = a[start + i] === b[start + j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[start + i] === b[start + j]) {
        out.push({ kind: 'same', text: a[start + i]!, oldNo: start + i + 1, newNo: start + j + 1 });
        i++;
        j++;
      } else if (j < m && (i === n || lcs[i * width + j + 1]! >= lcs[(i + 1) * width + j]!)) {
        out.push({ kind: 'add', text: b[start + j]!, newNo: start + j + 1 });
        j++;
      } else {
        out.push({ kind: 'del', text: a[start + i]!, oldNo: start + i + 1 });
        i++;
      }
    }
  }
  const shift = endB - endA;
  for (let i = endA; i < a.length; i++) out.push({ kind: 'same', text: a[i]!, oldNo: i + 1, newNo: i + shift + 1 });
  return reorderDeletesFirst(out);
}

/** Within each run of changes, deletions before additions, as `diff -u` shows them. */
function reorderDeletesFirst(diff: DiffLine[]): DiffLine[] {
  const out: DiffLine[] = [];
  let run: DiffLine[] = [];
  const flush = (): void => {
    out.push(...run.filter((l) => l.kind === 'del'), ...run.filter((l) => l.kind === 'add'));
    run = [];
  };
  for (const line of diff) {
    if (line.kind === 'same') {
      flush();
      out.push(line);
    } else run.push(line);
  }
  flush();
  return out;
}

/** A diff with long unchanged stretches folded: `context` lines kept around each change. */
export type DiffRow = DiffLine | { kind: 'skip'; count: number };

export function folded(diff: DiffLine[], context = 3): DiffRow[] {
  const near = new Array<boolean>(diff.length).fill(false);
  diff.forEach((line, index) => {
    if (line.kind === 'same') return;
    for (let k = Math.max(0, index - context); k <= Math.min(diff.length - 1, index + context); k++) near[k] = true;
  });
  const rows: DiffRow[] = [];
  let skipped = 0;
  diff.forEach((line, index) => {
    if (near[index]) {
      if (skipped > 0) rows.push({ kind: 'skip', count: skipped });
      skipped = 0;
      rows.push(line);
    } else skipped++;
  });
  if (skipped > 0) rows.push({ kind: 'skip', count: skipped });
  return rows;
}

/** How many lines were added and deleted. */
export function diffCounts(diff: DiffLine[]): { added: number; deleted: number } {
  let added = 0;
  let deleted = 0;
  for (const line of diff) {
    if (line.kind === 'add') added++;
    else if (line.kind === 'del') deleted++;
  }
  return { added, deleted };
}
