/**
 * Output encoders for every OpenAI format (mp3, Ogg/Opus, ADTS/AAC, FLAC, WAV, raw PCM) fed with float PCM chunks
 * as they are produced, and a pitch-preserving WSOLA time-stretch for the {@code speed} parameter.
 *
 * <p>Compressed formats go through FFmpeg (Bytedeco presets, LAME/libopus/native AAC/FLAC, in process); WAV and PCM
 * are written directly. An encoder keeps its codec state across {@link dev.localai.tts.core.audio.encode.AudioEncoder#write
 * writes} and {@link dev.localai.tts.core.audio.encode.AudioEncoder#finish() finish()} drains it and writes the trailer,
 * so a streamed body is one valid file.
 */
package dev.localai.tts.core.audio.encode;
