/**
 * The identities a first deploy on a fresh project needs before its functions and push subscriptions, declared once
 * per environment:
 *
 * - the **build service account**: since mid-2024 new projects build Cloud Functions as a default build account that
 *   lacks the roles a build needs (Google's "Use a custom build service account"). Every function of the environment
 *   is built as this account, which may exactly: write build logs (`roles/logging.logWriter`), push the function's
 *   image to Artifact Registry (`roles/artifactregistry.writer`), and read the source archive
 *   (`roles/storage.objectViewer`, only on the environment's source bucket and on the `gcf-v2-sources-*` buckets
 *   Cloud Functions copies each source archive into for its build). Whoever runs the deploy needs `actAs` on it
 *   (`roles/iam.serviceAccountUser` on this account: docs/deploying.md);
 * - the **Pub/Sub service agent**, made to exist (`google_project_service_identity`, a google-beta resource, after the
 *   Pub/Sub API) before anything grants it a role: the stack makes everything of Pub/Sub, the grants to the agent
 *   included, depend on it.
 */
import { type ITerraformDependable, TerraformProvider, TerraformResource } from 'cdktf';
import { type Construct } from 'constructs';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { buildServiceAccountId } from '../shared/names';

/** The Google provider's version, which the google-beta provider is pinned to as well. */
const GOOGLE_PROVIDER_VERSION = '6.50.0';

/**
 * The google-beta provider (hashicorp/google-beta), for the one resource the GA provider lacks. CDKTF's prebuilt
 * package covers the GA provider only, so it is declared here directly, with the two arguments it needs.
 */
export class GoogleBetaProvider extends TerraformProvider {
  constructor(
    scope: Construct,
    id: string,
    private readonly config: { readonly project: string; readonly region: string },
  ) {
    super(scope, id, {
      terraformResourceType: 'google-beta',
      terraformGeneratorMetadata: { providerName: 'google-beta', providerVersion: GOOGLE_PROVIDER_VERSION },
      terraformProviderSource: 'google-beta',
    });
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { project: this.config.project, region: this.config.region };
  }
}

/** `google_project_service_identity`: creates a service's agent (if it does not exist yet) and gives its email. */
export class ProjectServiceIdentity extends TerraformResource {
  constructor(
    scope: Construct,
    id: string,
    private readonly config: {
      readonly provider: GoogleBetaProvider;
      readonly project: string;
      readonly service: string;
      readonly dependsOn?: ITerraformDependable[];
    },
  ) {
    super(scope, id, {
      terraformResourceType: 'google_project_service_identity',
      terraformGeneratorMetadata: { providerName: 'google-beta', providerVersion: GOOGLE_PROVIDER_VERSION },
      provider: config.provider,
      dependsOn: config.dependsOn,
    });
  }

  /** The agent's email (known once the agent exists). */
  get email(): string {
    return this.getStringAttribute('email');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { project: this.config.project, service: this.config.service };
  }
}

/** The roles a function build needs (Google's "Use a custom build service account"); object reads conditioned. */
export const BUILD_ROLES: readonly string[] = [
  'roles/logging.logWriter',
  'roles/artifactregistry.writer',
  'roles/storage.objectViewer',
];

/** The IAM condition limiting the build account's object reads to the source buckets. */
export function buildSourceCondition(sourceBucket: string) {
  const bucket = `projects/_/buckets/${sourceBucket}`;
  return {
    title: 'function-sources-only',
    description: "Source archives only: the environment's source bucket and Cloud Functions' gcf-v2-sources-* copies",
    expression:
      `resource.name == "${bucket}" || resource.name.startsWith("${bucket}/") || ` +
      'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")',
  };
}

export interface BuildIdentity {
  readonly serviceAccount: ServiceAccount;
  /** Its grants: a function build waits for them. */
  readonly grants: ProjectIamMember[];
}

/** The environment's build service account and its grants (exactly BUILD_ROLES). */
export function buildIdentity(
  scope: Construct,
  env: { readonly name: string; readonly project: string },
  sourceBucket: string,
  after: { readonly iam?: ITerraformDependable; readonly cloudresourcemanager?: ITerraformDependable },
): BuildIdentity {
  const serviceAccount = new ServiceAccount(scope, 'build-sa', {
    project: env.project,
    accountId: buildServiceAccountId(env.name),
    displayName: `Currents ${env.name}: function builds`,
    description: `Cloud Build identity of the '${env.name}' functions: build logs, images, source archives`,
    ...(after.iam ? { dependsOn: [after.iam] } : {}),
  });
  const grants = BUILD_ROLES.map(
    (role) =>
      new ProjectIamMember(scope, `build-${role.replace(/^roles\//, '').replace(/\./g, '-')}`, {
        project: env.project,
        role,
        member: serviceAccount.member,
        ...(role === 'roles/storage.objectViewer' ? { condition: buildSourceCondition(sourceBucket) } : {}),
        ...(after.cloudresourcemanager ? { dependsOn: [after.cloudresourcemanager] } : {}),
      }),
  );
  return { serviceAccount, grants };
}
