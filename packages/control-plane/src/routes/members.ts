import { Type } from 'typebox';
import { AddMemberBody, Id, MemberList, MemberSchema, SetMemberRoleBody } from '@hangar/api';
import type { Context } from '../context.js';
import { admins, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { addMember, listMembers, removeMember, setMemberRole } from '../services/members.js';
import { metaOf, routes } from './plugin.js';

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

/**
 * The organization's members. Every route needs the org:admin scope; owners and admins list
 * and change them (and only owners touch an owner).
 */
export function memberRoutes(context: Context) {
  return routes((app) => {
    app.get(
      '/v1/members',
      {
        config: { access: userRule('org:admin', admins) },
        schema: {
          summary: 'The members of your organization, removed ones too (with removedAt)',
          response: { 200: MemberList },
        },
      },
      async (request) => ({ members: await listMembers(context, principalOf(request)) }),
    );

    app.post(
      '/v1/members',
      {
        config: { access: userRule('org:admin', admins) },
        schema: {
          summary: 'Add a member by OpenID Connect issuer and subject, before their first sign-in',
          description:
            'Creates the user keyed oidc:<issuer>#<subject> with the role given (owner only by ' +
            'an owner); their first sign-in finds it. A removed member is added again (200).',
          body: AddMemberBody,
          response: { 200: MemberSchema, 201: MemberSchema },
        },
      },
      async (request, reply) => {
        const added = await addMember(context, principalOf(request), request.body, metaOf(request));
        reply.status(added.created ? 201 : 200);
        return added.member;
      },
    );

    app.patch(
      '/v1/members/:id',
      {
        config: { access: userRule('org:admin', admins) },
        schema: {
          summary: "Change a member's role",
          description:
            'Only an owner makes or unmakes an owner; the last owner keeps the role; nobody ' +
            'changes their own role.',
          params: IdParams,
          body: SetMemberRoleBody,
          response: { 200: MemberSchema },
        },
      },
      async (request) =>
        setMemberRole(
          context,
          principalOf(request),
          request.params.id,
          request.body.role,
          metaOf(request),
        ),
    );

    app.delete(
      '/v1/members/:id',
      {
        config: { access: userRule('org:admin', admins) },
        schema: {
          summary: 'Remove a member: every token, session and SSH key ends, environments stop',
          params: IdParams,
          response: { 200: MemberSchema },
        },
      },
      async (request) =>
        removeMember(context, principalOf(request), request.params.id, metaOf(request)),
    );
  });
}
