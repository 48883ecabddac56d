package io.github.sae4j.api.model;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A place in a transformer's residual stream, named as TransformerLens and SAELens do:
 * {@code blocks.23.hook_resid_post} is the residual after block 23 (0-based).
 */
public record HookPoint(int layer, Site site) {

    /** Where within a block. */
    public enum Site {
        /** The residual entering the block. */
        RESID_PRE("hook_resid_pre"),
        /** After the attention sublayer's residual add, before the MLP. */
        RESID_MID("hook_resid_mid"),
        /** The residual leaving the block. */
        RESID_POST("hook_resid_post");

        private final String hookName;

        Site(String hookName) {
            this.hookName = hookName;
        }

        public String hookName() {
            return hookName;
        }
    }

    private static final Pattern NAME = Pattern.compile("blocks\\.(\\d+)\\.(hook_resid_(?:pre|mid|post))");

    public HookPoint {
        if (layer < 0) {
            throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        }
    }

    /** Parses {@code blocks.<layer>.hook_resid_{pre,mid,post}}. */
    public static HookPoint parse(String name) {
        Matcher m = NAME.matcher(name.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a hook point; use blocks.<layer>.hook_resid_pre, "
                    + "blocks.<layer>.hook_resid_mid or blocks.<layer>.hook_resid_post");
        }
        Site site = Site.valueOf(m.group(2).substring("hook_".length()).toUpperCase(Locale.ROOT));
        return new HookPoint(Integer.parseInt(m.group(1)), site);
    }

    @Override
    public String toString() {
        return "blocks." + layer + "." + site.hookName();
    }
}
