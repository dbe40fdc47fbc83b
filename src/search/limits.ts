/**
 * Limits on the size of a search space, so that validating, storing and sampling one is
 * bounded work. They apply when a study is created and when its space is read back.
 */

/** Most choices of one categorical distribution. */
export const MAX_CHOICES = 1_000;

/** Longest string choice (or string constant), in characters. */
export const MAX_CHOICE_LENGTH = 200;

/** Most parameters of one family in a stored space (the builders know about a dozen each). */
export const MAX_FAMILY_PARAMS = 64;
