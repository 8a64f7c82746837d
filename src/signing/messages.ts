/**
 * The words Sigill sends to people. Plain text on purpose: it survives every mail client, and a PIN or
 * a link never hides behind markup. Each function is pure, so tests can assert what a person reads.
 */
import type { RoundStatus } from '../workflows/signing-round';

interface RequestFacts {
  title: string;
  organizationName: string;
  message: string | null;
  expiresAt: Date;
}

function pinHint(pinDelivery: 'sms' | 'sender'): string {
  return pinDelivery === 'sms'
    ? 'You will need the PIN we send to your phone by SMS.'
    : `You will need a PIN, which the sender gives you separately.`;
}

export function invitationEmail(request: RequestFacts, signer: { name: string; pinDelivery: 'sms' | 'sender' }, link: string) {
  return {
    subject: `Please sign: ${request.title}`,
    text: [
      `Hello ${signer.name},`,
      '',
      `${request.organizationName} asks you to sign "${request.title}".`,
      ...(request.message ? ['', request.message] : []),
      '',
      `Open your personal signing link: ${link}`,
      pinHint(signer.pinDelivery),
      `The request expires on ${request.expiresAt.toUTCString()}.`,
      '',
      'This link is personal: do not forward it.',
    ].join('\n'),
  };
}

export function reminderEmail(request: RequestFacts, signer: { name: string; pinDelivery: 'sms' | 'sender' }, link: string) {
  return {
    subject: `Reminder: please sign ${request.title}`,
    text: [
      `Hello ${signer.name},`,
      '',
      `"${request.title}" from ${request.organizationName} is still waiting for your signature.`,
      '',
      `Your personal signing link: ${link}`,
      pinHint(signer.pinDelivery),
      `The request expires on ${request.expiresAt.toUTCString()}.`,
    ].join('\n'),
  };
}

export function pinSms(request: { title: string }, pin: string): string {
  return `Your Sigill PIN for "${request.title.slice(0, 60)}" is ${pin}. Do not share it.`;
}

const outcomeSentence: Record<RoundStatus, string> = {
  completed: 'has been signed by everyone and sealed',
  declined: 'was declined by a signer',
  expired: 'expired before everyone signed',
  cancelled: 'was cancelled by the sender',
  failed: 'could not be completed because of a technical problem; the sender has been told',
  pending: 'is still pending',
};

/** Who ended a declined round, and the reason they gave: read from the audit trail's `declined` event. */
export interface DeclineFacts {
  signerName: string;
  reason: string;
}

/**
 * Names the decliner (or "you", to the decliner, as a record of what the others were told) and quotes the
 * reason line by line: it is the decliner's own words, and a reader must tell them from Sigill's text.
 */
function declineLines(request: RequestFacts, decline: DeclineFacts, recipientIsDecliner: boolean): string[] {
  const by = recipientIsDecliner ? 'you' : decline.signerName;
  return [
    `"${request.title}" from ${request.organizationName} was declined by ${by}.`,
    '',
    'The reason given:',
    ...decline.reason.split(/\r\n|\r|\n/).map((line) => (line ? `> ${line}` : '>')),
  ];
}

export function outcomeEmail(
  request: RequestFacts,
  recipientName: string,
  status: RoundStatus,
  options: { link?: string; decline?: DeclineFacts; recipientIsDecliner?: boolean } = {},
) {
  const { link, decline } = options;
  return {
    subject: `${status === 'completed' ? 'Signed' : 'Not signed'}: ${request.title}`,
    text: [
      `Hello ${recipientName},`,
      '',
      ...(status === 'declined' && decline
        ? declineLines(request, decline, options.recipientIsDecliner ?? false)
        : [`"${request.title}" from ${request.organizationName} ${outcomeSentence[status]}.`]),
      ...(status === 'completed' && link ? ['', `Download the sealed document: ${link}`] : []),
    ].join('\n'),
  };
}
