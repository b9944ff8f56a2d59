/** The connector field `storage: { bucket, prefix }`: optional, validated like every other field, errors naming it. */
import { formatValidationError, parseConnector, validateEnvironments } from '../../../shared/connector';
import { connector } from '../../fixtures/connector';

const valid = connector('email-eu', { displayName: 'EU email', workspace: 'ws' });
const messages = (definition: unknown) =>
  validateEnvironments([{ name: 'dev', project: 'replace-me-dev', region: 'europe-west1', connectors: [definition] }])
    .errors.map(formatValidationError)
    .join('\n');

it('is optional; the prefix defaults to none', () => {
  expect(parseConnector(valid).connector?.storage).toBeUndefined();
  expect(parseConnector({ ...valid, storage: { bucket: 'acme-braze-export' } }).connector?.storage).toEqual({
    bucket: 'acme-braze-export',
    prefix: '',
  });
  expect(
    parseConnector({ ...valid, storage: { bucket: 'acme.export_1', prefix: 'braze/currents' } }).connector?.storage,
  ).toEqual({ bucket: 'acme.export_1', prefix: 'braze/currents' });
});

it.each([
  [{ bucket: 'Acme_Export' }, /storage\.bucket.*Cloud Storage bucket name/],
  [{ bucket: 'gs://acme' }, /storage\.bucket.*Cloud Storage bucket name/],
  [{}, /storage\.bucket/],
  [{ bucket: 'acme', prefix: '/currents' }, /storage\.prefix.*leading or trailing '\/'/],
  [{ bucket: 'acme', prefix: 'currents/' }, /storage\.prefix/],
  [{ bucket: 'acme', prefix: 'my exports' }, /storage\.prefix.*without spaces/],
  [{ bucket: 'acme', region: 'eu' }, /storage/],
])('refuses %j, naming the field', (storage, message) => {
  expect(messages({ ...valid, storage })).toMatch(message);
});
