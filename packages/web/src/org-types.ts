import type { paths } from './api-types.js';
import type { Json } from './client.js';

/** The organization page's API types, each read from the generated OpenAPI types. */

export type Member = Json<paths['/v1/members']['get']['responses'][200]>['members'][number];

export type AddMemberBody = NonNullable<
  paths['/v1/members']['post']['requestBody']
>['content']['application/json'];

export type OrgPolicy = Json<paths['/v1/org/policy']['get']['responses'][200]>;

export type PolicyPatch = NonNullable<
  paths['/v1/org/policy']['patch']['requestBody']
>['content']['application/json'];

export type ProjectRule = NonNullable<OrgPolicy['projects']>[number];
export type EgressPolicy = NonNullable<OrgPolicy['egress']>;
export type EgressRule = NonNullable<EgressPolicy['default']>;
export type AgentPolicy = NonNullable<OrgPolicy['agents']>;
export type PortShareLevel = OrgPolicy['maxPortShareLevel'];

export type Secret = Json<paths['/v1/secrets']['get']['responses'][200]>['secrets'][number];
export type SecretScope = Secret['scope'];
export type SecretDelivery = Secret['delivery'];

export type SetSecretBody = NonNullable<
  paths['/v1/secrets']['put']['requestBody']
>['content']['application/json'];

export type SecretRecipient = Json<
  paths['/v1/secrets/recipients']['get']['responses'][200]
>['recipients'][number];

export type SigningKey = Json<
  paths['/v1/signing-keys']['get']['responses'][200]
>['signingKeys'][number];
