-- A rung keeps the metrics the trial had there, so multi-objective ASHA can rank a rung by every objective and constraint.
ALTER TABLE "TrialRung" ADD COLUMN "metrics" TEXT;
