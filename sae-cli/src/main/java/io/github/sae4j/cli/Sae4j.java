package io.github.sae4j.cli;

import io.github.sae4j.core.Sae4jVersion;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sae4j} command. */
@Command(name = "sae4j", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
        versionProvider = Sae4j.Version.class,
        description = "Sparse autoencoders for interpreting language models.",
        subcommands = {SentencesCommand.class, CaptureCommand.class, TrainCommand.class, EvalCommand.class, TopActivationsCommand.class, LabelCommand.class, FeatureCommand.class, FinetuneDecoderCommand.class, SteerCommand.class, ServeCommand.class, GenerateCommand.class, ChatCommand.class, InfoCommand.class, SynthCommand.class, StackCommand.class,
                BenchCommand.class, DemoCommand.class, PluginsCommand.class, CommandLine.HelpCommand.class})
public final class Sae4j implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the command line with the given streams and returns the exit code (0 ok, 1 failed, 2 bad usage). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        int code = commandLine(out, err).execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /**
     * The command line, set up as {@link #run} uses it; {@code instances} are used for their command classes instead
     * of new ones (tests reach into a running command this way).
     */
    static CommandLine commandLine(PrintWriter out, PrintWriter err, Object... instances) {
        CommandLine.IFactory defaults = CommandLine.defaultFactory();
        CommandLine cli = new CommandLine(new Sae4j(), new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                for (Object o : instances) {
                    if (type == o.getClass()) {
                        return type.cast(o);
                    }
                }
                return defaults.create(type);
            }
        });
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
            commandLine.getErr().println("error: " + describe(cause));
            if (System.getenv("SAE4J_DEBUG") != null) {
                cause.printStackTrace(commandLine.getErr());
            } else if (!(cause instanceof IllegalArgumentException || cause instanceof IllegalStateException
                    || cause instanceof IOException)) {
                commandLine.getErr().println("(set SAE4J_DEBUG=1 for the stack trace)");
            }
            commandLine.getErr().flush();
            return 1;
        });
        return cli;
    }

    private static String describe(Throwable e) {
        if (e instanceof NoSuchFileException n) {
            return "no such file: " + n.getFile() + (n.getReason() != null ? " (" + n.getReason() + ")" : "");
        }
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"sae4j " + Sae4jVersion.VERSION + " (Java " + Runtime.version() + ")"};
        }
    }
}
