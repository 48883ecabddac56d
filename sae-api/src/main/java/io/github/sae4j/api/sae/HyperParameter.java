package io.github.sae4j.api.sae;

import java.util.Locale;
import java.util.Objects;

/**
 * One setting of an SAE architecture (for example TopK's {@code k}), with its type and default.
 * Values arrive as text from the command line or JSON and are parsed by {@link #parse}.
 *
 * @param defaultValue the value used when none is given; {@code null} means the setting is required
 */
public record HyperParameter(String name, Type type, Object defaultValue, String description) {

    /** The JSON-compatible value types a setting can have. */
    public enum Type {
        INT, FLOAT, BOOLEAN, STRING
    }

    public HyperParameter {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        if (defaultValue != null) {
            defaultValue = coerce(name, type, defaultValue);
        }
    }

    public static HyperParameter required(String name, Type type, String description) {
        return new HyperParameter(name, type, null, description);
    }

    public static HyperParameter optional(String name, Type type, Object defaultValue, String description) {
        return new HyperParameter(name, type, Objects.requireNonNull(defaultValue, "defaultValue"), description);
    }

    public boolean isRequired() {
        return defaultValue == null;
    }

    /** Parses a value given as text ({@code "32"}, {@code "0.5"}, {@code "true"}). */
    public Object parse(String text) {
        String t = text.trim();
        try {
            return switch (type) {
                case INT -> Integer.parseInt(t);
                case FLOAT -> {
                    double d = Double.parseDouble(t);
                    if (!Double.isFinite(d)) {
                        throw new NumberFormatException("not finite");
                    }
                    yield d;
                }
                case BOOLEAN -> {
                    String l = t.toLowerCase(Locale.ROOT);
                    if (!l.equals("true") && !l.equals("false")) {
                        throw new NumberFormatException("not true/false");
                    }
                    yield Boolean.parseBoolean(l);
                }
                case STRING -> t;
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Setting '" + name + "' must be " + typeWord() + ", got '" + text + "'");
        }
    }

    /** Converts a JSON-decoded value (Number, Boolean, String) to this setting's type. */
    public Object coerce(Object value) {
        return coerce(name, type, value);
    }

    private static Object coerce(String name, Type type, Object value) {
        if (value instanceof String s && type != Type.STRING) {
            return new HyperParameter(name, type, null, "").parse(s);
        }
        return switch (type) {
            case INT -> {
                if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                        && Math.abs(n.doubleValue()) <= Integer.MAX_VALUE) {
                    yield n.intValue();
                }
                throw new IllegalArgumentException("Setting '" + name + "' must be an integer, got " + value);
            }
            case FLOAT -> {
                if (value instanceof Number n) {
                    yield n.doubleValue();
                }
                throw new IllegalArgumentException("Setting '" + name + "' must be a number, got " + value);
            }
            case BOOLEAN -> {
                if (value instanceof Boolean b) {
                    yield b;
                }
                throw new IllegalArgumentException("Setting '" + name + "' must be true or false, got " + value);
            }
            case STRING -> String.valueOf(value);
        };
    }

    private String typeWord() {
        return switch (type) {
            case INT -> "an integer";
            case FLOAT -> "a number";
            case BOOLEAN -> "true or false";
            case STRING -> "text";
        };
    }
}
