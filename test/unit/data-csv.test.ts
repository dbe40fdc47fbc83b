import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/data/index.ts';
import { expectInvalid } from '../helpers/expect-invalid.ts';


describe('parseCsv', () => {
  it('reads a plain file with or without a trailing newline', () => {
    const expected = { header: ['a', 'b'], rows: [['1', '2'], ['3', '4']], lines: [2, 3] };
    expect(parseCsv('a,b\n1,2\n3,4\n')).toEqual(expected);
    expect(parseCsv('a,b\n1,2\n3,4')).toEqual(expected);
  });

  it('accepts CRLF line ends and strips a BOM', () => {
    expect(parseCsv('\ufeffa,b\r\n1,2\r\n3,4\r\n')).toEqual({ header: ['a', 'b'], rows: [['1', '2'], ['3', '4']], lines: [2, 3] });
  });

  it('handles quoted fields with commas, line breaks and "" escapes', () => {
    const { header, rows, lines } = parseCsv('name,"note, long"\r\n"Smith, J","said ""hi""\nthen left"\n"",x\n');
    expect(header).toEqual(['name', 'note, long']);
    expect(rows).toEqual([
      ['Smith, J', 'said "hi"\nthen left'],
      ['', 'x'],
    ]);
    // The second record starts after the line break inside the quoted field.
    expect(lines).toEqual([2, 4]);
  });

  it('keeps empty fields, trims header names but not cells, and skips blank lines', () => {
    const { header, rows, lines } = parseCsv('\n a , b\n\n 1 ,\n,\n\n');
    expect(header).toEqual(['a', 'b']);
    expect(rows).toEqual([
      [' 1 ', ''],
      ['', ''],
    ]);
    expect(lines).toEqual([4, 5]);
  });

  it('rejects an empty file', () => {
    expectInvalid(() => parseCsv(''), 'file', 'is empty');
    expectInvalid(() => parseCsv('\ufeff \r\n\n'), 'file', 'is empty');
  });

  it('rejects a header without data rows', () => {
    expectInvalid(() => parseCsv('a,b\n'), 'file', 'no data rows');
  });

  it('rejects an unterminated quote, naming the line it starts on', () => {
    expectInvalid(() => parseCsv('a,b\n1,2\n3,"four\n5,6\n'), 'file', 'unterminated quoted field starting on line 3');
  });

  it('rejects text after a closing quote', () => {
    expectInvalid(() => parseCsv('a,b\n"1"x,2\n'), 'file', 'line 2', 'closing quote');
  });

  it('rejects a ragged row, naming the line and both counts', () => {
    const csv = 'a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n1,2,3,4,5\n1,2,3,4,5\n1,2,3,4,5\n1,2,3\n';
    expectInvalid(() => parseCsv(csv), 'file', 'line 7 has 3 fields but the header has 5');
    expectInvalid(() => parseCsv('a,b\n1,2,3\n'), 'file', 'line 2 has 3 fields but the header has 2');
  });

  it('rejects duplicate and empty header names', () => {
    expectInvalid(() => parseCsv('a,b,a\n1,2,3\n'), 'file', 'columns 1 and 3', 'unique');
    expectInvalid(() => parseCsv('a, ,c\n1,2,3\n'), 'file', 'line 1', 'empty name for column 2');
  });

  it('parses a 10,000 × 785 file quickly', () => {
    const header = ['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i}`)].join(',');
    const row = Array.from({ length: 785 }, (_, i) => (i * 37) % 256).join(',');
    const text = `${header}\n${`${row}\n`.repeat(10_000)}`;
    const started = performance.now();
    const { rows } = parseCsv(text);
    const elapsed = performance.now() - started;
    expect(rows).toHaveLength(10_000);
    expect(rows[9_999]).toHaveLength(785);
    expect(elapsed).toBeLessThan(4000);
  });
});
