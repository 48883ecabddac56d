package io.github.sae4j.llama3.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.BackendProvider;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.llama3.Llama3Models;
import io.github.sae4j.llama3.TestModels;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Capture and splice hooks at every TransformerLens hook point, and the forward stopping early for capture. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HooksTest {

    Llama3Model model;
    final List<int[]> sequences = new ArrayList<>();

    @BeforeAll
    void open() {
        model = TestModels.openTiny();
        sequences.add(model.tokenizer().encode("The whale swam far away from the ship.", false));
        sequences.add(model.tokenizer().encode("Congress shall make no law.", true));
    }

    @AfterAll
    void close() {
        model.close();
    }

    static ResidualHook hook(String name, Consumer<ResidualSlice> body) {
        HookPoint p = HookPoint.parse(name);
        return new ResidualHook() {
            @Override
            public HookPoint point() {
                return p;
            }

            @Override
            public void onResidual(ResidualSlice r) {
                body.accept(r);
            }
        };
    }

    /** name -> sequence -> rows copied out. */
    Map<String, float[][]> capture(List<String> names) {
        Map<String, float[][]> got = new HashMap<>();
        List<ResidualHook> hooks = new ArrayList<>();
        for (String n : names) {
            float[][] per = new float[sequences.size()][];
            got.put(n, per);
            hooks.add(hook(n, r -> per[r.sequence()] = java.util.Arrays.copyOfRange(r.data(), r.offset(),
                    r.offset() + r.positions() * r.dModel())));
        }
        model.forward(sequences, hooks, null);
        return got;
    }

    @Test
    void subLayerOutputsAddUpToTheResidualStream() {
        Map<String, float[][]> h = capture(List.of("blocks.2.hook_resid_pre", "blocks.2.hook_attn_out",
                "blocks.2.hook_resid_mid", "blocks.2.hook_mlp_out", "blocks.2.hook_resid_post",
                "blocks.3.hook_resid_pre"));
        for (int s = 0; s < sequences.size(); s++) {
            float[] pre = h.get("blocks.2.hook_resid_pre")[s];
            float[] attn = h.get("blocks.2.hook_attn_out")[s];
            float[] mid = h.get("blocks.2.hook_resid_mid")[s];
            float[] mlp = h.get("blocks.2.hook_mlp_out")[s];
            float[] post = h.get("blocks.2.hook_resid_post")[s];
            assertThat(pre).hasSize(sequences.get(s).length * model.config().hidden());
            for (int i = 0; i < pre.length; i++) {
                assertThat(mid[i]).isEqualTo(pre[i] + attn[i]);
                assertThat(post[i]).isEqualTo(mid[i] + mlp[i]);
            }
            assertThat(h.get("blocks.3.hook_resid_pre")[s]).containsExactly(post);
        }
    }

    @Test
    void severalHooksInOnePassSeeWhatSeparatePassesSee() {
        Map<String, float[][]> both = capture(List.of("blocks.1.hook_resid_post", "blocks.4.hook_mlp_out"));
        Map<String, float[][]> first = capture(List.of("blocks.1.hook_resid_post"));
        Map<String, float[][]> second = capture(List.of("blocks.4.hook_mlp_out"));
        for (int s = 0; s < sequences.size(); s++) {
            assertThat(both.get("blocks.1.hook_resid_post")[s]).containsExactly(first.get("blocks.1.hook_resid_post")[s]);
            assertThat(both.get("blocks.4.hook_mlp_out")[s]).containsExactly(second.get("blocks.4.hook_mlp_out")[s]);
        }
    }

    List<float[]> logits(List<ResidualHook> hooks) {
        List<float[]> out = new ArrayList<>();
        model.forward(List.of(sequences.get(0)), hooks, (seq, pos, row) -> out.add(row.clone()));
        return out;
    }

    @Test
    void aSpliceThatWritesBackTheSameValuesChangesNothingAndOneThatEditsChangesTheLogits() {
        List<float[]> clean = logits(List.of());
        List<float[]> identity = logits(List.of(hook("blocks.3.hook_resid_post", r -> { })));
        for (int p = 0; p < clean.size(); p++) {
            assertThat(identity.get(p)).containsExactly(clean.get(p));
        }
        List<float[]> zeroed = logits(List.of(hook("blocks.3.hook_resid_post", r -> java.util.Arrays.fill(r.data(),
                r.offset(), r.offset() + r.positions() * r.dModel(), 0f))));
        double diff = 0;
        for (int p = 0; p < clean.size(); p++) {
            for (int v = 0; v < clean.get(p).length; v++) {
                diff = Math.max(diff, Math.abs(zeroed.get(p)[v] - clean.get(p)[v]));
            }
        }
        assertThat(diff).as("zero-ablating the residual must change the logits").isGreaterThan(0.1);
        // Zeroing resid_post of the last block leaves only the final norm of zeros: every logit is 0.
        List<float[]> last = logits(List.of(hook("blocks.5.hook_resid_post", r -> java.util.Arrays.fill(r.data(),
                r.offset(), r.offset() + r.positions() * r.dModel(), 0f))));
        assertThat(last.get(0)).containsOnly(0f);
    }

    @Test
    void aSpliceChangesWhatLaterHooksSee() {
        float[][] seen = new float[1][];
        model.forward(List.of(sequences.get(0)), List.of(
                hook("blocks.1.hook_mlp_out", r -> java.util.Arrays.fill(r.data(), r.offset(),
                        r.offset() + r.positions() * r.dModel(), 0f)),
                hook("blocks.1.hook_resid_mid", r -> { }),
                hook("blocks.1.hook_resid_post", r -> seen[0] = java.util.Arrays.copyOfRange(r.data(), r.offset(),
                        r.offset() + r.positions() * r.dModel()))), null);
        float[][] mid = new float[1][];
        model.forward(List.of(sequences.get(0)), List.of(hook("blocks.1.hook_resid_mid",
                r -> mid[0] = java.util.Arrays.copyOfRange(r.data(), r.offset(), r.offset() + r.positions() * r.dModel()))),
                null);
        assertThat(seen[0]).containsExactly(mid[0]);
    }

    @Test
    void captureWithoutLogitsStopsAfterTheLastLayerAHookNeeds() throws Exception {
        AtomicInteger linears = new AtomicInteger();
        Backend backend = PluginRegistry.load(BackendProvider.class, "backend").get("java").open(Map.of("threads", "1"));
        Device counting = countingDevice(backend.device(0), linears);
        try (Llama3Model m = Llama3Models.open(TestModels.tinyModel(), counting, 64, List.of(backend))) {
            int[] seq = sequences.get(0);
            m.forward(List.of(seq), List.of(hook("blocks.1.hook_resid_post", r -> { })), null);
            assertThat(linears.get()).as("7 matmuls per block, 2 blocks, no output layer").isEqualTo(14);
            linears.set(0);
            m.forward(List.of(seq), List.of(hook("blocks.2.hook_resid_pre", r -> { })), null);
            assertThat(linears.get()).isEqualTo(14);
            linears.set(0);
            m.forward(List.of(seq), List.of(hook("blocks.0.hook_resid_pre", r -> { })), null);
            assertThat(linears.get()).as("the embedding alone").isZero();
            linears.set(0);
            m.forward(List.of(seq), List.of(), (s, p, row) -> { });
            assertThat(linears.get()).as("all 6 blocks and the output layer").isEqualTo(6 * 7 + 1);
        }
    }

    static Device countingDevice(Device real, AtomicInteger linears) {
        TensorOps ops = (TensorOps) Proxy.newProxyInstance(TensorOps.class.getClassLoader(),
                new Class<?>[] {TensorOps.class}, (proxy, method, args) -> {
                    if (method.getName().equals("linear")) {
                        linears.incrementAndGet();
                    }
                    try {
                        return method.invoke(real.ops(), args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        return (Device) Proxy.newProxyInstance(Device.class.getClassLoader(), new Class<?>[] {Device.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("ops")) {
                        return ops;
                    }
                    if (method.isDefault()) {
                        return java.lang.reflect.InvocationHandler.invokeDefault(proxy, method, args);
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void aHookOnALayerTheModelDoesNotHaveIsAnError() {
        assertThatThrownBy(() -> model.forward(sequences, List.of(hook("blocks.6.hook_resid_post", r -> { })), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("blocks.6.hook_resid_post").hasMessageContaining("6 layers");
    }
}
