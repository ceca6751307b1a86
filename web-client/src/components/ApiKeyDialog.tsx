import { useId, useState } from "react";
import { useKeyQuestion } from "../api/api-key.ts";
import { Modal } from "./Modal.tsx";

/** Asks for the API key when the server wants one (api/api-key.ts): once, whatever was waiting. */
export function ApiKeyDialog() {
  const question = useKeyQuestion();
  const [key, setKey] = useState("");
  const title = useId();
  if (!question) return null;
  return (
    <Modal labelledBy={title} onClose={question.decline} className="modal-narrow">
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          if (key.trim()) question.answer(key);
          setKey("");
        }}
      >
        <h2 id={title}>This server needs an API key</h2>
        <p className="muted">
          Ask whoever runs this Atelier for one of its keys (ATELIER_API_KEYS). It is kept in this browser and sent with every request.
        </p>
        {question.refused && <p className="notice notice-error">That key was not accepted.</p>}
        <div className="field">
          <label htmlFor={`${title}-key`}>API key</label>
          <input id={`${title}-key`} type="password" autoComplete="off" spellCheck={false} required autoFocus value={key} onChange={(event) => setKey(event.target.value)} />
        </div>
        <div className="actions">
          <button type="button" className="button-ghost" onClick={question.decline}>
            Not now
          </button>
          <button type="submit" className="button-primary">
            Use this key
          </button>
        </div>
      </form>
    </Modal>
  );
}
