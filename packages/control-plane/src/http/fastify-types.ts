import type { AccessRule } from './access-rules.js';
import type { UserPrincipal } from './principal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
  interface FastifyRequest {
    principal?: UserPrincipal;
  }
}

export {};
