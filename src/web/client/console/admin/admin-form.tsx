/**
 * The forms of the administration pages: a labelled control with its hint and error tied to it (a text input,
 * a choice from a list, the choice of a folder), what a submission keeps while the API answers and what it
 * said was wrong, and the end of a form (a failure no field explains, the submit button).
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Translate } from '../../../../i18n';
import { ApiError } from '../../shared/http';
import { describeError, fieldErrors } from '../context';
import type { FolderTree } from './admin-api';
import { FailureAlert } from './admin-frame';

/** A labelled control with its hint and its error, both announced with it. */
export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children: (describedBy: string | undefined, invalid: true | undefined) => ComponentChildren;
}) {
  const describedBy = [hint ? `${id}-hint` : undefined, error ? `${id}-error` : undefined].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(describedBy, error ? true : undefined)}
      {hint && (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} class="error">
          {error}
        </p>
      )}
    </div>
  );
}

interface FieldProps {
  id: string;
  label: string;
  error?: string;
  hint?: string;
}

/** A text input (nothing the browser should fill in from memory) in a `Field`. */
export function TextField({
  id,
  label,
  error,
  hint,
  type,
  required,
  value,
  onInput,
}: FieldProps & { type?: 'email'; required?: boolean; value: string; onInput(value: string): void }) {
  return (
    <Field id={id} label={label} error={error} hint={hint}>
      {(describedBy, invalid) => (
        <input
          id={id}
          type={type}
          required={required}
          autoComplete="off"
          value={value}
          onInput={(event) => onInput((event.target as HTMLInputElement).value)}
          aria-describedby={describedBy}
          aria-invalid={invalid}
        />
      )}
    </Field>
  );
}

export interface Choice<T extends string> {
  value: T;
  label: string;
}

/** A list to choose one from; its label is the caller's (a `Field`'s, or one of its own). */
export function Select<T extends string>({
  id,
  value,
  choices,
  disabled,
  describedBy,
  invalid,
  onChange,
}: {
  id: string;
  value: T;
  choices: ReadonlyArray<Choice<T>>;
  disabled?: boolean;
  describedBy?: string;
  invalid?: true;
  // NoInfer: the choices say what T is; a state setter passed here would widen it.
  onChange(value: NoInfer<T>): void;
}) {
  return (
    <select
      id={id}
      value={value}
      disabled={disabled}
      onChange={(event) => onChange((event.target as HTMLSelectElement).value as T)}
      aria-describedby={describedBy}
      aria-invalid={invalid}
    >
      {choices.map((choice) => (
        <option key={choice.value} value={choice.value}>
          {choice.label}
        </option>
      ))}
    </select>
  );
}

/** A `Select` in a `Field`. */
export function SelectField<T extends string>({
  id,
  label,
  error,
  hint,
  value,
  choices,
  onChange,
}: FieldProps & { value: T; choices: ReadonlyArray<Choice<T>>; onChange(value: NoInfer<T>): void }) {
  return (
    <Field id={id} label={label} error={error} hint={hint}>
      {(describedBy, invalid) => <Select id={id} value={value} choices={choices} describedBy={describedBy} invalid={invalid} onChange={onChange} />}
    </Field>
  );
}

/** One folder of the tree, each shown by its path; the empty value ('') is "no folder" and says what that means. */
export function FolderSelect({
  tree,
  noFolder,
  ...field
}: FieldProps & { tree: FolderTree; noFolder: string; value: string; onChange(folderId: string): void }) {
  return <SelectField {...field} choices={[{ value: '', label: noFolder }, ...tree.map(({ folder, path }) => ({ value: folder.id, label: path }))]} />;
}

/**
 * A form's submission: busy while the API answers; what it refused, by field (and for a conflict, 409, the
 * caller's words on the field it concerns); anything else as one failure for the whole form.
 */
export function useSubmission(t: Translate) {
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | undefined>();
  const submit = async (send: () => Promise<void>, onConflict?: Record<string, string>) => {
    setBusy(true);
    setErrors({});
    setFailure(undefined);
    try {
      await send();
    } catch (error) {
      if (onConflict && error instanceof ApiError && error.status === 409) setErrors(onConflict);
      else {
        const byField = fieldErrors(error, t);
        setErrors(byField);
        if (Object.keys(byField).length === 0) setFailure(describeError(error, t));
      }
    } finally {
      setBusy(false);
    }
  };
  return { busy, errors, setErrors, failure, submit };
}

/** The end of a form: what went wrong that no field explains, then the submit button. */
export function FormEnd({ failure, disabled, submit }: { failure?: string; disabled: boolean; submit: string }) {
  return (
    <>
      <FailureAlert failure={failure} />
      <SubmitButton disabled={disabled}>{submit}</SubmitButton>
    </>
  );
}

export function SubmitButton({ disabled, children }: { disabled: boolean; children: ComponentChildren }) {
  return (
    <div class="actions">
      <button type="submit" disabled={disabled}>
        {children}
      </button>
    </div>
  );
}
