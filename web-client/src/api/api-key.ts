/**
 * The API key, for a server that wants one (ATELIER_API_KEYS). When the server refuses an operation
 * for want of a key (HTTP 401 / UNAUTHENTICATED, or a WebSocket closed with 4403), the client asks
 * the person for it once (every operation waiting at that moment waits on the same question),
 * keeps it in localStorage, and sends it from then on: `Authorization: Bearer <key>` over HTTP and
 * `{ authorization: "Bearer <key>" }` in graphql-ws's connection_init. A key the server refuses is
 * forgotten, and the question asked again, saying so.
 */
import { useSyncExternalStore } from "react";

const STORAGE_KEY = "atelier.apiKey";

/** What the dialog needs while the client waits for a key. */
export interface KeyQuestion {
  /** The key last sent was refused (rather than none sent). */
  refused: boolean;
  answer(key: string): void;
  /** The person would rather not: the operations waiting fail. */
  decline(): void;
}

/** The value of an Authorization header for the stored key, or undefined without one. */
export function authorization(): string | undefined {
  const key = localStorage.getItem(STORAGE_KEY);
  return key ? `Bearer ${key}` : undefined;
}

let question: KeyQuestion | undefined;
let asking: Promise<void> | undefined;
const listeners = new Set<() => void>();
const waitingForKey = new Set<() => void>();

function setQuestion(next: KeyQuestion | undefined) {
  question = next;
  for (const listener of listeners) listener();
}

/**
 * Asks for a key, after the server refused an operation that carried `sent` (the Authorization
 * value, or undefined). Resolves once a key is stored (at once when another one was stored since
 * `sent` went out); rejects when the person declines.
 */
export function askForApiKey(sent: string | undefined): Promise<void> {
  const current = authorization();
  if (current !== undefined && current !== sent) return Promise.resolve();
  if (current !== undefined) localStorage.removeItem(STORAGE_KEY);
  asking ??= new Promise<void>((resolve, reject) => {
    const settle = () => {
      asking = undefined;
      setQuestion(undefined);
    };
    setQuestion({
      refused: sent !== undefined,
      answer: (key) => {
        localStorage.setItem(STORAGE_KEY, key.trim());
        settle();
        resolve();
        for (const wake of waitingForKey) wake();
        waitingForKey.clear();
      },
      decline: () => {
        settle();
        reject(new Error("This needs an API key, and none was given."));
      },
    });
  });
  return asking;
}

/** Resolves the next time a key is given, whoever asked for it. */
export function nextApiKey(): Promise<void> {
  return new Promise((resolve) => waitingForKey.add(resolve));
}

/** The question being asked, or undefined; for the dialog. */
export function useKeyQuestion(): KeyQuestion | undefined {
  return useSyncExternalStore(
    (onChange) => {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    () => question,
  );
}
