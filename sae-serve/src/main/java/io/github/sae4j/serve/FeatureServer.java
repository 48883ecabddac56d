package io.github.sae4j.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.api.model.GenerationResult;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.interpret.LatentStatistics;
import io.github.sae4j.core.interpret.TopActivationReader;
import io.github.sae4j.core.label.LabelStore;
import io.github.sae4j.core.steer.Steering;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.util.JavalinBindException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local web UI: a feature browser over what {@code sae4j top-activations} and {@code sae4j label} wrote, chat
 * with the model streamed as server-sent events with SAE steering and an unsteered reply beside it, and a page that
 * shows which latents fire on each token of a text. The page is plain HTML, CSS and JavaScript from this jar.
 *
 * <p>The model is used by one request at a time (a generation, or a text run through model and SAE); others wait
 * up to {@value #BUSY_WAIT_SECONDS} s and are then told the model is busy. Browsing features never waits.
 */
public final class FeatureServer implements AutoCloseable {

    /**
     * Where to listen and what to show.
     *
     * @param host   the address to bind (127.0.0.1 by default: the UI has no authentication)
     * @param port   the port, 0 for any free one
     * @param root   a directory whose files are served under {@code /files/} (a run directory with a report), or
     *               null for none
     * @param report the report's name under {@code root}, or null
     */
    public record Options(String host, int port, Path root, String report) {
    }

    static final int BUSY_WAIT_SECONDS = 20;
    private static final Logger LOG = LoggerFactory.getLogger(FeatureServer.class);
    private static final Pattern ASSET = Pattern.compile("[a-z0-9-]+\\.(js|css|svg)");
    private static final String UI = "/io/github/sae4j/serve/ui/";
    private static final String UI_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            + "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    private static final String FILE_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
            + "frame-ancestors 'self'";

    private final LanguageModel model;
    private final Sae sae;
    private final HookPoint hook;
    private final FeatureCatalog catalog;
    private final ConfinedFiles files;
    private final String report;
    private final ObjectMapper json = new ObjectMapper();
    private final ReentrantLock modelLock = new ReentrantLock(true);
    private final AtomicLong generations = new AtomicLong();
    private final AtomicLong abandoned = new AtomicLong();
    private final Javalin app;

    private FeatureServer(LanguageModel model, Sae sae, HookPoint hook, FeatureCatalog catalog, ConfinedFiles files,
                          String report, Options options) throws IOException {
        this.model = model;
        this.sae = sae;
        this.hook = hook;
        this.catalog = catalog;
        this.files = files;
        this.report = report;
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            config.http.compressionStrategy = CompressionStrategy.NONE;
            config.http.maxRequestSize = 1 << 20;
            config.routes.get("/", ctx -> asset(ctx, "index.html", "text/html; charset=utf-8"));
            config.routes.get("/static/{name}", ctx -> {
                String name = ctx.pathParam("name");
                if (!ASSET.matcher(name).matches()) {
                    throw new NotFound("no such file: " + name);
                }
                asset(ctx, name, name.endsWith(".js") ? "text/javascript; charset=utf-8"
                        : name.endsWith(".css") ? "text/css; charset=utf-8" : "image/svg+xml");
            });
            config.routes.get("/api/info", this::info);
            config.routes.get("/api/status", ctx -> json(ctx, Map.of("busy", modelLock.isLocked(),
                    "generations", generations.get(), "abandoned", abandoned.get())));
            config.routes.get("/api/features", this::features);
            config.routes.get("/api/features/{latent}", this::feature);
            config.routes.post("/api/chat", this::chat);
            config.routes.post("/api/inspect", this::inspect);
            config.routes.get("/files/<path>", this::file);
            config.routes.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
            config.routes.exception(NotFound.class, (e, ctx) -> error(ctx, 404, e.getMessage()));
            config.routes.exception(Busy.class, (e, ctx) -> error(ctx, 503, e.getMessage()));
            config.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, 500, e.getClass().getSimpleName() + ": " + e.getMessage());
            });
            config.routes.error(404, ctx -> {
                if (ctx.result() == null) {
                    error(ctx, 404, "no such page: " + ctx.path());
                }
            });
        });
        try {
            app.start(options.host(), options.port());
        } catch (JavalinBindException e) {
            app.stop();
            throw new IOException("cannot listen on " + options.host() + ":" + options.port() + ": the port is in use "
                    + "(another sae4j serve?); pass --port with a free port, or --port 0 for any", e);
        } catch (RuntimeException e) {
            app.stop();
            throw new IOException("cannot start the server on " + options.host() + ":" + options.port() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Starts serving. The caller keeps ownership of the model and the SAE and closes them after the server.
     *
     * @param top    the top-activations directory
     * @param labels where labels.jsonl is (usually {@code top}; it may not exist yet)
     */
    public static FeatureServer start(Options options, LanguageModel model, Sae sae, Path top, Path labels)
            throws IOException {
        String at = sae.spec().metadata().get("hook_point");
        if (at == null || at.isEmpty()) {
            throw new IllegalArgumentException("the SAE's cfg.json names no hook point; the UI needs it to read and "
                    + "steer the model");
        }
        if (sae.spec().dIn() != model.info().dModel()) {
            throw new IllegalArgumentException("the SAE reads d_in=" + sae.spec().dIn() + " but " + model.info().name()
                    + " has d_model=" + model.info().dModel());
        }
        FeatureCatalog catalog = new FeatureCatalog(top, labels);
        if (catalog.latents() > sae.spec().dSae()) {
            throw new IllegalArgumentException(top + " describes " + catalog.latents() + " latents but the SAE has "
                    + sae.spec().dSae() + "; were they mined with another SAE?");
        }
        warmUp(model, sae, HookPoint.parse(at));
        ConfinedFiles files = options.root() == null ? null : new ConfinedFiles(options.root());
        String report = options.report() != null && files != null && files.resolve(options.report()).isPresent()
                ? options.report() : null;
        return new FeatureServer(model, sae, HookPoint.parse(at), catalog, files, report, options);
    }

    /**
     * Runs what the first requests run (a steered batch of two, a text through model and SAE) a few times, so that
     * the JIT has compiled it before anyone waits: a cold first reply takes seconds, a warm one a fraction of one.
     */
    private static void warmUp(LanguageModel model, Sae sae, HookPoint hook) {
        int[] ids = model.tokenizer().encode("The President said that", true);
        Steering steering = new Steering(sae, hook, List.of(new Steering.Edit(0, 1, Steering.Mode.BIAS),
                new Steering.Edit(0, 1, Steering.Mode.CLAMP)), Steering.Positions.ALL, ids.length);
        for (int i = 0; i < 3; i++) {
            model.generate(List.of(ids, ids), io.github.sae4j.api.model.GenerationOptions.greedy(16),
                    List.of(new OnlySequence(steering, 0)), null);
            TokenReadout.read(model, sae, hook, ids, 5);
        }
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }

    // ------------------------------------------------------------------ pages and assets

    private void asset(Context ctx, String name, String type) throws IOException {
        try (InputStream in = FeatureServer.class.getResourceAsStream(UI + name)) {
            if (in == null) {
                throw new NotFound("no such file: " + name);
            }
            ctx.header("Content-Security-Policy", UI_POLICY);
            ctx.header("X-Content-Type-Options", "nosniff");
            ctx.header("Referrer-Policy", "no-referrer");
            ctx.contentType(type).result(in.readAllBytes());
        }
    }

    private void file(Context ctx) throws IOException {
        String name = ctx.pathParam("path");
        Optional<Path> p = files == null ? Optional.empty() : files.resolve(name);
        if (p.isEmpty()) {
            throw new NotFound("no such file under the served directory: " + name);
        }
        ctx.header("Content-Security-Policy", FILE_POLICY);
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.contentType(ConfinedFiles.contentType(p.get())).result(Files.readAllBytes(p.get()));
    }

    // ------------------------------------------------------------------ API

    private void info(Context ctx) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.info().name());
        m.put("dModel", model.info().dModel());
        m.put("context", model.info().maxContext());
        m.put("hookPoint", hook.toString());
        m.put("architecture", sae.spec().architecture());
        m.put("latents", sae.spec().dSae());
        m.put("settings", sae.spec().settings());
        m.put("minedLatents", catalog.latents());
        m.put("labeled", catalog.labeled());
        m.put("report", report == null ? null : "/files/" + report);
        json(ctx, m);
    }

    private void features(Context ctx) {
        int offset = intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE);
        int limit = intParam(ctx, "limit", 50, 1, 500);
        List<FeatureCatalog.Summary> all = catalog.search(ctx.queryParam("q"), ctx.queryParam("sort"));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total", all.size());
        m.put("offset", offset);
        m.put("items", all.subList(Math.min(offset, all.size()), Math.min(all.size(), offset + limit)));
        json(ctx, m);
    }

    private void feature(Context ctx) {
        int latent = latentParam(ctx.pathParam("latent"));
        int shown = intParam(ctx, "examples", 10, 1, 200);
        TopActivationReader.LatentRow row = catalog.row(latent);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("latent", latent);
        LabelStore.StoredLabel s = catalog.label(latent);
        if (s != null && s.label().succeeded()) {
            m.put("label", s.label().label());
            m.put("confidence", s.label().confidence());
            m.put("labeler", s.labeler() + (s.model().isEmpty() ? "" : " " + s.model()));
        } else {
            m.put("label", null);
            m.put("labelMissing", catalog.missingLabelReason(latent));
        }
        m.put("density", row.density());
        m.put("firingTokens", row.firingTokens());
        m.put("meanActivation", row.meanActivation());
        m.put("dead", row.dead());
        m.put("histogram", row.histogram());
        m.put("histogramMinExponent", LatentStatistics.MIN_EXPONENT);
        List<Map<String, Object>> ex = new ArrayList<>();
        for (ActivatingExample e : catalog.examples(latent).examples()) {
            if (ex.size() == shown) {
                break;
            }
            ex.add(Map.of("sentenceId", e.sentenceId(), "score", e.score(), "tokens", e.tokens(), "activations",
                    e.activations()));
        }
        m.put("examples", ex);
        json(ctx, m);
    }

    private int latentParam(String text) {
        int latent;
        try {
            latent = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a latent is a whole number, got '" + text + "'", e);
        }
        if (latent < 0 || latent >= sae.spec().dSae()) {
            throw new NotFound("feature " + latent + " does not exist: the SAE has latents 0.." + (sae.spec().dSae() - 1));
        }
        if (!catalog.has(latent)) {
            throw new NotFound("feature " + latent + " was not mined: " + catalog.top() + " covers latents 0.."
                    + (catalog.latents() - 1));
        }
        return latent;
    }

    private void inspect(Context ctx) throws Exception {
        JsonNode body = body(ctx);
        String text = body.path("text").asText("");
        if (text.isBlank()) {
            throw new IllegalArgumentException("text is empty: type something to run through the model");
        }
        int strongest = body.path("top").asInt(5);
        if (strongest < 1 || strongest > 64) {
            throw new IllegalArgumentException("top must be in 1..64, got " + strongest);
        }
        int[] ids = model.tokenizer().encode(text, false);
        checkContext(ids.length, 0);
        List<TokenReadout.TokenLatents> tokens;
        lockModel();
        try {
            tokens = TokenReadout.read(model, sae, hook, ids, strongest);
        } finally {
            modelLock.unlock();
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (TokenReadout.TokenLatents t : tokens) {
            List<Map<String, Object>> latents = new ArrayList<>();
            for (TokenReadout.Firing f : t.latents()) {
                Map<String, Object> l = new LinkedHashMap<>();
                l.put("latent", f.latent());
                l.put("activation", f.activation());
                l.put("label", catalog.labelText(f.latent()));
                latents.add(l);
            }
            out.add(Map.of("text", t.text(), "latents", latents));
        }
        json(ctx, Map.of("tokens", out));
    }

    private void chat(Context ctx) throws Exception {
        long started = System.nanoTime();
        ChatRequest req = ChatRequest.parse(body(ctx));
        int[] ids;
        if (req.template()) {
            ids = model.tokenizer().encodeChat(req.messages(), true);
        } else {
            ids = model.tokenizer().encode(req.messages().getLast().content(), true);
        }
        checkContext(ids.length, 1);
        Steering steering = req.edits().isEmpty() ? null
                : new Steering(sae, hook, req.edits(), req.positions(), ids.length);
        List<int[]> prompts = req.compare() ? List.of(ids, ids) : List.of(ids);
        List<ResidualHook> hooks = steering == null ? List.of() : List.of(new OnlySequence(steering, 0));
        EventStream events = new EventStream(ctx.res(), json);
        String[] sides = {"steered", "plain"};
        long[] firstToken = {-1};
        lockModel();
        try {
            generations.incrementAndGet();
            events.send("start", Map.of("promptTokens", ids.length, "steered", steering != null,
                    "compare", req.compare()));
            List<GenerationResult> results = model.generate(prompts, req.options(), hooks, (seq, token, text) -> {
                if (firstToken[0] < 0) {
                    firstToken[0] = System.nanoTime();
                }
                if (!text.isEmpty()) {
                    events.send("token", Map.of("side", sides[seq], "text", text));
                }
            });
            double seconds = (System.nanoTime() - started) / 1e9;
            for (int s = 0; s < results.size(); s++) {
                GenerationResult r = results.get(s);
                events.send("done", Map.of("side", sides[s], "stopReason", r.stopReason().name().toLowerCase(
                        java.util.Locale.ROOT), "tokens", r.tokens().length, "text", r.text()));
            }
            long first = firstToken[0] < 0 ? -1 : (firstToken[0] - started) / 1_000_000;
            int produced = 0;
            for (GenerationResult r : results) {
                produced += r.tokens().length;
            }
            events.send("end", Map.of("firstTokenMs", first, "seconds", seconds, "tokensPerSecond",
                    produced / seconds));
        } catch (EventStream.ClientGone gone) {
            abandoned.incrementAndGet();
            LOG.debug("chat client went away; generation stopped");
        } catch (RuntimeException e) {
            if (!events.started()) {
                throw e;
            }
            try {
                events.send("error", Map.of("error", String.valueOf(e.getMessage())));
            } catch (EventStream.ClientGone gone) {
                abandoned.incrementAndGet();
            }
        } finally {
            modelLock.unlock();
        }
    }

    private void checkContext(int tokens, int room) {
        int context = model.info().maxContext();
        if (tokens + room > context) {
            throw new IllegalArgumentException("the text has " + tokens + " tokens; the model's context is " + context
                    + " tokens" + (room > 0 ? ", which leaves no room to generate" : "") + ": shorten it");
        }
    }

    private void lockModel() throws InterruptedException {
        if (!modelLock.tryLock(BUSY_WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new Busy("the model is busy with another request; try again in a moment");
        }
    }

    private JsonNode body(Context ctx) {
        try {
            return json.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the request body is not JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static int intParam(Context ctx, String name, int fallback, int min, int max) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return fallback;
        }
        try {
            int i = Integer.parseInt(v);
            if (i >= min && i <= max) {
                return i;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a whole number in " + min + ".." + max + ", got '" + v
                + "'");
    }

    private void json(Context ctx, Object value) {
        try {
            ctx.contentType("application/json").result(json.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private void error(Context ctx, int status, String message) {
        ctx.status(status);
        json(ctx, Map.of("error", message == null ? "error" : message));
    }

    /** A steering hook applied to one sequence of a batch only (the other is the unsteered reply). */
    private record OnlySequence(ResidualHook inner, int sequence) implements ResidualHook {
        @Override
        public HookPoint point() {
            return inner.point();
        }

        @Override
        public void onResidual(ResidualSlice slice) {
            if (slice.sequence() == sequence) {
                inner.onResidual(slice);
            }
        }
    }

    static final class NotFound extends RuntimeException {
        NotFound(String message) {
            super(message);
        }
    }

    static final class Busy extends RuntimeException {
        Busy(String message) {
            super(message);
        }
    }
}
