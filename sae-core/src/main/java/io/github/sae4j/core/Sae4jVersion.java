package io.github.sae4j.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The sae4j version, recorded in every file sae4j writes. */
public final class Sae4jVersion {

    public static final String VERSION = load();

    private Sae4jVersion() {
    }

    private static String load() {
        try (InputStream in = Sae4jVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
