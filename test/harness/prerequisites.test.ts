import { checkPrerequisites, PrerequisiteError } from '../../local/emulators';

describe('emulator prerequisites', () => {
  it('passes on this machine (gcloud, Java and both emulator components are installed)', () => {
    expect(() => checkPrerequisites()).not.toThrow();
  });

  it('fails at once, naming the packages to install, when gcloud and Java are missing', () => {
    const env = { PATH: '/nonexistent' };
    expect(() => checkPrerequisites(env)).toThrow(PrerequisiteError);
    expect(() => checkPrerequisites(env)).toThrow(
      /`gcloud` was not found on PATH: install the Debian package `google-cloud-cli`/,
    );
    expect(() => checkPrerequisites(env)).toThrow(
      /`java` was not found on PATH: install Java 17 or newer \(Debian package `openjdk-17-jre-headless`\)/,
    );
  });
});
