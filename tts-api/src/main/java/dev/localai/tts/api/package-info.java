/**
 * OpenAI-compatible wire types of the TTS server: the speech request ({@code POST /v1/audio/speech}) and its
 * validation, models and voices listings, the error envelope and the SSE events of
 * {@code stream_format=sse}. Plain records serialised with Jackson 2; no natives, no server code.
 *
 * <p>The contract follows OpenAI's published OpenAPI description: a request is parsed with
 * {@link dev.localai.tts.api.SpeechRequestParser}, which rejects bad input with an {@link dev.localai.tts.api.ApiException}
 * naming the offending parameter, so that a server can answer 4xx with {@link dev.localai.tts.api.ErrorResponse}.
 */
package dev.localai.tts.api;
