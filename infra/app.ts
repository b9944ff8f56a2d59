/**
 * Builds the CDKTF app from the connector definitions: validates them with the shared schema (errors surface at synth,
 * with the schema's messages), builds the function's and the receiver's source archives once, and adds one stack per
 * environment.
 */
import { type App } from 'cdktf';
import { type Environment, loadEnvironments } from '../shared/connector';
import { EnvironmentStack, type EnvironmentStackProps } from './environment-stack';
import { buildRuntimeArchive, type BuildRuntimeArchiveOptions, type RuntimeArchive } from './runtime-archive';

export interface DefineEnvironmentsOptions {
  /** A prebuilt archive; default: built from the runtime with `buildRuntimeArchive(runtime)`. */
  readonly archive?: RuntimeArchive;
  /** Options of the archive build (entry point, output directory). */
  readonly runtime?: BuildRuntimeArchiveOptions;
  /** A prebuilt receiver archive; default: built with `buildRuntimeArchive({ ...receiverRuntime, kind: 'receiver' })`. */
  readonly receiverArchive?: RuntimeArchive;
  /** Options of the receiver's archive build (entry point, output directory). */
  readonly receiverRuntime?: Omit<BuildRuntimeArchiveOptions, 'kind'>;
  /**
   * A prebuilt storage importer archive; default: built with `buildRuntimeArchive({ kind: 'importer' })` when a
   * connector has `storage`.
   */
  readonly importerArchive?: RuntimeArchive;
  /** Only these environments (by name); default all. */
  readonly only?: readonly string[];
  readonly connectorDefaults?: EnvironmentStackProps['connectorDefaults'];
}

/** Adds a stack per environment to `app`; throws ConnectorValidationError (every problem) on invalid definitions. */
export function defineEnvironments(
  app: App,
  inputs: readonly unknown[],
  options: DefineEnvironmentsOptions = {},
): {
  environments: Environment[];
  stacks: EnvironmentStack[];
  archive: RuntimeArchive;
  receiverArchive: RuntimeArchive;
} {
  const environments = loadEnvironments(inputs).filter((e) => !options.only || options.only.includes(e.name));
  const archive = options.archive ?? buildRuntimeArchive({ ...options.runtime, kind: 'function' });
  const receiverArchive =
    options.receiverArchive ?? buildRuntimeArchive({ ...options.receiverRuntime, kind: 'receiver' });
  const importerArchive = environments.some((e) => e.connectors.some((c) => c.storage))
    ? (options.importerArchive ?? buildRuntimeArchive({ kind: 'importer' }))
    : undefined;
  const stacks = environments.map(
    (environment) =>
      new EnvironmentStack(app, environment.name, {
        environment,
        archive,
        receiverArchive,
        ...(importerArchive ? { importerArchive } : {}),
        connectorDefaults: options.connectorDefaults,
      }),
  );
  return { environments, stacks, archive, receiverArchive };
}
