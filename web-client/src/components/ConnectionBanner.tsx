import { askForApiKey, authorization } from "../api/api-key.ts";
import { useConnectionState } from "../api/ws-client.ts";

/** Says when live updates are not coming: the socket is down (and retrying), or it needs a key. */
export function ConnectionBanner() {
  const state = useConnectionState();
  if (state === "reconnecting") {
    return (
      <div className="banner" role="status">
        <span className="spinner" aria-hidden="true" /> Connection to the server lost. Reconnecting…
      </div>
    );
  }
  if (state === "needs-key") {
    return (
      <div className="banner" role="status">
        Live updates need an API key.
        <button type="button" className="button-small" onClick={() => void askForApiKey(authorization()).catch(() => undefined)}>
          Enter API key
        </button>
      </div>
    );
  }
  return null;
}
