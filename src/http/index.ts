/**
 * The one node:http layer every server uses (gateway, broker ingress, control-plane API,
 * component host, event display): body reading with limits and aborts, timeouts, listen and
 * close, replies. The JSON depth guard lives in protocol (it is pure) and is re-exported here.
 */
export { ClientGone, announcedLength, bodyTooLarge, formatBytes, readBody, readText, type BodyLimit } from './body.ts';
export { closeAfterAnswer, sendFailure, sendJson, sendText, unanswerable } from './reply.ts';
export { checkingIntervalOf, clientFailure, closer, createHttpServer, listen, urlOf, type RequestHandler, type ServerOptions } from './server.ts';
export { httpOptions, type HttpOptions } from './options.ts';
export { MAX_JSON_DEPTH, assertJsonDepth, depthExceededAt } from '../protocol/index.ts';
export * from './request-origin.ts';
