/** Placeholder for `/` until the request list takes its place. */
import type { ConsoleContext } from './context';

export function HomePage({ ctx }: { ctx: ConsoleContext }) {
  return <h1>{ctx.session.organization.name}</h1>;
}
