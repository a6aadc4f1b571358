// Vega-Lite → inline SVG, in Node: compile the spec to Vega, run it headless (renderer 'none'), and
// ask the view for its SVG markup. The page embeds the markup, so the report needs no script.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * The SVG of a Vega-Lite spec, ready to sit inline in an HTML page. `idPrefix` makes the ids of
 * clip paths and gradients unique across the page: Vega numbers them from 1 in every render.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return inline(svg, idPrefix);
  } finally {
    view.finalize();
  }
}

/**
 * Drops the namespace declarations (an HTML parser puts <svg> in its namespace) and prefixes ids and
 * their references. Only inside tags: Vega escapes < and > in text, so a label is never rewritten.
 */
export function inline(svg: string, idPrefix: string): string {
  return svg.replace(/<[^<>]+>/g, (tag) =>
    tag
      .replace(/\s+xmlns(:\w+)?="[^"]*"/g, '')
      .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${idPrefix}-${id}"`)
      .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${idPrefix}-${id})`)
      .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${idPrefix}-${id}"`),
  );
}
