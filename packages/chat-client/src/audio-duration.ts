/**
 * The length of a recording before anyone plays it. Browsers' MediaRecorder writes WebM without a
 * duration in its header, so an <audio> element reports Infinity (and its controls "0:00") until
 * it has played to the end. Seeking far past the end makes the browser find the real end; the
 * position then goes back to the start.
 */
export function watchDuration(audio: HTMLAudioElement, onDuration: (seconds: number) => void) {
  let probing = false;
  const report = () => {
    if (!Number.isFinite(audio.duration) || audio.duration <= 0) return false;
    if (probing) {
      probing = false;
      audio.currentTime = 0;
    }
    onDuration(audio.duration);
    return true;
  };
  const onMetadata = () => {
    if (report()) return;
    probing = true;
    audio.currentTime = Number.MAX_SAFE_INTEGER;
  };
  const onChange = () => void report();
  audio.addEventListener('loadedmetadata', onMetadata);
  audio.addEventListener('durationchange', onChange);
  audio.addEventListener('timeupdate', onChange);
  if (audio.readyState >= 1) onMetadata();
  return () => {
    audio.removeEventListener('loadedmetadata', onMetadata);
    audio.removeEventListener('durationchange', onChange);
    audio.removeEventListener('timeupdate', onChange);
  };
}
