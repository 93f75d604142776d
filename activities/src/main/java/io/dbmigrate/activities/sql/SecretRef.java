package io.dbmigrate.activities.sql;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Resolves a password reference ({@code env:NAME}, {@code file:PATH}) on the worker. The reference travels through
 * workflow history; the secret never does.
 */
public final class SecretRef {
    private SecretRef() {}

    public static String resolve(String ref) {
        return resolve(ref, System.getenv());
    }

    static String resolve(String ref, Map<String, String> env) {
        String secret = read("passwordRef", ref, env);
        if (ref.startsWith("file:") && !secret.equals(secret.strip())) {
            // Kafka Connect's DirectoryConfigProvider reads the file verbatim: both sides must see the same secret
            throw new IllegalArgumentException("passwordRef " + ref + ": " + ref.substring(5) + " starts or ends with whitespace "
                    + "(a trailing newline?); Kafka Connect would read it verbatim. Write it with printf '%s' PASSWORD > FILE");
        }
        return secret;
    }

    /**
     * Any other secret read from a reference (a codec key, a bearer token), stripped of surrounding whitespace;
     * {@code what} names the setting in errors, which never show the secret.
     */
    public static String resolve(String what, String ref, Map<String, String> env) {
        return read(what, ref, env).strip();
    }

    private static String read(String what, String ref, Map<String, String> env) {
        if (ref == null || ref.isBlank()) {
            throw new IllegalArgumentException(what + " is empty: use env:NAME or file:PATH");
        }
        if (ref.startsWith("env:")) {
            String name = ref.substring(4);
            String v = env.get(name);
            if (v == null) {
                throw new IllegalArgumentException(what + " " + ref + ": environment variable " + name
                        + " is not set on the worker");
            }
            return v;
        }
        if (ref.startsWith("file:")) {
            Path p = Path.of(ref.substring(5));
            try {
                return Files.readString(p);
            } catch (IOException e) {
                throw new IllegalArgumentException(what + " " + ref + ": cannot read " + p + " on the worker ("
                        + e.getClass().getSimpleName() + ")");
            }
        }
        throw new IllegalArgumentException(what + " (" + ref.length()
                + " characters, not shown) is not a reference: use env:NAME or file:PATH, never the secret itself");
    }

    /**
     * The same reference in Kafka Connect's config-provider syntax, so the connector config holds no secret either:
     * the Connect worker resolves it (DirectoryConfigProvider for files, EnvVarConfigProvider for variables).
     */
    public static String asConnectReference(String ref) {
        if (ref.startsWith("env:")) {
            return "${env:" + ref.substring(4) + "}";
        }
        if (ref.startsWith("file:")) {
            Path p = Path.of(ref.substring(5)).toAbsolutePath();
            return "${dir:" + p.getParent() + ":" + p.getFileName() + "}";
        }
        throw new IllegalArgumentException("passwordRef must be env:NAME or file:PATH");
    }
}
