/** A labelled form field with its validation message wired to `aria-describedby`. */
import type { ComponentChildren } from "preact";

/** Props of {@linkcode Field}. */
export interface FieldProps {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string;
  class?: string;
  children: ComponentChildren;
}

/** Wraps one control: label, control, hint, error. */
export function Field({ id, label, error, hint, class: cls = "", children }: FieldProps) {
  return (
    <div class={`field ${error ? "field-invalid" : ""} ${cls}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && !error ? <p class="field-hint" id={`${id}-hint`}>{hint}</p> : null}
      {error
        ? <p class="field-error" id={`${id}-error`} role="alert" data-field-error={id}>{error}</p>
        : null}
    </div>
  );
}

/** `aria-describedby`/`aria-invalid` for a control inside a {@linkcode Field}. */
export function describedBy(id: string, error: string | undefined, hint?: boolean) {
  return {
    "aria-invalid": error ? true : undefined,
    "aria-describedby": error ? `${id}-error` : hint ? `${id}-hint` : undefined,
  };
}
