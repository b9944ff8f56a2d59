import { environments as examples } from '../../fixtures/definitions';
import { CATALOG, DEFAULT_CATALOG, SELECTORS } from '../../../shared/catalog';
import {
  CONNECTOR_TEXTS,
  ConnectorSchema,
  connectorWarnings,
  ConnectorValidationError,
  ENVIRONMENT_TEXTS,
  EnvironmentSchema,
  formatValidationError,
  loadEnvironments,
  NO_SOURCE_CHECK_WARNING,
  parseConnector,
  selectedTypes,
  validateEnvironments,
} from '../../../shared/connector';
import { CONNECTOR_FIELD_DEFAULTS } from '../../../shared/defaults';
import { MAX_CONNECTOR_NAME_LENGTH, nameLimitViolations, resourceNames } from '../../../shared/names';
import { functionEnvironment, parseRuntimeConfig } from '../../../shared/runtime-config';
import { environments as broken } from '../../fixtures/broken-connectors';
import { connector } from '../../fixtures/connector';

const valid = connector('email-eu', { displayName: 'EU email', workspace: 'ws' });
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
      includeAnonymousUsers: CONNECTOR_FIELD_DEFAULTS.includeAnonymousUsers,
      credentialGracePeriod: '48h',
      deadLetterMaxAttempts: 10,
      eventNames: {},
      fields: { redact: [], hash: [] },
    });
  });

  it('reports every problem of the broken fixture at once, each naming environment, connector and field', () => {
    const { errors } = validateEnvironments(broken);
    const text = errors.map(formatValidationError);
    const at = "of environment 'broken'";
    expect(text).toEqual([
      `connector 'typo-events' ${at}: events: 'users.messages.email.Opn' is neither an exportable event type nor a group; did you mean \`users.messages.email.Open\`? Fix or remove it (groups: ${SELECTORS.join(', ')}; docs/events.md lists the ${CATALOG.length} types)`,
      `connector 'bad-email' ${at}: contactEmail must be an email address such as team@example.com (you wrote 'not-an-email'); it hears about credential failures, expiry and dead letters`,
      `connector 'bad-region' ${at}: segment.region must be 'us' or 'eu' (you wrote 'asia'); the region of the Segment workspace: a write key sent to the wrong region is silently lost`,
      `connector 'a-connector-name-that-is-far-too-long' ${at}: name is 37 characters long; a connector name may have at most ${MAX_CONNECTOR_NAME_LENGTH}, so that every resource named after it fits GCP's limits (the service account id cs-<name>-sched may have at most 30): shorten it`,
      `connector 'dup' ${at}: name 'dup' is used by connectors #3 and #4; names must be unique within an environment: rename one`,
      `connector 'overlap-b' ${at}: events overlap connector 'overlap-a' of the same Braze workspace 'shared-ws' on 1 event type(s): users.messages.sms.Delivery. Braze sends each event of a workspace to only one of its Segment connectors, so one of the two would silently miss these events: remove them from one of the connectors`,
    ]);
    expect(errors.map((e) => [e.connector, e.field])).toEqual([
      ['typo-events', 'events[0]'],
      ['bad-email', 'contactEmail'],
      ['bad-region', 'segment.region'],
      ['a-connector-name-that-is-far-too-long', 'name'],
      ['dup', 'name'],
      ['overlap-b', 'events'],
    ]);
    expect(() => loadEnvironments(broken)).toThrow(ConnectorValidationError);
  });

  it('reports every problem of one connector at once, and the rules across connectors beside them', () => {
    const a = { ...valid, name: 'x'.repeat(37), contactEmail: 'not-an-email', events: ['users.messages.email.Opne'] };
    const b = { ...valid, name: 'b', workspace: 'shared' };
    const c = { ...valid, name: 'c', workspace: 'shared', maxInstances: 0 };
    const text = messages([{ ...env([a, b, c])[0], project: 'Bad_Project' }]);
    expect(text).toEqual([
      expect.stringMatching(
        /^environment 'dev': project must be a Google Cloud project id.*\(you wrote 'Bad_Project'\)/,
      ),
      expect.stringMatching(/^connector 'x{37}' of environment 'dev': contactEmail must be an email address/),
      expect.stringMatching(/^connector 'x{37}' of environment 'dev': name is 37 characters long/),
      expect.stringMatching(/events: 'users\.messages\.email\.Opne' .*did you mean `users\.messages\.email\.Open`\?/),
      "connector 'c' of environment 'dev': maxInstances must be a whole number from 1 to 1000 (you wrote 0); the most function instances the connector runs at once",
      expect.stringMatching(
        new RegExp(
          `^connector 'c' of environment 'dev': events overlap connector 'b' of the same Braze workspace 'shared' on ${selectedTypes({ events: ['email'] }).length} event type\\(s\\)`,
        ),
      ),
    ]);
  });

  it('runs the rules of a connector over what parsed, whatever else is broken in it', () => {
    const text = messages(
      env([
        {
          ...valid,
          segment: 'not an object',
          events: ['campain', 3],
          eventNames: { 'users.messages.email.Opem': '' },
          fields: { redact: ['emial_address'], hash: [], other: [] },
        },
      ]),
    ).join('\n');
    expect(text).toMatch(/segment must be an object \{ region, credential, sourceId \}/);
    expect(text).toMatch(/events\[1\] must be an event type or group name, such as 'email' \(you wrote 3\)/);
    expect(text).toMatch(/events: 'campain' is neither .*did you mean `campaigns` \(the 3 campaigns types\)\?/);
    expect(text).toMatch(/eventNames\.users\.messages\.email\.Opem must be a Segment event name, not empty/);
    expect(text).toMatch(
      /eventNames renames 'users\.messages\.email\.Opem', .*did you mean `users\.messages\.email\.Open`\?/,
    );
    expect(text).toMatch(
      /unknown field `fields\.other`: remove it \(the fields here are redact, hash, hashAlgorithm\)/,
    );
    expect(text).toMatch(
      /fields\.redact: 'emial_address' is not a Currents field .*did you mean `email_address`\? Fix or remove it/,
    );
  });

  it('has a text in the product words for every field of the schemas', () => {
    const keysOf = (schema: unknown, prefix: string): string[] => {
      let s = schema as { def: { type: string; innerType?: unknown; shape?: Record<string, unknown> } };
      while (s.def.innerType) s = s.def.innerType as typeof s;
      if (s.def.type !== 'object') return [];
      return Object.entries(s.def.shape!).flatMap(([k, v]) => [`${prefix}${k}`, ...keysOf(v, `${prefix}${k}.`)]);
    };
    for (const key of keysOf(ConnectorSchema, ''))
      expect([key, CONNECTOR_TEXTS[key]?.must]).toEqual([key, expect.any(String)]);
    for (const key of keysOf(EnvironmentSchema, ''))
      expect([key, ENVIRONMENT_TEXTS[key]?.must]).toEqual([key, expect.any(String)]);
    for (const key of [
      'segment.credential.kind',
      'segment.credential.appId',
      'segment.credential.keyId',
      'events[]',
      'eventNames.*',
      'fields.redact[]',
      'fields.hash[]',
    ]) {
      expect(CONNECTOR_TEXTS[key]).toBeDefined();
    }
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
    const defaults = DEFAULT_CATALOG.map((e) => e.type);
    expect(selectedTypes({ events: ['messages'] })).toEqual(defaults.filter((t) => t.startsWith('users.messages.')));
    expect(selectedTypes({ events: ['behaviors', 'campaigns', 'canvas', 'messages'] })).toEqual(defaults);
    expect(selectedTypes({ events: ['whatsapp'] })).toEqual(
      defaults.filter((t) => t.startsWith('users.messages.whatsapp.')),
    );
    // Opt-in types only by name.
    expect(selectedTypes({ events: ['behaviors', 'users.behaviors.Purchase'] })).toContain('users.behaviors.Purchase');
    expect(selectedTypes({ events: ['behaviors'] })).not.toContain('users.behaviors.Purchase');
  });

  it.each([
    [
      { ...valid, events: [] },
      /events must be a list of at least one event type or group.*\(you wrote an empty list\)/,
    ],
    [
      { ...valid, eventNames: { 'users.messages.sms.Send': 'Text Sent' } },
      /eventNames renames 'users.messages.sms.Send', which this connector does not select; add it to events/,
    ],
    [
      { ...valid, eventNames: { 'users.messages.email.Opem': 'X' } },
      /not an exportable event type; did you mean `users.messages.email.Open`\? Fix the type or remove the rename/,
    ],
    [
      { ...valid, fields: { redact: ['emial_address'], hash: [] } },
      /fields.redact: 'emial_address' is not a Currents field.*did you mean `email_address`/,
    ],
    [{ ...valid, fields: { redact: ['email_address'], hash: ['email_address'] } }, /both redact and hash/],
    [
      { ...valid, fields: { redact: ['external_user_id'], hash: [] } },
      /fields.redact: .*merge every user into one; list it under fields.hash/,
    ],
    [
      { ...valid, fields: { redact: [], hash: ['id'] } },
      /fields.hash: 'id' cannot be hashed: it becomes the Segment messageId/,
    ],
    [
      { ...valid, credentialGracePeriod: '30m' },
      /credentialGracePeriod must be a duration from 1h to 7d.*\(you wrote '30m'\)/,
    ],
    [
      { ...valid, credentialGracePeriod: '8d' },
      /credentialGracePeriod must be a duration from 1h to 7d.*\(you wrote '8d'\)/,
    ],
    [{ ...valid, credentialGracePeriod: 'two days' }, /credentialGracePeriod must be a duration .*such as 48h/],
    [{ ...valid, retention: '5m' }, /retention must be a duration from 10m to 31d.*\(you wrote '5m'\)/],
    [
      { ...valid, segment: { region: 'us', credential: { kind: 'writeKey', writeKey: 'abc' } } },
      /unknown field `segment.credential.writeKey`: credential values never go in code.*Secret Manager/,
    ],
    [
      { ...valid, segment: { credential: { kind: 'writeKey' } } },
      /segment.region is required: it must be 'us' or 'eu'/,
    ],
    [
      { ...valid, segment: { region: 'us', credential: { kind: 'oauth', appId: 'a' } } },
      /segment.credential.keyId is required: it must be the id of the OAuth app's public key/,
    ],
    [
      { ...valid, segment: { region: 'us', credential: { kind: 'writekey' } } },
      /segment.credential.kind must be 'writeKey' or 'oauth' \(you wrote 'writekey'\). Did you mean `writeKey`\?/,
    ],
    [{ ...valid, segment: { region: 'EU', credential: { kind: 'writeKey' } } }, /Did you mean `eu`\?/],
    [{ ...valid, name: 'Bad_Name' }, /name must be lowercase letters, digits and hyphens.*\(you wrote 'Bad_Name'\)/],
    [{ ...valid, workspace: '' }, /workspace must be the id of the Braze workspace/],
    [
      { ...valid, deadLetterMaxAttempts: 2 },
      /deadLetterMaxAttempts must be a whole number from 5 to 100 \(you wrote 2\)/,
    ],
    [{ ...valid, maxInstances: 1.5 }, /maxInstances must be a whole number from 1 to 1000 \(you wrote 1.5\)/],
    [{ ...valid, concurrency: 81 }, /concurrency must be a whole number from 1 to 80 \(you wrote 81\)/],
    [{ ...valid, includeAnonymousUsers: 'yes' }, /includeAnonymousUsers must be true or false \(you wrote 'yes'\)/],
    [
      { ...valid, contactEmail: undefined, contactemail: 'a@b.co' },
      /contactEmail is required; did you mean `contactEmail` \(you wrote `contactemail`\)\? Rename it$/,
    ],
    [{ ...valid, maxinstances: 3 }, /unknown field `maxinstances`; did you mean `maxInstances`\? Rename it/],
    [{ ...valid, colour: 'red' }, /unknown field `colour`: remove it \(the fields here are name, displayName, /],
    [
      { ...valid, maxinstances: 3, maxInstances: 4 },
      /unknown field `maxinstances`: remove it \(`maxInstances` is set beside it\)/,
    ],
    [
      { ...valid, segment: { region: 'us', credential: { kind: 'oauth', appId: 'a', keyid: 'k' } } },
      /segment.credential.keyId is required; did you mean `keyId` \(you wrote `keyid`\)\? Rename it/,
    ],
    [
      // A field named like a secret is never suggested as a rename of a missing field: it may hold a credential.
      { ...valid, segment: { region: 'us', credential: { kind: 'oauth', appId: 'a', key: 'pem' } } },
      /keyId is required: it must be .*\n.*unknown field `segment.credential.key`: credential values never go in code/,
    ],
    [
      { ...valid, events: ['push'] },
      /'push' .*did you mean `pushnotification` \(the \d+ pushnotification types\), `users.messages.pushnotification./,
    ],
  ])('refuses a bad connector with a message that says what to do (%#)', (connector, pattern) => {
    expect(messages(env([connector])).join('\n')).toMatch(pattern);
  });

  it("never says the schema library's words", () => {
    const text = messages(
      env([
        {
          ...valid,
          maxInstances: 0,
          concurrency: 'x',
          segment: { region: 1, credential: [] },
          events: 'email',
          storage: { bucket: 3 },
        },
      ]),
    ).join('\n');
    expect(text).not.toMatch(
      /Too small|Too big|Invalid input|expected |received |Unrecognized|Invalid (option|discriminator)/,
    );
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
      expect.stringMatching(/connector 'email-eu' of environment 'dev': segment.sourceId is for write-key connectors/),
    ]);
    expect(
      connectorWarnings(parseConnector({ ...valid, segment: { region: 'eu', credential: oauth } }).connector!),
    ).toEqual([]);
    expect(messages(env([{ ...valid, segment: { ...valid.segment, sourceId: 'has space' } }]))).toEqual([
      expect.stringMatching(/segment.sourceId must be a Segment source id .*\(you wrote 'has space'\)/),
    ]);
  });

  it('refuses two environments sharing a project with the same connector name', () => {
    const e = env([valid]);
    const text = messages([...e, { ...e[0], name: 'staging' }]).join('\n');
    expect(text).toMatch(
      /connector 'email-eu' of environment 'staging': name 'email-eu' is also a connector of environment 'dev' in the same project 'replace-me-dev'.*rename one/,
    );
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
