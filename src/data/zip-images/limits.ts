/**
 * Limits on an uploaded image zip. The upload itself is capped by MAX_UPLOAD_BYTES, but a
 * zip can expand far beyond its size, so what it expands to is capped here, before anything
 * is inflated or decoded.
 */

export interface ImageZipLimits {
  /** Most bytes the zip's images may expand to, as its central directory declares. @defaultValue 512 MiB */
  maxUncompressedBytes: number;
  /** Most entries (images, folders and ignored files together) a zip may hold. @defaultValue 100,000 */
  maxEntries: number;
  /** Longest side, in pixels, of an image in the zip and of the dataset's shape. @defaultValue 4096 */
  maxImageSide: number;
  /**
   * Most pixel values (`images × h × w × c`) a dataset may hold.
   * @defaultValue 2^27, which is 512 MiB of stored float32 features (e.g. 171,000 images of 28×28×1, or 890 of 224×224×3)
   */
  maxPixelValues: number;
  /** Most pixels (`w × h`, by its header) one image may have. @defaultValue 2^24 (a 4096×4096 image) */
  maxImagePixels: number;
  /**
   * Most pixels the zip's images may have together, by their headers, before any is decoded.
   * Decoding time grows with pixels, not bytes: a blank 4096×4096 PNG is 16 KB, and decoding and
   * resizing one took about 0.7 s here, so the default bounds a zip's decoding to about 20 s.
   * @defaultValue 2^29 (32 images of 4096×4096, 10,700 of 224×224, or 685,000 of 28×28)
   */
  maxDecodedPixels: number;
}

/** The limits every upload runs under. */
export const IMAGE_ZIP_LIMITS: Readonly<ImageZipLimits> = {
  maxUncompressedBytes: 512 * 1024 * 1024,
  maxEntries: 100_000,
  maxImageSide: 4096,
  maxPixelValues: 2 ** 27,
  maxImagePixels: 2 ** 24,
  maxDecodedPixels: 2 ** 29,
};
