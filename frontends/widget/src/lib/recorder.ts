/**
 * Voice messages with MediaRecorder. Few visitors record one, so the Composer downloads this module
 * when the record button is first pressed.
 */

export type RecordingProblem = 'micUnsupported' | 'micDenied' | 'micUnavailable';

/**
 * Asks for the microphone and starts recording; returns the recorder (stop it to finish) or, when
 * recording is impossible, the message key saying why. When it stops, `onDone` gets the recording
 * unless `discard()` says otherwise or nothing was recorded.
 */
export async function startRecording(handlers: {
  onStopped: () => void;
  discard: () => boolean;
  onDone: (blob: Blob, name: string) => void;
}): Promise<MediaRecorder | RecordingProblem> {
  if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
    return 'micUnsupported';
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    const name = error instanceof DOMException ? error.name : '';
    return name === 'NotAllowedError' || name === 'SecurityError'
      ? 'micDenied'
      : name === 'NotFoundError' || name === 'NotReadableError'
        ? 'micUnavailable'
        : 'micUnsupported';
  }
  const chunks: Blob[] = [];
  const active = new MediaRecorder(stream);
  active.ondataavailable = (event) => {
    if (event.data.size > 0) chunks.push(event.data);
  };
  active.onstop = () => {
    for (const track of stream.getTracks()) track.stop();
    handlers.onStopped();
    if (handlers.discard() || chunks.length === 0) return;
    const type = active.mimeType || 'audio/webm';
    const blob = new Blob(chunks, { type });
    const extension = type.includes('ogg') ? 'ogg' : type.includes('mp4') ? 'm4a' : 'webm';
    handlers.onDone(blob, `voice-message.${extension}`);
  };
  // Timeslices keep data flowing, so even a short recording has content when stopped.
  active.start(250);
  return active;
}
