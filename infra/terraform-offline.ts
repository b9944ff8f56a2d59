/**
 * The offline form of a Terraform JSON configuration (infra/terraform-check.ts runs Terraform on it): each `google_*`
 * (and `time_*`) resource and data source as a builtin `terraform_data` whose `input` is its arguments, every reference
 * to it inside an interpolation (`${google_x.name.attr}`) as `${terraform_data.google_x__name.output.attr}`, the
 * meta-arguments kept in meaning (`depends_on`, `count`, `for_each`, `lifecycle`; `provider` checked against the
 * declared provider configurations). Pure: no Terraform, no files. Also the arguments a first deploy needs that the
 * provider would not require (`REQUIRED_ARGUMENTS`), checked on the JSON itself.
 */
type Json = Record<string, unknown>;
/** A Terraform JSON configuration (`cdk.tf.json`). */
export type TerraformJson = Json;

/** The providers whose resources are rewritten onto `terraform_data` (by resource type prefix). */
export const REWRITTEN_PROVIDERS = ['google', 'google-beta', 'time'] as const;
const REWRITTEN_TYPE = /^(google|time)_[a-z0-9_]+$/;

/**
 * Arguments a first deploy needs that the provider does not require: per resource type, dotted paths into the
 * resource's arguments (nested blocks are objects in Terraform JSON).
 */
export const REQUIRED_ARGUMENTS: Record<string, readonly string[]> = {
  // New projects build functions with a default build account that lacks the roles a build needs.
  google_cloudfunctions2_function: ['build_config.service_account'],
};

export interface TerraformProblem {
  /** The address in the synthesized configuration (`google_pubsub_topic.x`), when the problem has one. */
  readonly address?: string;
  readonly summary: string;
  readonly detail?: string;
}

/** The `terraform_data` name standing for a rewritten resource or data source. */
export const standInName = (type: string, name: string, data = false): string =>
  `${data ? 'data__' : ''}${type}__${name}`;

/** Splits a template into literal and interpolation/directive parts; `$${` and `%%{` stay literal. */
function rewriteTemplate(template: string, rewrite: (expr: string) => string): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const two = template.slice(i, i + 2);
    const three = template.slice(i, i + 3);
    if (three === '$${' || three === '%%{') {
      out += three;
      i += 3;
    } else if (two === '${' || two === '%{') {
      const end = closingBrace(template, i + 2);
      if (end < 0) return out + template.slice(i); // unterminated: left for Terraform to report
      out += `${two}${rewrite(template.slice(i + 2, end))}}`;
      i = end + 1;
    } else {
      out += template[i];
      i += 1;
    }
  }
  return out;
}

/** The index of the `}` closing an interpolation opened before `from`, skipping nested braces and quoted strings. */
function closingBrace(s: string, from: number): number {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

const REFERENCE =
  /(?<![\w.$-])(data\.)?((?:google|time)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)(\[[^\]]*\])?((?:\.[A-Za-z_][\w-]*|\[[^\]]*\])*)/g;

/**
 * How references are rewritten: onto the stand-in's `output` (validate: any attribute path is accepted), or onto its
 * `id` (plan: a value unknown until apply, as a provider's computed attribute is).
 */
type ReferenceMode = 'output' | 'unknown';

/**
 * A reference inside an expression, rewritten onto its stand-in; inside a stand-in's own meta-arguments (lifecycle
 * conditions, provisioners) `self.x` becomes `self.output.x` too.
 */
function rewriteExpression(expr: string, mode: ReferenceMode, inStandIn: boolean): string {
  const rewritten = expr.replace(
    REFERENCE,
    (_m, data: string | undefined, type: string, name: string, key = '', rest: string) => {
      const standIn = `terraform_data.${standInName(type, name, !!data)}${key}`;
      return mode === 'output' ? `${standIn}.output${rest}` : `${standIn}.id`;
    },
  );
  return inStandIn ? rewritten.replace(/(?<![\w.$-])self\.(?!output\b)/g, 'self.output.') : rewritten;
}

/** A bare reference (`depends_on`, `replace_triggered_by`): the stand-in itself. */
function rewriteBareReference(ref: string): string {
  const m = /^(data\.)?((?:google|time)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)(.*)$/.exec(ref);
  return m ? `terraform_data.${standInName(m[2]!, m[3]!, !!m[1])}${m[4]}` : ref;
}

/** Every string of a value, rewritten as a template. */
function rewriteValue(value: unknown, mode: ReferenceMode = 'output', inStandIn = false): unknown {
  if (typeof value === 'string') return rewriteTemplate(value, (expr) => rewriteExpression(expr, mode, inStandIn));
  if (Array.isArray(value)) return value.map((v) => rewriteValue(v, mode, inStandIn));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Json)
        .filter(([k]) => k !== '//')
        .map(([k, v]) => [k, rewriteValue(v, mode, inStandIn)]),
    );
  }
  return value;
}

/** The provider configurations declared (`google`, `google.alias`). */
function declaredProviders(json: TerraformJson): Set<string> {
  const out = new Set<string>();
  for (const [name, configs] of Object.entries((json.provider ?? {}) as Record<string, unknown>)) {
    for (const config of [configs].flat() as Json[]) out.add(config.alias ? `${name}.${String(config.alias)}` : name);
  }
  return out;
}

/** One resource or data source as its `terraform_data` stand-in (meta-arguments kept, `provider` checked). */
function standIn(
  address: string,
  body: Json,
  providers: Set<string>,
  problems: TerraformProblem[],
  mode: ReferenceMode,
): Json {
  const { count, for_each, depends_on, lifecycle, provider, provisioner, connection, ...args } = body;
  delete args['//'];
  const out: Json = { input: rewriteValue(args, mode) };
  if (count !== undefined) out.count = rewriteValue(count, mode);
  if (for_each !== undefined) out.for_each = rewriteValue(for_each, mode);
  if (depends_on !== undefined) out.depends_on = (depends_on as string[]).map(rewriteBareReference);
  if (provisioner !== undefined) out.provisioner = rewriteValue(provisioner, mode, true);
  if (connection !== undefined) out.connection = rewriteValue(connection, mode, true);
  if (lifecycle !== undefined) {
    const { ignore_changes, replace_triggered_by, ...rest } = lifecycle as Json;
    const life: Json = rewriteValue(rest, mode, true) as Json;
    // The provider's attribute paths are unknown to terraform_data: each stands for part of `input`.
    if (ignore_changes !== undefined) life.ignore_changes = ignore_changes === 'all' ? 'all' : ['input'];
    if (replace_triggered_by !== undefined) {
      life.replace_triggered_by = (replace_triggered_by as string[]).map(rewriteBareReference);
    }
    out.lifecycle = life;
  }
  if (provider !== undefined && !providers.has(String(provider))) {
    problems.push({
      address,
      summary: `Provider configuration not present`,
      detail: `${address} names provider "${String(provider)}", which no provider block declares`,
    });
  }
  return out;
}

/**
 * The configuration with every rewritten-provider resource and data source as a `terraform_data` stand-in, and the
 * problems found on the way (a `provider` meta-argument naming an undeclared configuration).
 */
export function toOfflineConfig(
  json: TerraformJson,
  mode: ReferenceMode = 'output',
): { config: TerraformJson; problems: TerraformProblem[] } {
  const problems: TerraformProblem[] = [];
  const providers = declaredProviders(json);
  const standIns: Record<string, Json> = {};
  const config: Json = {};
  for (const [block, value] of Object.entries(json)) {
    if (block === '//') continue;
    if (block === 'resource' || block === 'data') {
      const kept: Record<string, unknown> = {};
      for (const [type, byName] of Object.entries(value as Record<string, Record<string, Json>>)) {
        if (!REWRITTEN_TYPE.test(type)) {
          kept[type] = rewriteValue(byName, mode);
          continue;
        }
        for (const [name, body] of Object.entries(byName)) {
          const address = `${block === 'data' ? 'data.' : ''}${type}.${name}`;
          standIns[standInName(type, name, block === 'data')] = standIn(address, body, providers, problems, mode);
        }
      }
      if (Object.keys(kept).length) {
        config[block] = { ...(config[block] as Json | undefined), ...kept };
      }
    } else if (block === 'provider') {
      // The provider configurations' own expressions are checked as stand-ins too.
      for (const [name, configs] of Object.entries(value as Record<string, unknown>)) {
        if (!(REWRITTEN_PROVIDERS as readonly string[]).includes(name)) {
          config.provider = { ...(config.provider as Json | undefined), [name]: rewriteValue(configs, mode) };
          continue;
        }
        ([configs].flat() as Json[]).forEach((c, i) => {
          standIns[`provider__${name}__${i}`] = { input: rewriteValue(c, mode) };
        });
      }
    } else if (block === 'terraform') {
      const { required_providers, ...rest } = value as Json;
      const others = Object.entries((required_providers ?? {}) as Json).filter(
        ([name]) => !(REWRITTEN_PROVIDERS as readonly string[]).includes(name),
      );
      config.terraform = { ...rest, ...(others.length ? { required_providers: Object.fromEntries(others) } : {}) };
    } else {
      config[block] = rewriteValue(value, mode);
    }
  }
  if (Object.keys(standIns).length) {
    config.resource = { ...(config.resource as Json | undefined), terraform_data: standIns };
  }
  return { config, problems };
}

/** The value at a dotted path of a resource's arguments (a block written as a one-element list counts as its object). */
function argumentAt(body: unknown, path: string): unknown {
  let at: unknown = body;
  for (const key of path.split('.')) {
    if (Array.isArray(at)) at = at[0];
    at = at && typeof at === 'object' ? (at as Json)[key] : undefined;
  }
  return at;
}

/** `REQUIRED_ARGUMENTS` missing (or empty) from the configuration's resources. */
export function missingArguments(
  json: TerraformJson,
  required: Record<string, readonly string[]> = REQUIRED_ARGUMENTS,
): TerraformProblem[] {
  const resources = (json.resource ?? {}) as Record<string, Record<string, Json>>;
  const problems: TerraformProblem[] = [];
  for (const [type, paths] of Object.entries(required)) {
    for (const [name, body] of Object.entries(resources[type] ?? {})) {
      for (const path of paths) {
        const value = argumentAt(body, path);
        if (value === undefined || value === null || value === '') {
          problems.push({
            address: `${type}.${name}`,
            summary: `Missing ${path}`,
            detail: 'a first deploy needs it',
          });
        }
      }
    }
  }
  return problems;
}

/** The stand-ins' names, back to the synthesized addresses. */
export function standInAddresses(json: TerraformJson): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of ['resource', 'data'] as const) {
    for (const [type, byName] of Object.entries((json[block] ?? {}) as Record<string, Json>)) {
      for (const name of Object.keys(byName)) {
        out.set(standInName(type, name, block === 'data'), `${block === 'data' ? 'data.' : ''}${type}.${name}`);
      }
    }
  }
  return out;
}
