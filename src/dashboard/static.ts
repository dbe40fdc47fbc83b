import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join, resolve, sep } from 'node:path';

/** The dashboard's own files: plain ES modules, styles and the page, served as they are (no build step). */
export const PUBLIC_DIR = join(import.meta.dirname, 'public');

/** The only types served; a file of any other type is answered 404, so nothing is ever sniffed. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * A relative path made of plain names only: no `..`, no empty or hidden segments, no
 * backslashes or encoded characters. Checked before the path touches the file system.
 */
const SAFE_PATH = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:\/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)*$/;

export interface StaticFile {
  body: Uint8Array;
  contentType: string;
  etag: string;
}

function fileOf(body: Uint8Array, path: string): StaticFile | null {
  const contentType = CONTENT_TYPES[extname(path)];
  if (!contentType) return null;
  return { body, contentType, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
}

/** A file under the public folder by its relative path, or null when the path is not a safe name of an existing file. */
export async function publicFile(relative: string): Promise<StaticFile | null> {
  if (!SAFE_PATH.test(relative) || !CONTENT_TYPES[extname(relative)]) return null;
  const full = resolve(PUBLIC_DIR, relative);
  // Belt and braces: the pattern above already rules out every way out of the folder.
  if (!full.startsWith(PUBLIC_DIR + sep)) return null;
  try {
    // Read on each request: the files are small, and an edited page shows on reload.
    return fileOf(await readFile(full), full);
  } catch {
    return null;
  }
}

const require = createRequire(import.meta.url);

/**
 * A package's root folder, searched the way Node searches node_modules (so hoisting does not
 * matter); not through require.resolve('<name>/package.json'), which a package's "exports" may refuse (htm's does).
 */
function packageDir(name: string): string {
  for (const dir of require.resolve.paths(name) ?? []) {
    if (existsSync(join(dir, name, 'package.json'))) return join(dir, name);
  }
  throw new Error(`the dashboard needs the package ${name}; run npm install`);
}

/**
 * The browser modules the pages import, by the name the import map gives them. Only these
 * files of node_modules are reachable; each is a self-contained ES module (hooks imports the
 * bare name "preact", which the import map resolves).
 */
export const VENDOR: Record<string, { pkg: string; file: string }> = {
  'preact.mjs': { pkg: 'preact', file: 'dist/preact.mjs' },
  'preact-hooks.mjs': { pkg: 'preact', file: 'hooks/dist/hooks.mjs' },
  'htm.mjs': { pkg: 'htm', file: 'dist/htm.module.js' },
  'echarts.mjs': { pkg: 'echarts', file: 'dist/echarts.esm.min.mjs' },
};

/** Reads the allowlisted vendor files once each: they change only with an install, which restarts the service. */
export function vendorFiles(): (name: string) => Promise<StaticFile | null> {
  const cache = new Map<string, Promise<StaticFile | null>>();
  return (name) => {
    if (!Object.hasOwn(VENDOR, name)) return Promise.resolve(null);
    let file = cache.get(name);
    if (!file) {
      const { pkg, file: path } = VENDOR[name]!;
      file = readFile(join(packageDir(pkg), path)).then((body) => fileOf(body, name));
      cache.set(name, file);
    }
    return file;
  };
}

/**
 * The Content-Security-Policy of the dashboard's page: scripts only from this origin plus the
 * inline import map, allowed by its hash (an import map cannot be loaded from a file in
 * Chromium). Everything else comes from this origin too; nothing is loaded from a CDN.
 */
export function contentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    // ECharts and preact set element.style through the CSSOM, which CSP allows; no inline <style> or style="" is used.
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
