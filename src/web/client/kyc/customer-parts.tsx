/** Pieces of the customer's page: its frame, failures in words, the reader's time zone. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Translate } from '../../../i18n';
import { ApiError, NetworkError } from '../shared/http';

/** Says what went wrong in words a customer understands; never a code or a stack. */
export function describeFailure(error: unknown, t: Translate): string {
  if (error instanceof NetworkError) return t('common:offline');
  if (error instanceof ApiError && error.status === 429) return t('kyc:customer.errors.tooManyTries');
  return t('common:genericError');
}

/** The page frame; its heading takes focus when the screen changes, so a screen reader hears the new state. */
export function Frame({ heading, children, wide }: { heading: string; children: ComponentChildren; wide?: boolean }) {
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => title.current?.focus(), [heading]);
  return (
    <main class={wide ? 'page kyc-page' : 'page'}>
      <p class="brand">Sigill</p>
      <div class="card">
        <h1 ref={title} tabIndex={-1}>
          {heading}
        </h1>
        {children}
      </div>
    </main>
  );
}

/** The customer's own time zone: the case says nothing of the organisation's, and the reader's is what they plan by. */
export const readerZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

