/**
 * Image sizes, which the reward reads from the training prompt's `Image size: (W x H)` line.
 *
 * @module
 */
import { Schema } from "effect";

/** Width and height of the original image in pixels (positive integers). */
export const ImageSize = Schema.Struct({
  width: Schema.Int.check(Schema.isGreaterThan(0)),
  height: Schema.Int.check(Schema.isGreaterThan(0)),
});
/** A decoded {@link ImageSize}. */
export type ImageSize = typeof ImageSize.Type;

/**
 * The prompt has no usable `Image size: (W x H)` line, so boxes cannot be normalised. The official
 * reward raises `ValueError` here too; the prompt is trusted input, so this is a data error.
 */
export class ImageSizeMissing extends Schema.TaggedError<ImageSizeMissing>()("ImageSizeMissing", {
  reason: Schema.String,
  /** The first characters of the prompt, to find the record. */
  excerpt: Schema.String,
}) {
  override get message(): string {
    return `No image size in the prompt (${this.reason}); expected a line ` +
      `"Image size: (W x H)" with positive integers. Prompt begins: ${
        JSON.stringify(this.excerpt)
      }`;
  }
}
