// The one data-fetching configuration: retries only for retryable errors
// (network, 5xx), never for validation or permission errors.
import { QueryClient } from '@tanstack/react-query';
import { ApiError } from '../api/client';

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        refetchOnWindowFocus: false,
        retry: (count, error) => count < 3 && error instanceof ApiError && error.retryable,
      },
      mutations: { retry: false },
    },
  });
}
