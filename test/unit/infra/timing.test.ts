/**
 * One timing source: a non-default timeout given to the stack reaches the function and the receiver in their deployed
 * environment, and the runtimes started with that environment derive their budgets from it; the construct refuses a
 * timeout that leaves no working budget.
 */
import { Testing } from 'cdktf';
import { environments } from '../../fixtures/definitions';
import { defineEnvironments, type DefineEnvironmentsOptions } from '../../../infra/app';
import { CurrentsConnector } from '../../../infra/connector';
import { ConnectorPropsError } from '../../../infra/connector/props';
import { createRuntime } from '../../../runtime/runtime';
import { createReceiverRuntime } from '../../../runtime/receiver/runtime';
import { loadEnvironments } from '../../../shared/connector';
import { doorNames } from '../../../shared/door';
import { parseDoorConfig } from '../../../shared/door-config';
import { resourceNames } from '../../../shared/names';
import {
  ANSWER_MARGIN_SECONDS,
  MAX_FUNCTION_TIMEOUT_SECONDS,
  MIN_FUNCTION_TIMEOUT_SECONDS,
  runtimeBudgets,
} from '../../../shared/policy';
import { ENV_VARS, parseRuntimeConfig } from '../../../shared/runtime-config';
import { fixtureArchives, type Json, resources, type SynthJson } from '../../support/infra/helpers';

const FUNCTION_TIMEOUT = 37;
const RECEIVER_TIMEOUT = 12;

function synthWith(connectorDefaults: DefineEnvironmentsOptions['connectorDefaults']) {
  const app = Testing.app();
  const { stacks } = defineEnvironments(app, environments, { ...fixtureArchives(), connectorDefaults, only: ['prod'] });
  return JSON.parse(Testing.synth(stacks[0]!)) as SynthJson;
}

describe('one timing source', () => {
  const json = synthWith({ timeoutSeconds: FUNCTION_TIMEOUT, receiver: { timeoutSeconds: RECEIVER_TIMEOUT } });
  const connector = loadEnvironments(environments).find((e) => e.name === 'prod')!.connectors[0]!;
  const names = resourceNames(connector.name);
  const fn = (name: string) => resources(json, 'google_cloudfunctions2_function').find((f) => f.name === name)!;
  const vars = (name: string) => (fn(name).service_config as Json).environment_variables as Record<string, string>;

  it('deploys the timeout and derives the ack deadline and probe deadline from it', () => {
    expect((fn(names.function).service_config as Json).timeout_seconds).toBe(FUNCTION_TIMEOUT);
    expect((fn(doorNames(connector.workspace).function).service_config as Json).timeout_seconds).toBe(RECEIVER_TIMEOUT);
    const push = resources(json, 'google_pubsub_subscription').find((s) => s.name === names.pushSubscription)!;
    expect(push.ack_deadline_seconds).toBe(FUNCTION_TIMEOUT + 20);
    const job = resources(json, 'google_cloud_scheduler_job').find((j) => j.name === names.schedulerJob)!;
    expect(job.attempt_deadline).toBe(`${FUNCTION_TIMEOUT}s`);
  });

  it('starts the function with its deployed environment: its budgets come from that timeout', async () => {
    const env = vars(names.function);
    expect(env[ENV_VARS.timeoutSeconds]).toBe(String(FUNCTION_TIMEOUT));
    const runtime = createRuntime(parseRuntimeConfig(env), { logSink: () => undefined, env });
    try {
      const budgetMs = (FUNCTION_TIMEOUT - ANSWER_MARGIN_SECONDS) * 1000;
      expect(runtime.budgets).toEqual({
        timeoutSeconds: FUNCTION_TIMEOUT,
        deliveryBudgetMs: budgetMs,
        probeBudgetMs: budgetMs,
      });
      // Not the 60 s default's budgets.
      expect(runtime.budgets.deliveryBudgetMs).not.toBe(runtimeBudgets(60).deliveryBudgetMs);
    } finally {
      await runtime.close();
    }
  });

  it('starts the door with its deployed environment: its publish timeout fits in its own timeout', async () => {
    const env = vars(doorNames(connector.workspace).function);
    expect(env[ENV_VARS.timeoutSeconds]).toBe(String(RECEIVER_TIMEOUT));
    const receiver = createReceiverRuntime(parseDoorConfig(env), { env, logSink: () => undefined });
    try {
      expect(receiver.budgets).toEqual({ timeoutSeconds: RECEIVER_TIMEOUT, publishTimeoutMs: 7_000 });
    } finally {
      await receiver.close();
    }
  });

  it('refuses a function timeout that leaves no working budget, or that Pub/Sub cannot wait for', () => {
    const connectorAlone = loadEnvironments(environments)[1]!.connectors[0]!;
    const attempt = (timeoutSeconds: number) => () =>
      Testing.synthScope((scope) => {
        new CurrentsConnector(scope, 'c', {
          connector: connectorAlone,
          environment: { name: 'test', project: 'test-project', region: 'europe-west1' },
          source: { bucket: 'b', object: 'o.zip' },
          pubsubServiceAgentEmail: 'service-123@gcp-sa-pubsub.iam.gserviceaccount.com',
          timeoutSeconds,
        });
      });
    for (const bad of [MIN_FUNCTION_TIMEOUT_SECONDS - 1, 20, MAX_FUNCTION_TIMEOUT_SECONDS + 1, 30.5]) {
      expect(attempt(bad)).toThrow(ConnectorPropsError);
      expect(attempt(bad)).toThrow(new RegExp(`timeoutSeconds ${bad} must be a whole number between 25 and 580`));
    }
    expect(attempt(MIN_FUNCTION_TIMEOUT_SECONDS)).not.toThrow();
    // The runtime refuses what the construct refuses, with the same words.
    expect(() => runtimeBudgets(20)).toThrow(/timeoutSeconds 20 must be a whole number between 25 and 580/);
  });
});
