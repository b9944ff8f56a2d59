/**
 * Literal text in Terraform JSON. Terraform reads every JSON string as a template: `${…}` is an interpolation and
 * `%{…}` a directive, so a literal `${` (a dashboard legend's `${metric.labels.status}`, a display name a person typed)
 * must be written `$${`, and a literal `%{` as `%%{`. CDKTF writes plain strings as they are, so the stack escapes them
 * itself, in ONE place: `TerraformLiteralStrings` is an aspect that escapes every string of every element (resources,
 * data sources, outputs, providers) before CDKTF resolves its tokens, so the references CDKTF writes (`${TfToken[…]}`
 * until resolved) stay references and everything else stays literal, whoever wrote it.
 */
import { type IAspect, TerraformElement } from 'cdktf';
import { type IConstruct } from 'constructs';

/** `${` not opening one of CDKTF's string tokens (`${TfToken[TOKEN.n]}`), and every `%{`. */
const LITERAL_TEMPLATE_START = /\$\{(?!TfToken\[)|%\{/g;

/** A literal string as Terraform JSON must write it (`${` → `$${`, `%{` → `%%{`); CDKTF's tokens are kept. */
export const escapeTemplateLiterals = (text: string): string =>
  text.replace(LITERAL_TEMPLATE_START, (start) => `${start[0]}${start}`);

/** A literal string read back from Terraform JSON (what Terraform makes of it): `$${` → `${`, `%%{` → `%{`. */
export const unescapeTemplateLiterals = (text: string): string => text.replace(/\$\$\{|%%\{/g, (m) => m.slice(1));

/** Every string in a value, escaped (objects and arrays walked; anything else, e.g. an unresolved token object, kept). */
function escapeStrings(value: unknown): unknown {
  if (typeof value === 'string') return escapeTemplateLiterals(value);
  if (Array.isArray(value)) return value.map(escapeStrings);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeStrings(v)]));
  }
  return value;
}

const escaped = new WeakSet<TerraformElement>();

/** The aspect: every Terraform element under the scope it is added to writes its literal strings escaped. */
export class TerraformLiteralStrings implements IAspect {
  visit(node: IConstruct): void {
    if (!TerraformElement.isTerraformElement(node) || escaped.has(node)) return;
    escaped.add(node);
    const toTerraform = node.toTerraform.bind(node);
    node.toTerraform = () => escapeStrings(toTerraform()) as ReturnType<typeof toTerraform>;
  }
}
