/** The engine as the server holds it: loaded in the background, with a readiness state and a reason when it fails. */
package dev.localai.tts.server.engine;
