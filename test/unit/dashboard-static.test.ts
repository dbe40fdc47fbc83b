import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLIC_DIR, publicFile, vendorFiles } from '../../src/dashboard/static.ts';

// The HTTP layer already normalizes dot segments and keeps %2F encoded; these check the guard
// itself, for whatever path reaches it.
describe('dashboard file guard', () => {
  const root = join(import.meta.dirname, '../..');

  it('refuses every relative path that leaves the public folder or names no plain file', async () => {
    const toPackage = relative(PUBLIC_DIR, join(root, 'package.json'));
    expect(toPackage).toMatch(/^\.\.\//);
    const refused = [
      toPackage,
      `pages/../${toPackage}`,
      join(root, 'package.json'),
      '/etc/hostname.json',
      '../index.html',
      './index.html',
      'pages//study.js',
      '.hidden.js',
      'pages/.study.js',
      'app.js\0.css',
      'app.js/',
      '..\\..\\..\\package.json',
      'app%2ejs',
      'index.ts',
      '',
    ];
    for (const path of refused) expect(await publicFile(path), JSON.stringify(path)).toBeNull();
  });

  it('serves plain names under the folder with their fixed type', async () => {
    expect((await publicFile('index.html'))?.contentType).toBe('text/html; charset=utf-8');
    expect((await publicFile('pages/study.js'))?.contentType).toBe('text/javascript; charset=utf-8');
    expect(await publicFile('pages/no-such-page.js')).toBeNull();
  });

  it('reads only the allowlisted vendor files', async () => {
    const vendor = vendorFiles();
    expect((await vendor('preact.mjs'))?.contentType).toBe('text/javascript; charset=utf-8');
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty', '../package.json', 'preact']) expect(await vendor(name), name).toBeNull();
  });
});
