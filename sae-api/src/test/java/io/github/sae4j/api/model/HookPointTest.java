package io.github.sae4j.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HookPointTest {

    @Test
    void parsesTransformerLensNamesAndPrintsThemBack() {
        HookPoint p = HookPoint.parse("blocks.23.hook_resid_post");
        assertThat(p).isEqualTo(new HookPoint(23, HookPoint.Site.RESID_POST));
        assertThat(p.toString()).isEqualTo("blocks.23.hook_resid_post");
        assertThat(HookPoint.parse(" blocks.0.hook_resid_pre ").site()).isEqualTo(HookPoint.Site.RESID_PRE);
        assertThat(HookPoint.parse("blocks.7.hook_resid_mid").layer()).isEqualTo(7);
    }

    @Test
    void parsesSublayerOutputs() {
        assertThat(HookPoint.parse("blocks.2.hook_attn_out")).isEqualTo(new HookPoint(2, HookPoint.Site.ATTN_OUT));
        assertThat(HookPoint.parse("blocks.11.hook_mlp_out")).isEqualTo(new HookPoint(11, HookPoint.Site.MLP_OUT));
        for (HookPoint.Site site : HookPoint.Site.values()) {
            HookPoint p = new HookPoint(5, site);
            assertThat(HookPoint.parse(p.toString())).isEqualTo(p);
        }
    }

    @Test
    void rejectsOtherNamesSayingWhatIsValid() {
        assertThatThrownBy(() -> HookPoint.parse("layers.23.residual"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blocks.<layer>.hook_resid_pre")
                .hasMessageContaining("hook_resid_post").hasMessageContaining("hook_mlp_out");
        assertThatThrownBy(() -> HookPoint.parse("blocks.3.hook_attn_in")).hasMessageContaining("blocks.3.hook_attn_in");
        assertThatThrownBy(() -> new HookPoint(-1, HookPoint.Site.RESID_POST)).hasMessageContaining("layer");
    }
}
