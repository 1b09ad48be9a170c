package dev.localai.tts.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;

/**
 * Runs the tts command line in-process with a given environment, home and stdin, capturing its output: the text of
 * {@code out} and {@code err}, and the bytes written to standard output ({@code speak --out -}).
 */
final class Cli {
    record Result(int code, String out, String err, byte[] stdout) {}

    private Cli() {
    }

    static Result run(Path home, Map<String, String> env, String stdin, String... args) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        CommandLine cl = TtsCli.commandLine(env, home,
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), bytes);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString(), bytes.toByteArray());
    }
}
