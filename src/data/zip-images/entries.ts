/**
 * An image zip's listing: which files are images, which class folder each is in, and the
 * limits on what the zip expands to, all checked before any image is decoded.
 */
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { PayloadTooLargeError, ValidationError } from '../../errors.ts';
import { compareText } from '../values.ts';
import type { ImageZipLimits } from './limits.ts';

/** One image file of the zip. */
export interface ImageEntry {
  /** Path inside the zip, with any backslashes turned into slashes. */
  path: string;
  /** The name of the class folder it is in. */
  label: string;
  /** The file's bytes, inflated. */
  bytes: Uint8Array;
}

export interface ZipListing {
  /** Every image, sorted by path. */
  images: ImageEntry[];
  /** The one top-level folder that wrapped the class folders (`dataset/cat/1.png`), if there was one. */
  root?: string;
  /** Files skipped as clutter: anything under `__MACOSX/`, dotfiles and dot-folders, `Thumbs.db`, `desktop.ini`. */
  ignored: number;
}

const IMAGE_FILE = /\.(png|jpe?g)$/i;
const CLUTTER_FILES = new Set(['thumbs.db', 'desktop.ini']);
const LAYOUT = '<class>/<image>, optionally inside one top-level folder';

interface Candidate {
  /** The name as fflate reports it, to find the entry again. */
  name: string;
  path: string;
  segments: string[];
}

/**
 * Lists the images of a zip laid out as one folder per class. `fileName` names the zip in
 * messages about it as a whole.
 * @throws ValidationError on field `file` naming the zip or the offending path;
 * PayloadTooLargeError when the zip would expand past the limits.
 */
export function readImageZip(bytes: Uint8Array, fileName: string, limits: Pick<ImageZipLimits, 'maxEntries' | 'maxUncompressedBytes'>): ZipListing {
  const candidates: Candidate[] = [];
  let ignored = 0;
  let entries = 0;
  let expandedBytes = 0;
  // First pass: the central directory only (the filter declines every file), so the limits hold
  // before anything is inflated. Inflating later writes into buffers of the declared sizes, so a
  // size that lies truncates the file (and it fails to decode) rather than growing past the cap.
  const list = (file: UnzipFileInfo): boolean => {
    entries++;
    if (entries > limits.maxEntries) {
      throw new PayloadTooLargeError('file', fileName, `holds more than ${limits.maxEntries} entries, the most an image zip may hold`);
    }
    const path = file.name.replaceAll('\\', '/').normalize('NFC');
    if (path.endsWith('/')) return false;
    const segments = path.split('/').filter((s) => s !== '' && s !== '.');
    const base = segments.at(-1) ?? '';
    if (segments.some((s) => s === '__MACOSX' || s.startsWith('.')) || CLUTTER_FILES.has(base.toLowerCase())) {
      ignored++;
      return false;
    }
    if (!IMAGE_FILE.test(base)) {
      throw new ValidationError('file', path, `is not a PNG or JPEG file (.png, .jpg, .jpeg); an image zip holds only images, laid out as ${LAYOUT}`);
    }
    if (file.compression !== 0 && file.compression !== 8) {
      throw new ValidationError('file', path, `is compressed with zip method ${file.compression}; only stored (0) and deflate (8) are supported`);
    }
    expandedBytes += file.originalSize;
    if (expandedBytes > limits.maxUncompressedBytes) {
      throw new PayloadTooLargeError('file', fileName, `expands to more than ${limits.maxUncompressedBytes} bytes of images, the most an image zip may hold`);
    }
    candidates.push({ name: file.name, path, segments });
    return false;
  };
  unzip(bytes, fileName, list);

  if (candidates.length === 0) {
    const rule = ignored > 0 ? `holds no images, only ${ignored} ignored file(s) such as __MACOSX/ or dotfiles` : 'is an empty zip archive';
    throw new ValidationError('file', fileName, `${rule}; it must hold PNG or JPEG images laid out as ${LAYOUT}`);
  }
  const root = wrappingFolder(candidates);
  const labelOf = new Map<string, string>();
  for (const c of candidates) {
    const inside = root === undefined ? c.segments : c.segments.slice(1);
    if (inside.length < 2) {
      const where = root === undefined ? 'at the top level of the zip' : `directly inside the top-level folder "${root}"`;
      throw new ValidationError('file', c.path, `is ${where}; put each image in a folder named after its class (${LAYOUT})`);
    }
    if (inside.length > 2) throw new ValidationError('file', c.path, `is nested too deeply; the layout is ${LAYOUT}`);
    labelOf.set(c.name, inside[0] as string);
  }

  // Second pass: inflate the images; `current` names the file whose data turned out corrupt.
  let current = '';
  const files = unzip(bytes, fileName, (file) => {
    current = file.name;
    return labelOf.has(file.name);
  }, () => current.replaceAll('\\', '/'));
  const images = candidates.map((c) => ({ path: c.path, label: labelOf.get(c.name) as string, bytes: files[c.name] ?? new Uint8Array(0) }));
  images.sort((a, b) => compareText(a.path, b.path));
  return root === undefined ? { images, ignored } : { images, root, ignored };
}

/** The first segment every path shares, when it wraps class folders (some path is at least three deep). */
function wrappingFolder(candidates: Candidate[]): string | undefined {
  const first = candidates[0]?.segments[0];
  const shared = candidates.every((c) => c.segments[0] === first);
  return shared && candidates.some((c) => c.segments.length >= 3) ? first : undefined;
}

/** fflate's unzip, with its errors turned into messages about the upload. */
function unzip(bytes: Uint8Array, fileName: string, filter: (file: UnzipFileInfo) => boolean, failing?: () => string): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, { filter });
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    if (failing !== undefined) throw new ValidationError('file', failing(), `could not be inflated from the zip (${reason}); the archive is corrupt`);
    throw new ValidationError('file', fileName, `is not a readable zip archive (${reason})`);
  }
}
