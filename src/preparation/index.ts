/** Dataset preparation in worker threads, off the api's event loop. */
export { createPreparer, type Preparer, type PreparerOptions, type Place, type Blame } from './pool.ts';
export type { PrepareJob, TableJob, ImageZipJob, MnistJob } from './jobs.ts';
