/**
 * The one script of every page: finds `[data-island]` mount points and loads each island from
 * `./islands/<name>.js`, relative to this file (so it works at `/` and under any router prefix),
 * then calls its `mount(el, props)` with the JSON of `data-props`.
 * @module
 */

interface IslandModule {
  mount(el: HTMLElement, props: Record<string, unknown>): void;
}

for (const el of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const name = el.dataset.island ?? "";
  if (!/^[a-z_]{1,40}$/.test(name)) continue;
  let props: Record<string, unknown> = {};
  try {
    props = JSON.parse(el.dataset.props ?? "{}");
  } catch {
    // keep {}
  }
  const url = new URL(`./islands/${name}.js`, import.meta.url).href;
  import(url).then(
    (mod: IslandModule) => {
      el.replaceChildren();
      mod.mount(el, props);
    },
    (err) => {
      console.error(err);
      el.textContent = `Cannot load this part of the page (${name}). Reload to try again.`;
    },
  );
}
