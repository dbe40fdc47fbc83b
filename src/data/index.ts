/** The data module: CSV (or, for text and sequences, JSON Lines) upload → prepared dataset, and predict-time encoding. */
export { parseCsv, type ParsedCsv } from './csv.ts';
export { prepareDataset, DEFAULT_VALIDATION_FRACTION, type PrepareInput, type PreparedDataset } from './prepare.ts';
export { prepareImageZip, isZipArchive, type ImageZipOptions } from './image-zip.ts';
export {
  preprocessingSchema,
  type Preprocessing,
  type FeatureColumn,
  type NumericColumn,
  type CategoricalColumn,
  type PixelScaling,
} from './preprocessing.ts';
export type { DatasetSummary, ColumnSummary, SplitSummary, TextSummary, SequenceSummary, SeriesSummary } from './summary.ts';
export { tokenize } from './tokenize.ts';
export { PAD_TOKEN, OOV_TOKEN, PAD_ID, OOV_ID, MAX_VOCABULARY } from './text-encoder.ts';
export { MIN_SEQUENCE_LENGTH, MAX_SEQUENCE_LENGTH } from './text.ts';
export {
  encodeInstances,
  decodePredictions,
  NonFiniteOutputError,
  MAX_TEXT_LENGTH,
  MAX_INSTANCES,
  type Prediction,
  type ClassPrediction,
  type ValuePrediction,
  type ForecastPrediction,
} from './encode.ts';
export { forecastSpec, checkForecastSettings, cutWindows, lastValueMae, windowCounts, MAX_WINDOW, MAX_HORIZON, type Series } from './forecast.ts';
export { mnistSampleCsv, DEFAULT_MNIST_SAMPLE_COUNT } from './mnist-sample.ts';
export { mulberry32, shuffleInPlace, type Rng } from '../rng.ts';
export { studySpec, trainingData, type TrainingData, type ForecastSettings } from './training-data.ts';
export { baselineOf, type Baseline } from './baseline.ts';
export { rawInstances, rawTargets, UNSEEN_CATEGORY, type RawTarget } from './raw-rows.ts';
export { MISSING_CATEGORY } from './values.ts';
