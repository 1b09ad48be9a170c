/** Static files of the playground, served from the classpath folder {@code web/}. */
package dev.localai.tts.server.web;
