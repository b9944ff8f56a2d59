/**
 * Jest setup (every test file, both projects): the CLI's default definitions are the product's own fixtures, never the
 * team's connectors/ (user data a team changes freely). Child processes the tests spawn inherit it.
 */
import { join } from 'node:path';
import { DEFINITIONS_ENV } from '../../cli/definitions';

process.env[DEFINITIONS_ENV] = join(__dirname, '..', 'fixtures', 'definitions', 'index.ts');
