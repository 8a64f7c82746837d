import type { ApiKeyPrincipal } from '../accounts/authenticate-api-key';

/** Who is calling. Users with sessions join this union when accounts arrive. */
export type Principal = ApiKeyPrincipal;
