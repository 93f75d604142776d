package io.dbmigrate.workflows.codec;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The codec's AES-256 keys, read from a secret's text: one key a line (32 bytes as base64 or hex; blank lines and
 * {@code #} comments ignored). The first line encrypts; every line decrypts, so a key is rotated by putting the new
 * one first and keeping the old ones below it for as long as histories encrypted with them are read. A key's id is
 * derived from the key itself, so nobody has to name keys and two workers with the same secret agree on the ids.
 */
public final class CodecKeys {
    public static final int KEY_BYTES = 32;

    private final String currentId;
    private final Map<String, SecretKey> keys;

    private CodecKeys(String currentId, Map<String, SecretKey> keys) {
        this.currentId = currentId;
        this.keys = keys;
    }

    /** Parses the secret's text; {@code what} names its origin in errors (the key itself never appears). */
    public static CodecKeys parse(String text, String what) {
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        String[] lines = text.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Optional<byte[]> key = decode(line);
            if (key.isEmpty()) {
                problems.add("line " + (i + 1) + " (" + line.length() + " characters, not shown) is not a 32-byte key"
                        + " as base64 (44 characters) or hex (64 characters)");
                continue;
            }
            keys.putIfAbsent(keyId(key.get()), new SecretKeySpec(key.get(), "AES"));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(what + ": " + String.join("; ", problems)
                    + ". Create one with: openssl rand -base64 32");
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException(what + " holds no key. Create one with: openssl rand -base64 32");
        }
        // in the secret's order (the current key first): errors list the ids as the operator wrote them
        return new CodecKeys(keys.keySet().iterator().next(), java.util.Collections.unmodifiableMap(keys));
    }

    /** One fresh random key as base64 (what the local stack writes to its key file). */
    public static String generate() {
        byte[] k = new byte[KEY_BYTES];
        new java.security.SecureRandom().nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    private static Optional<byte[]> decode(String s) {
        try {
            if (s.length() == 2 * KEY_BYTES && s.matches("[0-9a-fA-F]+")) {
                return Optional.of(HexFormat.of().parseHex(s));
            }
            byte[] b = Base64.getDecoder().decode(s);
            return b.length == KEY_BYTES ? Optional.of(b) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** A name for the key that reveals nothing of it: a prefix of a domain-separated SHA-256. */
    static String keyId(byte[] key) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update("dbmigrate-codec-key-id:".getBytes(StandardCharsets.US_ASCII));
            return "k" + HexFormat.of().formatHex(d.digest(key), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public String currentId() {
        return currentId;
    }

    SecretKey current() {
        return keys.get(currentId);
    }

    Optional<SecretKey> byId(String id) {
        return Optional.ofNullable(keys.get(id));
    }

    public List<String> ids() {
        return List.copyOf(keys.keySet());
    }

    @Override
    public String toString() {
        return "CodecKeys[current " + currentId + ", " + keys.size() + " key(s)]";
    }
}
