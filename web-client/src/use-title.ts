import { useEffect } from "react";

/** The tab's title for a view: "<what> · Atelier". */
export function useTitle(what: string | undefined): void {
  useEffect(() => {
    document.title = what ? `${what} · Atelier` : "Atelier";
  }, [what]);
}
