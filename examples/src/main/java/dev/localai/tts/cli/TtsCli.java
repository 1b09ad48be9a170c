package dev.localai.tts.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine;

/** The {@code tts} command line. */
@Command(name = "tts", mixinStandardHelpOptions = true, version = "tts 0.1.0",
        description = "Chatterbox Turbo text-to-speech on the JVM.",
        subcommands = {SpeakCommand.class, VoicesCommand.class, DownloadCommand.class,
                MakeTinyCheckpointCommand.class, ComponentCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class TtsCli implements Runnable {
    /** Exit code of a command that failed for a reason the message explains. */
    public static final int EXIT_FAILURE = 1;
    /** Exit code when the model hub cannot be used (offline, unreachable). */
    public static final int EXIT_HUB_UNAVAILABLE = 3;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Show stack traces of errors.")
    boolean verbose;

    /** The process environment, replaceable in tests. */
    final Map<String, String> env;
    final Path userHome;
    /** Where {@code speak} reads text from when neither --text nor --text-file is given (or --text -). */
    java.io.InputStream stdin = System.in;
    /** Where {@code speak --out -} writes the audio: the process's standard output, as bytes. */
    java.io.OutputStream stdout = System.out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public TtsCli(Map<String, String> env, Path userHome) {
        this.env = env;
        this.userHome = userHome;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A configured command line: friendly error messages, stack traces only with --verbose. */
    public static CommandLine commandLine(Map<String, String> env, Path userHome) {
        return commandLine(env, userHome, System.in);
    }

    /** A configured command line reading standard input from {@code stdin}. */
    public static CommandLine commandLine(Map<String, String> env, Path userHome, java.io.InputStream stdin) {
        return commandLine(env, userHome, stdin, System.out);
    }

    /**
     * A configured command line reading standard input from {@code stdin} and writing audio for {@code --out -} to
     * {@code stdout} (text output goes to the command line's {@code getOut()} writer, as always).
     */
    public static CommandLine commandLine(Map<String, String> env, Path userHome, java.io.InputStream stdin,
                                          java.io.OutputStream stdout) {
        TtsCli root = new TtsCli(env, userHome);
        root.stdin = stdin;
        root.stdout = stdout;
        CommandLine cl = new CommandLine(root);
        cl.setParameterExceptionHandler(TtsCli::usageError);
        cl.setExecutionStrategy(parseResult -> {
            Logging.configure(root.verbose);
            return new CommandLine.RunLast().execute(parseResult);
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (root.verbose) {
                ex.printStackTrace(err);
            } else {
                err.println("tts: error: " + Errors.message(ex));
            }
            err.flush();
            return Errors.exitCode(ex);
        });
        return cl;
    }

    /**
     * A usage mistake (missing or unknown option, bad value) is one line naming the mistake and where the help is,
     * not the whole usage text. Exit code 2, as picocli's default.
     */
    private static int usageError(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        String message = ex.getMessage() == null ? "invalid arguments" : ex.getMessage().strip();
        if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            message += " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
        }
        err.println("tts: error: " + message.lines().findFirst().orElse(message) + "; see '"
                + cl.getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    public static void main(String[] args) {
        CommandLine cl = commandLine(System.getenv(), Path.of(System.getProperty("user.home")));
        int code = cl.execute(args);
        if (!ranACommand(code, cl.getParseResult())) {
            // the JVM archive this first run may write would hold little of what a real run needs
            dev.localai.tts.core.runtime.JvmArchive.discard();
        }
        System.exit(code);
    }

    /**
     * Whether a run did its work (pure logic): it exited with 0 and ran a command, not only help or a version
     * ({@code --help}, {@code --version}, {@code help ...}) or a group's usage ({@code tts}, {@code tts bench}). The
     * launcher keeps the JVM archive of the first run only then ({@link dev.localai.tts.core.runtime.JvmArchive}).
     */
    static boolean ranACommand(int exitCode, CommandLine.ParseResult parsed) {
        if (exitCode != 0 || parsed == null) {
            return false;
        }
        CommandLine.ParseResult last = parsed;
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.isUsageHelpRequested() || p.isVersionHelpRequested()
                    || p.commandSpec().userObject() instanceof CommandLine.HelpCommand) {
                return false;
            }
            last = p;
        }
        // a command with subcommands of its own (tts, tts bench, tts voices) only prints its usage when run
        return last.commandSpec().subcommands().isEmpty();
    }
}
