package io.github.sae4j.cli;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.run.DemoManifest;
import io.github.sae4j.serve.FeatureServer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae4j serve}: the local web UI. */
@Command(name = "serve", sortOptions = false, description = {
        "Serve the local web UI on 127.0.0.1: browse and search labeled features, chat with the model while",
        "steering with features (an unsteered reply beside it), and see which latents fire on each token.",
        "Point it at a run directory (--dir, e.g. what sae4j demo wrote) or at --sae and --top."})
final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "a run directory with demo.json (what sae4j demo writes); its files are served under /files/")
    Path dir;

    @Option(names = "--sae", paramLabel = "DIR", description = "the SAE (default: the run directory's)")
    Path sae;

    @Option(names = "--top", paramLabel = "DIR",
            description = "the top-activations directory (default: the run directory's)")
    Path top;

    @Option(names = "--labels", paramLabel = "DIR", description = "where labels.jsonl is (default: the --top directory)")
    Path labels;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "address to listen on (default ${DEFAULT-VALUE}; the UI has no login, keep it local)")
    String host;

    @Option(names = "--port", defaultValue = "7860", description = "port, 0 for any free one (default ${DEFAULT-VALUE})")
    int port;

    @Mixin
    ModelOptions modelOptions;

    /** Set by tests: counted down once the server listens, with its port in {@link #boundPort}. */
    CountDownLatch listening;
    volatile int boundPort;
    /** Set by tests: the server stops when this is counted down. */
    CountDownLatch stop = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path report = null;
        if (dir != null) {
            DemoManifest m = DemoManifest.read(dir);
            if (sae == null) {
                sae = DemoManifest.resolve(dir, m.sae());
            }
            if (top == null) {
                top = DemoManifest.resolve(dir, m.top());
            }
            if (modelOptions.model == null && Files.exists(Path.of(m.model()))) {
                modelOptions.model = Path.of(m.model());
            }
            report = Path.of(m.report());
        }
        if (sae == null || top == null) {
            throw new IllegalArgumentException("say what to serve: --dir RUN (from sae4j demo), or --sae DIR and --top DIR");
        }
        if (!Files.isRegularFile(top.resolve("latents.parquet"))) {
            throw new IllegalArgumentException(top + " holds no latents.parquet; run sae4j top-activations --out " + top
                    + " first");
        }
        try (LanguageModel model = modelOptions.open();
             Backend b = Plugins.openBackend("java", Map.of());
             Sae s = SaeCheckpoint.load(sae, b.devices().getFirst(), Plugins.architectures());
             FeatureServer server = FeatureServer.start(new FeatureServer.Options(host, port, dir,
                     report == null ? null : report.toString()), model, s, top, labels != null ? labels : top)) {
            boundPort = server.port();
            String shown = host.contains(":") ? "[" + host + "]" : host;
            out.printf("sae4j UI for %s on http://%s:%d/  (Ctrl-C to stop)%n", sae, shown, server.port());
            if (!host.equals("127.0.0.1") && !host.equals("localhost") && !host.equals("::1")) {
                out.println("warning: listening on " + host + ": anyone who can reach it can use the model; the UI "
                        + "has no login");
            }
            out.flush();
            if (listening != null) {
                listening.countDown();
            }
            Thread hook = new Thread(() -> stop.countDown(), "sae4j-serve-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                stop.await();
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is exiting: the hook has run
                }
            }
        }
        return 0;
    }
}
