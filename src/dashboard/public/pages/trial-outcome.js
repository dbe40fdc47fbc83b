// Why a trial ended, in words: kept apart from the page so that it needs no DOM.

/** Why a trial ended (or where it stands), in words, from its record and its study's config. */
export function outcomeOf(trial, config) {
  const maxEpochs = config?.budget?.maxEpochs;
  switch (trial.state) {
    case 'completed':
      if (maxEpochs && trial.epochs < maxEpochs) {
        return `stopped early after epoch ${trial.epochs}: no improvement of at least ${config.earlyStopping?.minDelta ?? 0} for ${config.earlyStopping?.patience ?? '?'} epochs after its best epoch ${trial.bestEpoch ?? '?'}`;
      }
      return `trained all ${trial.epochs} epochs; its best epoch was ${trial.bestEpoch ?? '?'}`;
    case 'pruned':
      return `pruned after epoch ${trial.epochs}${trial.error ? `: ${trial.error}` : ''}`;
    case 'failed':
      return `failed${trial.error ? `: ${trial.error}` : ''}`;
    case 'cancelled':
      return `cancelled${trial.error ? `: ${trial.error}` : ' with its study'}`;
    case 'paused':
      return `paused at rung ${trial.rung} after epoch ${trial.epochs}, waiting for the scheduler to promote it`;
    case 'running':
      return `running: epoch ${trial.epochs} done`;
    default:
      return 'queued, waiting for a worker';
  }
}
