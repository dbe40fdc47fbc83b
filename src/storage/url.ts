/** Which generated client and migration folder a DATABASE_URL needs. */
export function providerOf(url: string): 'sqlite' | 'postgresql' {
  return url.startsWith('file:') ? 'sqlite' : 'postgresql';
}

/** The file path of a `file:` URL (relative paths are relative to the working directory). */
export function sqlitePath(url: string): string {
  const path = url.slice('file:'.length).split('?')[0] ?? '';
  return path === '' ? ':memory:' : path;
}
