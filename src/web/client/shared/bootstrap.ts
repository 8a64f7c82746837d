/** What the server put in the page for its script (a JSON data block: never executed, so the CSP allows it). */
export function readBootstrap<T>(): T {
  const element = document.getElementById('bootstrap');
  return JSON.parse(element?.textContent ?? '{}') as T;
}
