/**
 * The Wyoming protocol endpoint: text-to-speech for Home Assistant (and any Wyoming client) over a plain TCP socket,
 * as wyoming-piper serves it. Each event is one JSON header line, optionally followed by {@code data_length} bytes
 * of extra JSON data and {@code payload_length} bytes of binary payload.
 *
 * <ul>
 *   <li>{@code describe} is answered with {@code info}: one TTS program listing the voice library;</li>
 *   <li>{@code synthesize} with {@code audio-start}, {@code audio-chunk}s (16-bit mono PCM at 24 kHz, sent as the
 *       engine makes them) and {@code audio-stop};</li>
 *   <li>the streamed form {@code synthesize-start}, {@code synthesize-chunk}s, {@code synthesize-stop} is spoken
 *       sentence by sentence (one {@code audio-start} ... {@code audio-stop} each) and closed with
 *       {@code synthesize-stopped};</li>
 *   <li>bad input gets an {@code error} event ({@code text}, {@code code}) and the connection is closed.</li>
 * </ul>
 */
package dev.localai.tts.server.wyoming;
