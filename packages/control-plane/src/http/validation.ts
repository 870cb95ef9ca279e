import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { compileRequestValidator } from '@hangar/api';

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) =>
  compileRequestValidator(schema, httpPart);
