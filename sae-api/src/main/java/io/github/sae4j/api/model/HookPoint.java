package io.github.sae4j.api.model;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A place in a transformer's residual stream, named as TransformerLens and SAELens do:
 * {@code blocks.23.hook_resid_post} is the residual after block 23 (0-based). The attention and MLP outputs of a
 * block are hook points too; all of them have the model's width.
 */
public record HookPoint(int layer, Site site) {

    /** Where within a block. */
    public enum Site {
        /** The residual entering the block. */
        RESID_PRE("hook_resid_pre"),
        /** After the attention sublayer's residual add, before the MLP. */
        RESID_MID("hook_resid_mid"),
        /** The residual leaving the block. */
        RESID_POST("hook_resid_post"),
        /** The attention sublayer's output (after o_proj), before it is added to the residual. */
        ATTN_OUT("hook_attn_out"),
        /** The MLP sublayer's output (after down_proj), before it is added to the residual. */
        MLP_OUT("hook_mlp_out");

        private final String hookName;

        Site(String hookName) {
            this.hookName = hookName;
        }

        public String hookName() {
            return hookName;
        }
    }

    private static final Pattern NAME = Pattern.compile("blocks\\.(\\d+)\\.(hook_(?:resid_pre|resid_mid|resid_post|attn_out|mlp_out))");

    public HookPoint {
        if (layer < 0) {
            throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        }
    }

    /** Parses {@code blocks.<layer>.hook_resid_{pre,mid,post}}, {@code hook_attn_out} or {@code hook_mlp_out}. */
    public static HookPoint parse(String name) {
        Matcher m = NAME.matcher(name.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a hook point; use blocks.<layer>.hook_resid_pre, "
                    + "hook_resid_mid, hook_resid_post, hook_attn_out or hook_mlp_out");
        }
        Site site = Site.valueOf(m.group(2).substring("hook_".length()).toUpperCase(Locale.ROOT));
        return new HookPoint(Integer.parseInt(m.group(1)), site);
    }

    @Override
    public String toString() {
        return "blocks." + layer + "." + site.hookName();
    }
}
