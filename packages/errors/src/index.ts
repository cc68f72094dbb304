export { ERROR_CATALOGUE, ERROR_CODES, statusOf, type ErrorCode } from "./catalogue";
export { AppError, isAppError, notFound } from "./app-error";
