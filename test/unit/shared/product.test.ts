import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRODUCT } from '../../../shared/product';

describe('PRODUCT', () => {
  it('has the name and version of package.json', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect({ name: PRODUCT.name, version: PRODUCT.version }).toEqual({ name: pkg.name, version: pkg.version });
  });
});
