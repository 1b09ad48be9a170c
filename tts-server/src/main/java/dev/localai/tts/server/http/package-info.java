/** HTTP plumbing shared by the endpoints: filters (request id, CORS, API key), error envelope, bodies, multipart. */
package dev.localai.tts.server.http;
