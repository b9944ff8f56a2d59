/**
 * The connector's function (internal ingress: only Pub/Sub's push and the scheduler reach it) and its trigger besides
 * the push subscription: the Cloud Scheduler job that probes the credential and drains parked events.
 */
import type { ITerraformDependable } from 'cdktf';
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import type { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { functionEnvironment } from '../../shared/runtime-config';
import { FUNCTION_TARGET } from '../runtime-archive';
import { buildSettings, type ConnectorContext, dependsOnAlso } from './props';

/** Another deployment of the same function (the backfill's): its own id, name, instances and labels. */
export interface FunctionVariant {
  readonly id: string;
  readonly name: string;
  readonly maxInstances: number;
  readonly what: string;
  readonly labels: Record<string, string>;
}

export function buildFunction(
  ctx: ConnectorContext,
  runtimeAccount: ServiceAccount,
  variant?: FunctionVariant,
): Cloudfunctions2Function {
  const { project, names, connector, labels, props, environment: env } = ctx;
  const build = buildSettings(props.build, ctx.dep('cloudfunctions', 'run', 'cloudbuild', 'artifactregistry'));
  return new Cloudfunctions2Function(ctx.scope, variant?.id ?? 'function', {
    project,
    name: variant?.name ?? names.function,
    location: ctx.location,
    description: `Braze Currents → Segment (${connector.segment.region}) for '${connector.displayName}'${variant ? `: ${variant.what}` : ''}`,
    labels: variant?.labels ?? labels,
    buildConfig: {
      runtime: props.runtime,
      entryPoint: FUNCTION_TARGET,
      source: { storageSource: { bucket: props.source.bucket, object: props.source.object } },
      ...build.config,
    },
    serviceConfig: {
      serviceAccountEmail: runtimeAccount.email,
      ingressSettings: 'ALLOW_INTERNAL_ONLY',
      allTrafficOnLatestRevision: true,
      availableMemory: props.memory,
      timeoutSeconds: props.timeoutSeconds,
      minInstanceCount: 0,
      maxInstanceCount: variant?.maxInstances ?? connector.maxInstances,
      // Concurrent pushes overlap their Segment round trips (measured: npm run bench -- concurrency); Cloud Run
      // needs a whole vCPU for more than one request at a time.
      maxInstanceRequestConcurrency: connector.concurrency,
      ...(connector.concurrency > 1 ? { availableCpu: '1' } : {}),
      environmentVariables: functionEnvironment(env, connector, props.timeoutSeconds),
    },
    ...build.dependsOn,
  });
}

/**
 * The probe / drain job: POSTs `<url>/probe` as `schedulerAccount` (OIDC), its deadline the function's timeout; created
 * `after` the grant its calls need.
 */
export function buildProbeJob(
  ctx: ConnectorContext,
  url: string,
  schedulerAccount: ServiceAccount,
  after: readonly ITerraformDependable[] = [],
): CloudSchedulerJob {
  const { names, connector, props } = ctx;
  return new CloudSchedulerJob(ctx.scope, 'probe-job', {
    project: ctx.project,
    region: ctx.location,
    name: names.schedulerJob,
    description: `Credential probe and drain of parked events for '${connector.name}'`,
    schedule: props.probeSchedule,
    timeZone: 'Etc/UTC',
    attemptDeadline: `${props.timeoutSeconds}s`,
    retryConfig: { retryCount: 0 }, // the next tick is the retry
    httpTarget: {
      uri: `${url}/probe`,
      httpMethod: 'POST',
      oidcToken: { serviceAccountEmail: schedulerAccount.email, audience: url },
    },
    ...dependsOnAlso(ctx.dep('cloudscheduler'), after),
  });
}
