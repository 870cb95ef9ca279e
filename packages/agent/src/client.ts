import type { ModelConfig } from '@hangar/api';
import { AnthropicClient } from './anthropic.js';
import type { ClientOptions } from './client-options.js';
import type { ModelClient } from './conversation.js';
import { OpenAiClient } from './openai.js';
import { ModelError } from './model-error.js';

/**
 * The client for a task's model. The base URL must be http or https; it always comes from the
 * task or the organization policy, never from a default.
 */
export function createModelClient(
  config: ModelConfig,
  options: Omit<ClientOptions, 'baseUrl' | 'model'> = {},
): ModelClient {
  let url: URL;
  try {
    url = new URL(config.baseUrl);
  } catch {
    throw new ModelError('refused', `model.baseUrl ${config.baseUrl} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ModelError('refused', `model.baseUrl must be http or https, not ${url.protocol}`);
  }
  const full = { ...options, baseUrl: config.baseUrl, model: config.model };
  return config.api === 'openai' ? new OpenAiClient(full) : new AnthropicClient(full);
}
