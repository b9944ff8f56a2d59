/**
 * checkPrerequisites against stand-in `gcloud` and `java` programs on an injected PATH, so that each answer of the
 * machine (all there, Java too old, an emulator component missing, nothing installed) is tested on any machine; the
 * same for `terraform`, which the offline Terraform check needs (infra/terraform-check.ts `findTerraform`).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTerraform, TerraformMissingError } from '../../../infra/terraform-check';
import { checkPrerequisites, PrerequisiteError } from '../../../local/emulators';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'prereq-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes an executable shell script `name` into bin/ and returns the PATH holding it. */
function program(name: string, body: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
  return bin;
}

/** A gcloud whose SDK root holds the given emulator components, and a java of the given major version. */
function machine(opts: { javaMajor: number; components: string[] }): NodeJS.ProcessEnv {
  const root = join(dir, 'sdk');
  for (const c of opts.components) mkdirSync(join(root, 'platform', c), { recursive: true });
  program('gcloud', `if [ "$1" = info ]; then echo "${root}"; else echo "Google Cloud SDK 500.0.0"; fi`);
  const bin = program('java', `echo 'openjdk version "${opts.javaMajor}.0.2" 2024-01-16' >&2`);
  return { PATH: bin };
}

describe('emulator prerequisites', () => {
  it('passes when gcloud, Java 11 or newer and both emulator components are there', () => {
    const env = machine({ javaMajor: 17, components: ['pubsub-emulator', 'cloud-firestore-emulator'] });
    expect(() => checkPrerequisites(env)).not.toThrow();
  });

  it('names the emulator component that is missing and its package', () => {
    const env = machine({ javaMajor: 17, components: ['pubsub-emulator'] });
    expect(() => checkPrerequisites(env)).toThrow(PrerequisiteError);
    expect(() => checkPrerequisites(env)).toThrow(
      /the Firestore emulator is not installed: install the Debian package `google-cloud-cli-firestore-emulator`/,
    );
    expect(() => checkPrerequisites(env)).not.toThrow(/Pub\/Sub emulator/);
  });

  it('refuses a Java older than 11', () => {
    const env = machine({ javaMajor: 8, components: ['pubsub-emulator', 'cloud-firestore-emulator'] });
    expect(() => checkPrerequisites(env)).toThrow(
      /Java 8 is too old for the emulators: install openjdk-17-jre-headless/,
    );
  });

  it('fails at once, naming the packages to install, when gcloud and Java are missing', () => {
    const env = { PATH: join(dir, 'empty') };
    expect(() => checkPrerequisites(env)).toThrow(PrerequisiteError);
    expect(() => checkPrerequisites(env)).toThrow(
      /`gcloud` was not found on PATH: install the Debian package `google-cloud-cli`/,
    );
    expect(() => checkPrerequisites(env)).toThrow(
      /`java` was not found on PATH: install Java 17 or newer \(Debian package `openjdk-17-jre-headless`\)/,
    );
  });
});

describe('the terraform prerequisite (the offline Terraform check in npm test)', () => {
  const terraform = (version: string) =>
    program('terraform', `echo '{"terraform_version":"${version}","platform":"linux_amd64"}'`);

  it('passes with Terraform 1.4 or newer (the first with terraform_data)', () => {
    expect(findTerraform({ PATH: terraform('1.11.4') })).toEqual({ version: '1.11.4' });
    expect(findTerraform({ PATH: terraform('1.4.0') })).toEqual({ version: '1.4.0' });
  });

  it('refuses an older Terraform, naming the version and what to install', () => {
    expect(() => findTerraform({ PATH: terraform('1.3.9') })).toThrow(TerraformMissingError);
    expect(() => findTerraform({ PATH: terraform('1.3.9') })).toThrow(
      /Terraform 1\.3\.9 is too old: install Terraform 1\.4 or newer \(HashiCorp’s Debian package `terraform`/,
    );
  });

  it('names the package to install and the check that needs it when terraform is missing', () => {
    const env = { PATH: join(dir, 'empty') };
    expect(() => findTerraform(env)).toThrow(TerraformMissingError);
    expect(() => findTerraform(env)).toThrow(
      /`terraform` was not found on PATH: install Terraform 1\.4 or newer .*test\/unit\/infra\/terraform\.test\.ts/,
    );
  });
});
