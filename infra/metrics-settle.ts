/**
 * New log-based metrics cannot be used by an alert policy at once: Cloud Monitoring refuses a policy on a metric created
 * moments before with `404 Cannot find metric(s) that match type`, "it could take up to 10 minutes to become
 * available" (its own message; terraform-provider-google issue 11102, open), and the provider does not retry. So a
 * policy on new metrics waits for a `time_sleep` (hashicorp/time) created after them. It sleeps on create only, and is
 * replaced (sleeps again) only when the set of metrics it waits for changes: a first deploy, or a new connector, waits
 * once; any later apply does not wait at all. Runs beside the function builds, which take minutes themselves.
 */
import { type ITerraformDependable } from 'cdktf';
import { type Construct } from 'constructs';
import type { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import { Sleep } from '@cdktf/provider-time/lib/sleep';

/** How long a new log-based metric may take to become available to alert policies (Cloud Monitoring's bound). */
export const METRICS_SETTLE_SECONDS = 600;

/** A `time_sleep` after `metrics`, keyed by their names; alert policies on them depend on it. */
export function metricsQueryable(
  scope: Construct,
  id: string,
  metrics: readonly LoggingMetric[],
  dependsOn: readonly ITerraformDependable[] = [],
): Sleep {
  return new Sleep(scope, id, {
    createDuration: `${METRICS_SETTLE_SECONDS}s`,
    triggers: { metrics: metrics.map((m) => m.name).join(',') },
    dependsOn: [...metrics, ...dependsOn],
  });
}
