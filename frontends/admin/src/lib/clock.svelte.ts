/** A clock that ticks every 5 s so relative times ("2 minutes ago") and wait times keep updating. */
export const clock = $state({ now: Date.now() });
setInterval(() => {
  clock.now = Date.now();
}, 5_000);
