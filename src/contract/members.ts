/**
 * The shapes /v1 answers about an organisation's members, written once for the server and the console
 * (types only, no imports: the browser code type-checks this file too).
 */
export type MemberRole = 'owner' | 'admin' | 'member' | 'viewer' | 'support';

/** One member as `GET /v1/members` and the member changes answer. */
export interface MemberView {
  userId: string;
  email: string;
  name: string | null;
  phone: string | null;
  role: MemberRole;
  /** False until an invited member has chosen a password (they may still sign in with Google/Microsoft). */
  passwordSet: boolean;
  joinedAt: string;
}
