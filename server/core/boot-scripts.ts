// Renders the iPXE script a machine gets, from its node's boot state, with the eta templates in templates/.
import { Eta } from "eta";
import { TEMPLATES, type TemplateName } from "../../templates/index.ts";

// autoTrim off or iPXE lines run together; no escaping: scripts are plain text, `&` and `+` must survive.
const eta = new Eta({ autoTrim: false, autoEscape: false, useWith: false, cache: true });
for (const [name, text] of Object.entries(TEMPLATES)) eta.loadTemplate(`@${name}`, text);

export function renderScript(template: TemplateName, data: Record<string, string | number>): string {
  return eta.render(`@${template}`, data);
}

/** One line of kernel arguments: text from attributes must not be able to start a new iPXE command. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ").replace(/\s+/g, " ").trim();
}
