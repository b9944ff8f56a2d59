import { environments as examples } from '../../connectors';
import { CATALOG } from '../../shared/catalog';
import {
  connectorWarnings,
  ConnectorValidationError,
  DEFAULTS,
  formatValidationError,
  loadEnvironments,
  NO_SOURCE_CHECK_WARNING,
  parseConnector,
  selectedTypes,
  validateEnvironments,
} from '../../shared/connector';
import { MAX_CONNECTOR_NAME_LENGTH, nameLimitViolations, resourceNames } from '../../shared/names';
import { functionEnvironment, parseRuntimeConfig } from '../../shared/runtime-config';
import { environments as broken } from '../fixtures/broken-connectors';

const valid = {
  name: 'email-eu',
  displayName: 'EU email',
  contactEmail: 'team@example.com',
  workspace: 'ws',
  segment: { region: 'eu', credential: { kind: 'writeKey' } },
  events: ['email'],
};
const env = (connectors: unknown[]) => [{ name: 'dev', project: 'replace-me-dev', region: 'europe-west1', connectors }];
const messages = (inputs: unknown[]) => validateEnvironments(inputs).errors.map(formatValidationError);

describe('connector schema', () => {
  it('accepts the example environments and applies the documented defaults', () => {
    const envs = loadEnvironments(examples);
    expect(envs.map((e) => e.name)).toEqual(['dev', 'prod']);
    const all = envs.flatMap((e) => e.connectors);
    expect(all.some((c) => c.segment.region === 'eu')).toBe(true);
    expect(all.some((c) => c.segment.region === 'us')).toBe(true);
    expect(all.some((c) => c.segment.credential.kind === 'oauth')).toBe(true);
    expect(all.some((c) => c.credentialGracePeriod === '72h')).toBe(true);
    expect(all.some((c) => selectedTypes(c).every((t) => t.startsWith('users.messages.email.')))).toBe(true);
    const { connector } = parseConnector(valid);
    expect(connector).toMatchObject({
      includeAnonymousUsers: DEFAULTS.includeAnonymousUsers,
      credentialGracePeriod: '48h',
      deadLetterMaxAttempts: 10,
      eventNames: {},
      fields: { redact: [], hash: [] },
    });
  });

  it('reports every problem of the broken fixture at once, each naming environment, connector and field', () => {
    const { errors } = validateEnvironments(broken);
    const text = errors.map(formatValidationError);
    expect(text).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /environment 'broken', connector 'typo-events', field 'events': unknown event type or group 'users.messages.email.Opn'; did you mean 'users.messages.email.Open'/,
        ),
        expect.stringMatching(/connector 'bad-email', field 'contactEmail': must be a valid email address/),
        expect.stringMatching(/connector 'bad-region', field 'segment.region': must be 'us' or 'eu'/),
        expect.stringMatching(/connector 'dup', field 'name': connectors #3 and #4 are both named 'dup'/),
        expect.stringMatching(
          /connector 'overlap-b', field 'events': overlaps connector 'overlap-a' in Braze workspace 'shared-ws' on 1 event type\(s\): users.messages.sms.Delivery/,
        ),
        expect.stringMatching(
          new RegExp(
            `connector 'a-connector-name-that-is-far-too-long', field 'name': .*too long.*service account id.*at most ${MAX_CONNECTOR_NAME_LENGTH} characters`,
          ),
        ),
      ]),
    );
    expect(errors).toHaveLength(6);
    expect(() => loadEnvironments(broken)).toThrow(ConnectorValidationError);
  });

  it('accepts both spellings of the Abort types in selections and renames', () => {
    const { connector, errors } = parseConnector({
      ...valid,
      events: ['users_campaigns_abort', 'users.canvas.Abort'],
      eventNames: { users_canvas_abort: 'Canvas Stopped' },
    });
    expect(errors).toEqual([]);
    expect(selectedTypes(connector!)).toEqual(['users.campaigns.Abort', 'users.canvas.Abort']);
  });

  it('selects by group and channel', () => {
    expect(selectedTypes({ events: ['messages'] })).toHaveLength(41);
    expect(selectedTypes({ events: ['behaviors', 'campaigns', 'canvas', 'messages'] })).toHaveLength(CATALOG.length);
    expect(selectedTypes({ events: ['whatsapp'] })).toHaveLength(6);
  });

  it.each([
    [{ ...valid, events: [] }, /field 'events': must select at least one event type or group/],
    [
      { ...valid, eventNames: { 'users.messages.sms.Send': 'Text Sent' } },
      /eventNames.users.messages.sms.Send.*does not select/,
    ],
    [
      { ...valid, eventNames: { 'users.messages.email.Opem': 'X' } },
      /not an exportable event type; did you mean 'users.messages.email.Open'/,
    ],
    [
      { ...valid, fields: { redact: ['emial_address'], hash: [] } },
      /fields.redact.*'emial_address' is not a Currents field/,
    ],
    [{ ...valid, fields: { redact: ['email_address'], hash: ['email_address'] } }, /both redact and hash/],
    [
      { ...valid, fields: { redact: ['external_user_id'], hash: [] } },
      /fields.redact.*merge every user into one; list it under hash/,
    ],
    [
      { ...valid, fields: { redact: [], hash: ['id'] } },
      /fields.hash.*'id' cannot be hashed: it becomes the Segment messageId/,
    ],
    [{ ...valid, credentialGracePeriod: '30m' }, /credentialGracePeriod.*between 1h and 7d/],
    [{ ...valid, credentialGracePeriod: '8d' }, /credentialGracePeriod.*between 1h and 7d/],
    [{ ...valid, credentialGracePeriod: 'two days' }, /credentialGracePeriod.*duration such as 48h/],
    [
      { ...valid, segment: { region: 'us', credential: { kind: 'writeKey', writeKey: 'abc' } } },
      /unknown field 'writeKey'.*Secret Manager/,
    ],
    [
      { ...valid, segment: { credential: { kind: 'writeKey' } } },
      /segment.region.*required|segment.region.*'us' or 'eu'/,
    ],
    [{ ...valid, segment: { region: 'us', credential: { kind: 'oauth', appId: 'a' } } }, /segment.credential.keyId/],
    [{ ...valid, name: 'Bad_Name' }, /field 'name': must be lowercase/],
    [{ ...valid, workspace: '' }, /field 'workspace': must be the Braze workspace/],
    [{ ...valid, deadLetterMaxAttempts: 2 }, /deadLetterMaxAttempts.*between 5 and 100/],
  ])('refuses a bad connector with a message that says what to do (%#)', (connector, pattern) => {
    expect(messages(env([connector])).join('\n')).toMatch(pattern);
  });

  it('takes segment.sourceId for a write key only, as a Segment source id, and warns on a write key without it', () => {
    const withSource = { ...valid, segment: { ...valid.segment, sourceId: 'qQEHquLrjRDN9j1ByrChyn' } };
    expect(parseConnector(withSource).connector?.segment.sourceId).toBe('qQEHquLrjRDN9j1ByrChyn');
    expect(connectorWarnings(parseConnector(withSource).connector!)).toEqual([]);
    expect(connectorWarnings(parseConnector(valid).connector!)).toEqual([
      { connector: 'email-eu', field: 'segment.sourceId', message: NO_SOURCE_CHECK_WARNING },
    ]);
    expect(NO_SOURCE_CHECK_WARNING).toMatch(/a revoked write key would be invisible: Segment answers 200/);
    const oauth = { kind: 'oauth', appId: 'a', keyId: 'k' };
    expect(messages(env([{ ...valid, segment: { region: 'eu', credential: oauth, sourceId: 'src1' } }]))).toEqual([
      expect.stringMatching(
        /connector 'email-eu', field 'segment.sourceId': the source check is for write-key connectors/,
      ),
    ]);
    expect(
      connectorWarnings(parseConnector({ ...valid, segment: { region: 'eu', credential: oauth } }).connector!),
    ).toEqual([]);
    expect(messages(env([{ ...valid, segment: { ...valid.segment, sourceId: 'has space' } }]))).toEqual([
      expect.stringMatching(/field 'segment.sourceId': must be a Segment source id/),
    ]);
  });

  it('refuses two environments sharing a project with the same connector name', () => {
    const e = env([valid]);
    const text = messages([...e, { ...e[0], name: 'staging' }]).join('\n');
    expect(text).toMatch(/environment 'staging', connector 'email-eu'.*same project 'replace-me-dev'/);
  });
});

describe('resource names', () => {
  it('computes the longest allowed name from the GCP limits and every derived name fits at that length', () => {
    const longest = 'a'.repeat(MAX_CONNECTOR_NAME_LENGTH);
    expect(nameLimitViolations(longest)).toEqual([]);
    expect(nameLimitViolations(`${longest}a`)).not.toEqual([]);
    const names = resourceNames(longest);
    expect(names.runtimeServiceAccount.length).toBeLessThanOrEqual(30);
    expect(names.firestoreDatabase.length).toBeLessThanOrEqual(63);
    expect(names.function.length).toBeLessThanOrEqual(63);
  });
});

describe('runtime configuration', () => {
  it('round-trips every example connector through the function environment variables', () => {
    for (const e of loadEnvironments(examples)) {
      for (const c of e.connectors) {
        const config = parseRuntimeConfig(functionEnvironment(e, c));
        expect(config.connector).toEqual(c);
        expect(config.environment).toBe(e.name);
        expect(config.secretName).toBe(`projects/${e.project}/secrets/${resourceNames(c.name).secret}`);
      }
    }
  });

  it('fails with a clear message on a bad configuration', () => {
    expect(() => parseRuntimeConfig({})).toThrow(/missing environment variable\(s\) CURRENTS_CONNECTOR/);
    expect(() =>
      parseRuntimeConfig({ CURRENTS_CONNECTOR: '{', CURRENTS_ENVIRONMENT: 'dev', GOOGLE_CLOUD_PROJECT: 'p' }),
    ).toThrow(/CURRENTS_CONNECTOR is not valid JSON/);
    expect(() =>
      parseRuntimeConfig({
        CURRENTS_CONNECTOR: JSON.stringify({ ...valid, segment: { region: 'asia', credential: { kind: 'writeKey' } } }),
        CURRENTS_ENVIRONMENT: 'dev',
        GOOGLE_CLOUD_PROJECT: 'p',
      }),
    ).toThrow(/segment.region/);
  });
});
