/** The operations console (issue 10 §2): being built; this entry exists so the asset build has every page. */
import { render } from 'preact';

render(<main class="page" />, document.getElementById('app')!);
