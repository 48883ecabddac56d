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
    void rejectsOtherNamesSayingWhatIsValid() {
        assertThatThrownBy(() -> HookPoint.parse("layers.23.residual"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blocks.<layer>.hook_resid_post");
        assertThatThrownBy(() -> new HookPoint(-1, HookPoint.Site.RESID_POST)).hasMessageContaining("layer");
    }
}
