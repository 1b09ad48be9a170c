/** The server's configuration: the immutable {@link dev.localai.tts.server.config.ServerConfig} and its loader. */
package dev.localai.tts.server.config;
