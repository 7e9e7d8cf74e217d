/**
 * An error the HTTP API reports as `{"error": message, "status": status}` (Toxiproxy's
 * `ApiError`). Messages are the real server's exact strings, because Go clients and
 * upstream tests compare them.
 */
export class ApiError extends Error {
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export const badRequestBody = (detail: string): ApiError => new ApiError(`bad request body: ${detail}`, 400);
export const missingField = (detail: string): ApiError => new ApiError(`missing required field: ${detail}`, 400);
export const proxyNotFound = (): ApiError => new ApiError('proxy not found', 404);
export const proxyAlreadyExists = (): ApiError => new ApiError('proxy already exists', 409);
export const invalidStream = (): ApiError =>
  new ApiError('stream was invalid, can be either upstream or downstream', 400);
export const invalidToxicType = (): ApiError => new ApiError('invalid toxic type', 400);
export const toxicAlreadyExists = (): ApiError => new ApiError('toxic already exists', 409);
export const toxicNotFound = (): ApiError => new ApiError('toxic not found', 404);

/** Any other failure is a 500 carrying the error text, as the real server does. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(error instanceof Error ? error.message : String(error), 500);
}
