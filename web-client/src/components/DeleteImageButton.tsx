import { useEffect, useState } from "react";
import { request } from "../api/graphql-client.ts";
import { DeleteImageDocument } from "../generated/graphql.ts";

/** Deleting cannot be undone, so it takes a second press; the first one only asks (for 4 s). */
export function DeleteImageButton({ imageId, label, onDeleted }: { imageId: string; label: string; onDeleted(): void }) {
  const [stage, setStage] = useState<"idle" | "confirm" | "deleting" | "failed">("idle");
  useEffect(() => {
    if (stage !== "confirm") return;
    const timer = setTimeout(() => setStage("idle"), 4000);
    return () => clearTimeout(timer);
  }, [stage]);

  const press = async () => {
    if (stage !== "confirm") return setStage("confirm");
    setStage("deleting");
    try {
      await request(DeleteImageDocument, { id: imageId });
      onDeleted();
    } catch {
      setStage("failed");
    }
  };
  const text = { idle: "Delete", confirm: "Confirm delete", deleting: "Deleting…", failed: "Delete failed: retry" }[stage];
  return (
    <button type="button" className={`button-small ${stage === "confirm" || stage === "failed" ? "button-danger" : "button-ghost"}`} disabled={stage === "deleting"} aria-label={stage === "idle" ? label : text} onClick={() => void press()}>
      {text}
    </button>
  );
}
