/**
 * The receiver's operating side: `currents receiver-token` (new token added as a secret version, strong, printed once and
 * nowhere else, rotation finished by disabling the others) against an in-memory Secret Manager (there is no emulator),
 * and the receiver part of `currents status` (enabled token versions; answers by status parsed from Cloud Monitoring's
 * timeSeries.list through an injected fetch). The status command itself, on the emulators, is in status-probe.test.ts.
 */
import { run as receiverToken } from '../../../cli/commands/receiver-token';
import {
  credentialSecretLine,
  credentialSecretStatus,
  receiverLines,
  receiverStatus,
} from '../../../cli/commands/status';
import { UsageError } from '../../../common/args';
import { OpsError, resolveTargets } from '../../../cli/ops/context';
import {
  answersByStatus,
  answersQueryUrl,
  type FetchLike,
  parseAnswersByStatus,
  type SecretVersionInfo,
  type TokenSecretClient,
} from '../../../cli/ops/receiver';
import { doorNames } from '../../../shared/door';
import { cli } from '../../support/ops/helpers';

const target = resolveTargets({ env: 'dev', connector: 'email-eu' })[0]!;
// The door of email-eu's Braze workspace: its token secret and its URL.
const SECRET = `projects/replace-me-dev/secrets/${doorNames(target.connector.workspace).tokenSecret}`;
const RECEIVER_URL = `https://europe-west1-replace-me-dev.cloudfunctions.net/${doorNames(target.connector.workspace).function}`;

/** Secret Manager in memory: one secret, its versions with data and state, every call recorded. */
class FakeSecretManager implements TokenSecretClient {
  versions: { name: string; state: 'ENABLED' | 'DISABLED'; data: Buffer }[] = [];
  calls: string[] = [];
  failAdd?: Error;
  failList?: Error;

  constructor(
    readonly secret: string,
    existing: ('ENABLED' | 'DISABLED')[] = [],
  ) {
    existing.forEach((state, i) =>
      this.versions.push({ name: `${secret}/versions/${i + 1}`, state, data: Buffer.from(`old-token-${i + 1}`) }),
    );
  }

  private check(parent: string) {
    if (parent !== this.secret)
      throw Object.assign(new Error(`5 NOT_FOUND: Secret [${parent}] not found`), { code: 5 });
  }

  async addSecretVersion(req: { parent: string; payload: { data: Buffer } }) {
    this.calls.push(`add ${req.parent}`);
    if (this.failAdd) throw this.failAdd;
    this.check(req.parent);
    const v = {
      name: `${req.parent}/versions/${this.versions.length + 1}`,
      state: 'ENABLED' as const,
      data: req.payload.data,
    };
    this.versions.push(v);
    return [{ name: v.name, state: v.state }] as const;
  }

  // Ignores the filter, as a server might not apply it: the command must filter too.
  async listSecretVersions(req: { parent: string; filter?: string }) {
    this.calls.push(`list ${req.parent} ${req.filter ?? ''}`);
    if (this.failList) throw this.failList;
    this.check(req.parent);
    return [[...this.versions].reverse().map(({ name, state }): SecretVersionInfo => ({ name, state }))] as const;
  }

  async disableSecretVersion(req: { name: string }) {
    this.calls.push(`disable ${req.name}`);
    const v = this.versions.find((x) => x.name === req.name)!;
    v.state = 'DISABLED';
    return [{ name: v.name, state: v.state }] as const;
  }

  enabled = () => this.versions.filter((v) => v.state === 'ENABLED').map((v) => Number(v.name.split('/').pop()));
}

/** Runs `currents receiver-token ARGS --env dev --connector email-eu` in process; returns what it printed. */
async function token(secrets: TokenSecretClient, ...args: string[]) {
  const printed: string[] = [];
  const writes: string[] = [];
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (writes.push(String(chunk)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (writes.push(String(chunk)), true)),
    ...(['log', 'error', 'warn', 'info'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...a: unknown[]) => void writes.push(a.join(' '))),
    ),
  ];
  try {
    const code = await receiverToken([...args, '--env', 'dev', '--connector', 'email-eu'], {
      secrets,
      print: (s) => printed.push(s),
    });
    return { code, out: printed.join('\n'), elsewhere: writes.join('') };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

const tokenIn = (out: string) => /^ {2}bearer token {2}(\S+)$/m.exec(out)?.[1];

describe('currents receiver-token new', () => {
  it('adds it as a new enabled version, prints it once with the URL and the Braze steps, and nowhere else', async () => {
    const sm = new FakeSecretManager(SECRET, ['ENABLED']);
    const { code, out, elsewhere } = await token(sm, 'new');
    expect(code).toBe(0);
    const t = tokenIn(out)!;
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sm.versions).toHaveLength(2);
    expect(sm.versions[1]!.data.toString('utf8')).toBe(t);
    expect(sm.enabled()).toEqual([1, 2]); // the old token keeps working until the rotation is finished
    expect(out.split(t)).toHaveLength(2); // exactly once
    expect(elsewhere).not.toContain(t);
    expect(elsewhere).toBe('');
    expect(out).toContain(`  URL           ${RECEIVER_URL}`);
    expect(out).toContain(
      "Braze workspace 'braze-workspace-dev-eu': new door token added as version 2 of currents-door-braze-workspace-dev-eu-token (project replace-me-dev)",
    );
    // The boxes to tick in Braze's form for the workspace's Current, and what to leave unticked.
    expect(out).toContain('Tick exactly these 11 event boxes, then Launch Current:');
    expect(out).toMatch(/^ {7}for email-eu \(11\): Email Aborted, Email Bounced, .*, Email Unsubscribed$/m);
    expect(out).toMatch(/Warning: leave the other 85 exportable event type\(s\) unticked/);
    expect(out).toContain('Partner Integrations → Data Export → Create New Current → Custom Currents Export');
    expect(out).toContain('Endpoint URL: the URL above. Bearer token: the token above.');
    expect(out).toContain(
      "In Braze, workspace 'braze-workspace-dev-eu' (ONE Current for its 1 connector(s): email-eu):",
    );
    expect(out).toContain('`currents receiver-token disable-others --env dev --workspace braze-workspace-dev-eu`');
    expect(out).toContain('stack output `door-braze-workspace-dev-eu-url`');
    expect(sm.calls).toEqual([`add ${SECRET}`]);
  });

  it('with --disable-others, disables every other enabled version at once', async () => {
    const sm = new FakeSecretManager(SECRET, ['DISABLED', 'ENABLED', 'ENABLED']);
    const { code, out } = await token(sm, 'new', '--disable-others');
    expect(code).toBe(0);
    expect(sm.enabled()).toEqual([4]);
    expect(tokenIn(out)).toBe(sm.versions[3]!.data.toString('utf8'));
    expect(out).toMatch(/Disabled the other version\(s\) 2, 3: .*refused \(401\)/);
    expect(sm.calls.filter((c) => c.startsWith('disable'))).toEqual([
      `disable ${SECRET}/versions/2`,
      `disable ${SECRET}/versions/3`,
    ]);
  });

  it('prints the token before disabling the others, so a failure there never loses it', async () => {
    const sm = new FakeSecretManager(SECRET, ['ENABLED']);
    sm.disableSecretVersion = async () => {
      throw Object.assign(new Error('14 UNAVAILABLE: try again'), { code: 14 });
    };
    const printed: string[] = [];
    const err = await receiverToken(['new', '--disable-others', '--env', 'dev', '--connector', 'email-eu'], {
      secrets: sm,
      print: (s) => printed.push(s),
    }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /door token secret currents-door-braze-workspace-dev-eu-token did not answer/,
    );
    expect(tokenIn(printed.join('\n'))).toBe(sm.versions[1]!.data.toString('utf8'));
    expect((err as Error).message).not.toContain(sm.versions[1]!.data.toString('utf8'));
  });

  it('never puts the token in an error, even when the client echoes what it was given', async () => {
    const sm = new FakeSecretManager(SECRET);
    let echoed = '';
    sm.addSecretVersion = async (req) => {
      echoed = req.payload.data.toString('utf8');
      throw Object.assign(new Error(`7 PERMISSION_DENIED: cannot add '${echoed}'`), { code: 7 });
    };
    const err = await token(sm, 'new').catch((e: Error) => e);
    expect(err).toBeInstanceOf(OpsError);
    expect(echoed).toHaveLength(43);
    expect((err as Error).message).not.toContain(echoed);
    expect((err as Error).message).toMatch(
      /connector 'email-eu' .*permission denied on door token secret currents-door-braze-workspace-dev-eu-token.*\[REDACTED\]/,
    );
  });

  it('names the connector when the secret does not exist (not deployed)', async () => {
    const sm = new FakeSecretManager('projects/replace-me-dev/secrets/something-else');
    const err = (await token(sm, 'new').catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(
      /connector 'email-eu' \(environment 'dev'.*door token secret currents-door-braze-workspace-dev-eu-token does not exist; is the connector deployed \(cdktf deploy dev\)/,
    );
  });

  it('refuses to run on the emulators without an injected client: Secret Manager has none', async () => {
    const r = await cli(['receiver-token', 'new', '--env', 'dev', '--connector', 'email-eu'], {
      PUBSUB_EMULATOR_HOST: '127.0.0.1:1',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Secret Manager has no emulator, so door tokens live in project replace-me-dev only/);
  });

  it('says what is missing on the command line', async () => {
    const sm = new FakeSecretManager(SECRET);
    await expect(token(sm)).rejects.toThrow(UsageError);
    await expect(token(sm, 'new', '--keep', '1')).rejects.toThrow(/--keep goes with disable-others/);
    await expect(receiverToken(['new', '--env', 'dev'], { secrets: sm })).rejects.toThrow(
      /--workspace is required: environment 'dev' has 2 Braze workspaces/,
    );
    expect(sm.calls).toEqual([]);
  });
});

describe('currents receiver-token disable-others', () => {
  it('keeps the newest enabled version and disables the others (finishing a rotation)', async () => {
    const sm = new FakeSecretManager(SECRET, ['ENABLED', 'DISABLED', 'ENABLED', 'ENABLED']);
    const { out, elsewhere } = await token(sm, 'disable-others');
    expect(sm.enabled()).toEqual([4]);
    expect(out).toBe(
      "Braze workspace 'braze-workspace-dev-eu': kept version 4 of currents-door-braze-workspace-dev-eu-token; disabled version(s) 1, 3. The door stops accepting them once its short token cache expires.",
    );
    expect(elsewhere).toBe('');
    for (const v of sm.versions) expect(out).not.toContain(v.data.toString('utf8'));
  });

  it('keeps the version given with --keep, refuses one that is not enabled, and says when nothing is enabled', async () => {
    const sm = new FakeSecretManager(SECRET, ['ENABLED', 'DISABLED', 'ENABLED']);
    await expect(token(sm, 'disable-others', '--keep', '2')).rejects.toThrow(
      /--keep 2: not an enabled version of currents-door-braze-workspace-dev-eu-token \(enabled: 3, 1\)/,
    );
    expect(sm.enabled()).toEqual([1, 3]);
    await token(sm, 'disable-others', '--keep', '1');
    expect(sm.enabled()).toEqual([1]);
    const { out } = await token(sm, 'disable-others');
    expect(out).toMatch(/version 1 is the only enabled version .*nothing to disable/);
    await token(sm, 'disable-others'); // idempotent
    expect(sm.enabled()).toEqual([1]);
    const none = new FakeSecretManager(SECRET, ['DISABLED']);
    await expect(token(none, 'disable-others')).rejects.toThrow(
      /has no enabled version; make a token with `currents receiver-token new --env dev --workspace braze-workspace-dev-eu`/,
    );
  });
});

/** A Monitoring timeSeries.list page as the REST API answers it (int64 values as strings). */
const page = (series: [status: string, values: number[]][], nextPageToken?: string) => ({
  timeSeries: series.map(([status, values]) => ({
    metric: { type: 'logging.googleapis.com/user/currents-door-braze-workspace-dev-eu-requests', labels: { status } },
    resource: { type: 'cloud_run_revision', labels: { project_id: 'replace-me-dev' } },
    metricKind: 'DELTA',
    valueType: 'INT64',
    points: values.map((v) => ({
      interval: { startTime: '2026-03-02T10:45:00Z', endTime: '2026-03-02T11:00:00Z' },
      value: { int64Value: String(v) },
    })),
  })),
  unit: '1',
  ...(nextPageToken ? { nextPageToken } : {}),
});

/** An injected fetch answering `pages` in order, recording each URL and authorization header. */
function fakeFetch(answers: { status?: number; body: unknown }[]) {
  const seen: { url: string; authorization?: string }[] = [];
  const fetch: FetchLike = async (url, init) => {
    seen.push({ url, authorization: init.headers.authorization });
    const a = answers[seen.length - 1] ?? { status: 500, body: { error: { message: 'unexpected call' } } };
    const status = a.status ?? 200;
    return {
      ok: status < 300,
      status,
      json: async () => a.body,
      text: async () => JSON.stringify(a.body),
    };
  };
  return { fetch, seen };
}

describe('the receiver in currents status', () => {
  const now = Date.parse('2026-03-02T11:00:00.000Z');

  it('parses answers by status from timeSeries.list (values summed over points and pages)', () => {
    expect(
      parseAnswersByStatus(
        page([
          ['202', [40, 2]],
          ['401', [3]],
        ]),
      ),
    ).toEqual({ '202': 42, '401': 3 });
    expect(parseAnswersByStatus({})).toEqual({}); // no requests in the window: no series at all
    expect(parseAnswersByStatus(page([['503', [1]]]), { '503': 2 })).toEqual({ '503': 3 });
    expect(() => parseAnswersByStatus({ timeSeries: 'nope' })).toThrow(/not a list/);
    expect(() => parseAnswersByStatus(page([['200', [NaN]]]))).toThrow(/non-numeric value 'NaN'/);
  });

  it('asks Cloud Monitoring for the connector’s metric over the last 15 minutes, by status, every page', async () => {
    const { fetch, seen } = fakeFetch([
      {
        body: page(
          [
            ['202', [10]],
            ['401', [1]],
          ],
          'page-2',
        ),
      },
      {
        body: page([
          ['202', [5]],
          ['503', [2]],
        ]),
      },
    ]);
    const counts = await answersByStatus(
      { fetch, accessToken: async () => 'ya29.test' },
      'replace-me-dev',
      'braze-workspace-dev-eu',
      now,
    );
    expect(counts).toEqual({ '202': 15, '401': 1, '503': 2 });
    expect(seen).toHaveLength(2);
    expect(seen.every((s) => s.authorization === 'Bearer ya29.test')).toBe(true);
    const first = new URL(seen[0]!.url);
    expect(`${first.origin}${first.pathname}`).toBe(
      'https://monitoring.googleapis.com/v3/projects/replace-me-dev/timeSeries',
    );
    expect(Object.fromEntries(first.searchParams)).toEqual({
      filter: 'metric.type="logging.googleapis.com/user/currents-door-braze-workspace-dev-eu-requests"',
      'interval.startTime': '2026-03-02T10:45:00.000Z',
      'interval.endTime': '2026-03-02T11:00:00.000Z',
      'aggregation.alignmentPeriod': '900s',
      'aggregation.perSeriesAligner': 'ALIGN_SUM',
      'aggregation.crossSeriesReducer': 'REDUCE_SUM',
      'aggregation.groupByFields': 'metric.label.status',
    });
    expect(new URL(seen[1]!.url).searchParams.get('pageToken')).toBe('page-2');
    expect(answersQueryUrl('replace-me-dev', 'braze-workspace-dev-eu', now, 15)).toBe(seen[0]!.url);
  });

  it('says why when Cloud Monitoring refuses', async () => {
    const { fetch } = fakeFetch([
      {
        status: 403,
        body: {
          error: { code: 403, status: 'PERMISSION_DENIED', message: 'Permission monitoring.timeSeries.list denied' },
        },
      },
    ]);
    await expect(
      answersByStatus({ fetch, accessToken: async () => 't' }, 'replace-me-dev', 'email-eu', now),
    ).rejects.toThrow(
      /Cloud Monitoring answered 403 \(PERMISSION_DENIED: Permission monitoring.timeSeries.list denied\); .*roles\/monitoring.viewer/,
    );
  });

  it('reports the URL, the enabled token versions and the answers, and never a token', async () => {
    const sm = new FakeSecretManager(SECRET, ['DISABLED', 'ENABLED', 'ENABLED']);
    const { fetch } = fakeFetch([
      {
        body: page([
          ['202', [118]],
          ['401', [2]],
          ['503', [1]],
        ]),
      },
    ]);
    const report = await receiverStatus(
      target,
      { secrets: sm, monitoring: { fetch, accessToken: async () => 't' } },
      now,
    );
    expect(report).toEqual({
      url: RECEIVER_URL,
      workspace: 'braze-workspace-dev-eu',
      connectors: ['email-eu'],
      boxes: [expect.stringMatching(/^for email-eu \(11\): Email Aborted, /)],
      warning: expect.stringMatching(/^leave the other 85 exportable event type\(s\) unticked/),
      tokenVersions: { enabled: 2 },
      answers: { minutes: 15, total: 121, byStatus: { '202': 118, '401': 2, '503': 1 } },
    });
    const text = receiverLines(report).map(([k, v]) => `${k}: ${v}`);
    expect(text).toEqual([
      `receiver: ${RECEIVER_URL}`,
      `workspace: ${'braze-workspace-dev-eu'}: one Current, one door for email-eu`,
      expect.stringMatching(/^braze boxes: for email-eu \(11\): /),
      expect.stringMatching(/^warning: leave the other 85 /),
      'tokens: 2 versions enabled (a rotation in progress? `receiver-token disable-others` finishes it)',
      'answers (15m): 121 request(s): 202 ×118, 401 ×2, 503 ×1',
    ]);
    const all = JSON.stringify(report) + text.join('\n');
    for (const v of sm.versions) expect(all).not.toContain(v.data.toString('utf8'));
  });

  it('says "not available locally" without sources, and why a figure could not be read otherwise', async () => {
    const local = await receiverStatus(target, {}, now);
    expect(local).toEqual({
      url: RECEIVER_URL,
      workspace: 'braze-workspace-dev-eu',
      connectors: ['email-eu'],
      boxes: [expect.stringMatching(/^for email-eu \(11\): Email Aborted, /)],
      warning: expect.stringMatching(/^leave the other 85 exportable event type\(s\) unticked/),
      local: true,
      tokenVersions: { unavailable: 'not available locally (Secret Manager has no emulator)' },
      answers: { unavailable: 'not available locally (Cloud Monitoring has no emulator)' },
    });
    expect(receiverLines(local)[0]![1]).toBe(`${RECEIVER_URL} (when deployed; \`npm start\` prints the local one)`);

    const sm = new FakeSecretManager(SECRET);
    sm.failList = Object.assign(new Error('7 PERMISSION_DENIED: no'), { code: 7 });
    const { fetch } = fakeFetch([{ status: 404, body: { error: { status: 'NOT_FOUND', message: 'no metric' } } }]);
    const broken = await receiverStatus(
      target,
      { secrets: sm, monitoring: { fetch, accessToken: async () => 't' } },
      now,
    );
    expect(broken.tokenVersions).toEqual({
      unavailable: expect.stringMatching(
        /^connector 'email-eu' .*permission denied on door token secret currents-door-braze-workspace-dev-eu-token/,
      ),
    });
    expect(broken.answers).toEqual({
      unavailable: expect.stringMatching(
        /^connector 'email-eu' .*Cloud Monitoring answered 404 .*is the connector deployed/,
      ),
    });
    const none = await receiverStatus(target, { secrets: new FakeSecretManager(SECRET, ['DISABLED']) }, now);
    expect(receiverLines(none).find(([k]) => k === 'tokens')![1]).toBe(
      'none enabled: Braze is refused; make one with `currents receiver-token new`',
    );
  });
});

describe('status: the credential secret', () => {
  const CREDENTIAL = `projects/replace-me-dev/secrets/${target.names.secret}`;

  it('counts its enabled versions, and says when there is none that every event parks', async () => {
    const two = await credentialSecretStatus(target, {
      secrets: new FakeSecretManager(CREDENTIAL, ['ENABLED', 'DISABLED', 'ENABLED']),
    });
    expect(two).toEqual({ secret: target.names.secret, enabled: 2 });
    expect(credentialSecretLine(two)).toEqual([
      'credential',
      `${target.names.secret}: 2 versions enabled (the latest is used)`,
    ]);
    const none = await credentialSecretStatus(target, { secrets: new FakeSecretManager(CREDENTIAL, ['DISABLED']) });
    expect(credentialSecretLine(none)[1]).toBe(
      `${target.names.secret} has no enabled version: every event is parked until one is added ` +
        '(`gcloud secrets versions add`, README "Deploying")',
    );
  });

  it('says why it could not be read, and "not available locally" without Secret Manager', async () => {
    const sm = new FakeSecretManager(CREDENTIAL);
    sm.failList = Object.assign(new Error('7 PERMISSION_DENIED: no'), { code: 7 });
    expect(await credentialSecretStatus(target, { secrets: sm })).toEqual({
      unavailable: expect.stringMatching(
        new RegExp(`^connector 'email-eu' .*permission denied on credential secret ${target.names.secret}`),
      ),
    });
    expect(await credentialSecretStatus(target, {})).toEqual({
      unavailable: 'not available locally (Secret Manager has no emulator)',
    });
  });
});
