/** The voice library endpoints: list, upload, rename, delete and preview. */
package dev.localai.tts.server.voices;
