import { useEffect, useRef, type ReactNode } from "react";

/**
 * A modal dialog on the native <dialog>: it traps focus, Escape closes it, focus returns to where
 * it was. Shown while mounted; `onClose` runs on Escape or a click outside its box.
 */
export function Modal({ labelledBy, onClose, className, children }: { labelledBy: string; onClose(): void; className?: string; children: ReactNode }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current!;
    element.showModal();
    return () => element.close();
  }, []);
  return (
    <dialog
      ref={dialog}
      className={`modal${className ? ` ${className}` : ""}`}
      aria-labelledby={labelledBy}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => event.target === dialog.current && onClose()}
    >
      <div className="modal-body">{children}</div>
    </dialog>
  );
}
