package io.dbmigrate.activities.cutover;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A minimal client of PgBouncer's admin console: startup, password authentication (cleartext, md5, SCRAM-SHA-256)
 * and simple queries. Not pgjdbc: pgjdbc 42.7.5+ sends {@code SET extra_float_digits} after login to any server that
 * reports a version below 12, and the admin console of PgBouncer before 1.25 refuses that SET and drops the
 * connection (pgbouncer issue #1509). The console speaks only the simple query protocol anyway.
 */
final class AdminConsole implements AutoCloseable {
    /** One command's result: column names, rows as text (null for NULL), the command tag. */
    record Result(List<String> columns, List<List<String>> rows, String tag) {}

    /** An ErrorResponse: the console refused the command (the connection stays usable). */
    static final class ServerError extends IOException {
        final String sqlState;

        ServerError(String message, String sqlState) {
            super(message);
            this.sqlState = sqlState;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    private AdminConsole(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    static AdminConsole open(String host, int port, String database, String user, String password, Duration connectTimeout,
            Duration readTimeout) throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setKeepAlive(true);
            s.connect(new InetSocketAddress(host, port), (int) connectTimeout.toMillis());
            s.setSoTimeout((int) readTimeout.toMillis());
            AdminConsole c = new AdminConsole(s);
            c.startup(database, user, password);
            return c;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** How long a read may block; a PAUSE waits for clients, so its connection gets the pause bound plus a margin. */
    void readTimeout(Duration d) throws IOException {
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, d.toMillis()));
    }

    private void startup(String database, String user, String password) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream b = new DataOutputStream(body);
        b.writeInt(196608); // protocol 3.0
        for (String s : new String[] {"user", user, "database", database, "application_name", "dbmigrate-cutover"}) {
            cstring(b, s);
        }
        b.writeByte(0);
        out.writeInt(body.size() + 4);
        out.write(body.toByteArray());
        out.flush();
        Scram scram = null;
        while (true) {
            int type = in.readUnsignedByte();
            byte[] msg = readBody();
            DataInputStream m = new DataInputStream(new java.io.ByteArrayInputStream(msg));
            switch (type) {
                case 'R' -> {
                    int code = m.readInt();
                    switch (code) {
                        case 0 -> { } // AuthenticationOk
                        case 3 -> sendPassword((password + "\0").getBytes(StandardCharsets.UTF_8));
                        case 5 -> {
                            byte[] salt = m.readNBytes(4);
                            String inner = md5Hex((password + user).getBytes(StandardCharsets.UTF_8));
                            byte[] innerBytes = inner.getBytes(StandardCharsets.US_ASCII);
                            byte[] salted = new byte[innerBytes.length + 4];
                            System.arraycopy(innerBytes, 0, salted, 0, innerBytes.length);
                            System.arraycopy(salt, 0, salted, innerBytes.length, 4);
                            sendPassword(("md5" + md5Hex(salted) + "\0").getBytes(StandardCharsets.US_ASCII));
                        }
                        case 10 -> {
                            String mechanisms = new String(m.readAllBytes(), StandardCharsets.UTF_8);
                            if (!List.of(mechanisms.split("\0")).contains("SCRAM-SHA-256")) {
                                throw new IOException("unsupported SASL mechanisms: " + mechanisms.replace('\0', ' ').trim());
                            }
                            scram = new Scram(password);
                            byte[] first = scram.clientFirst().getBytes(StandardCharsets.UTF_8);
                            ByteArrayOutputStream p = new ByteArrayOutputStream();
                            DataOutputStream pd = new DataOutputStream(p);
                            cstring(pd, "SCRAM-SHA-256");
                            pd.writeInt(first.length);
                            pd.write(first);
                            sendPassword(p.toByteArray());
                        }
                        case 11 -> sendPassword(scram.clientFinal(new String(m.readAllBytes(), StandardCharsets.UTF_8))
                                .getBytes(StandardCharsets.UTF_8));
                        case 12 -> scram.verifyServerFinal(new String(m.readAllBytes(), StandardCharsets.UTF_8));
                        default -> throw new IOException("unsupported authentication request " + code);
                    }
                }
                case 'E' -> throw error(msg);
                case 'Z' -> {
                    return;
                }
                default -> { } // ParameterStatus, BackendKeyData, NoticeResponse
            }
        }
    }

    /** Runs one command through the simple query protocol. */
    Result query(String sql) throws IOException {
        byte[] q = (sql + "\0").getBytes(StandardCharsets.UTF_8);
        out.writeByte('Q');
        out.writeInt(q.length + 4);
        out.write(q);
        out.flush();
        List<String> columns = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        String tag = null;
        ServerError failed = null;
        while (true) {
            int type = in.readUnsignedByte();
            byte[] msg = readBody();
            DataInputStream m = new DataInputStream(new java.io.ByteArrayInputStream(msg));
            switch (type) {
                case 'T' -> {
                    int n = m.readUnsignedShort();
                    for (int i = 0; i < n; i++) {
                        columns.add(readCString(m));
                        m.skipNBytes(18); // table oid, attnum, type oid, size, modifier, format
                    }
                }
                case 'D' -> {
                    int n = m.readUnsignedShort();
                    List<String> row = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        int len = m.readInt();
                        row.add(len < 0 ? null : new String(m.readNBytes(len), StandardCharsets.UTF_8));
                    }
                    rows.add(row);
                }
                case 'C' -> tag = readCString(m);
                case 'E' -> failed = error(msg);
                case 'Z' -> {
                    if (failed != null) {
                        throw failed;
                    }
                    return new Result(columns, rows, tag);
                }
                default -> { } // EmptyQueryResponse, NoticeResponse, ParameterStatus
            }
        }
    }

    private void sendPassword(byte[] payload) throws IOException {
        out.writeByte('p');
        out.writeInt(payload.length + 4);
        out.write(payload);
        out.flush();
    }

    private byte[] readBody() throws IOException {
        int len = in.readInt();
        if (len < 4 || len > 64 * 1024 * 1024) {
            throw new IOException("malformed message from the admin console (length " + len + ")");
        }
        return in.readNBytes(len - 4);
    }

    private static ServerError error(byte[] msg) {
        String message = null;
        String state = null;
        int i = 0;
        while (i < msg.length && msg[i] != 0) {
            byte field = msg[i++];
            int end = i;
            while (end < msg.length && msg[end] != 0) {
                end++;
            }
            String value = new String(msg, i, end - i, StandardCharsets.UTF_8);
            if (field == 'M') {
                message = value;
            } else if (field == 'C') {
                state = value;
            }
            i = end + 1;
        }
        return new ServerError(message == null ? "error without message" : message, state);
    }

    private static void cstring(DataOutputStream o, String s) throws IOException {
        o.write(s.getBytes(StandardCharsets.UTF_8));
        o.writeByte(0);
    }

    private static String readCString(DataInputStream m) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c = m.read(); c != 0; c = m.read()) {
            if (c < 0) {
                throw new EOFException("unterminated string from the admin console");
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private static String md5Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Drops the connection without a goodbye: what cancels a blocked PAUSE on PgBouncer's side. */
    void abort() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closed either way
        }
    }

    @Override
    public void close() {
        try {
            if (!socket.isClosed()) {
                out.writeByte('X');
                out.writeInt(4);
                out.flush();
            }
        } catch (IOException ignored) {
            // a Terminate that cannot be sent changes nothing
        }
        abort();
    }

    /** SCRAM-SHA-256 (RFC 5802/7677) without channel binding, as PostgreSQL and PgBouncer use it. */
    static final class Scram {
        private final String password;
        private final String clientNonce;
        private String clientFirstBare;
        private byte[] serverSignature;

        Scram(String password) {
            this(password, randomNonce());
        }

        Scram(String password, String clientNonce) {
            this.password = password;
            this.clientNonce = clientNonce;
        }

        private static String randomNonce() {
            byte[] r = new byte[18];
            new SecureRandom().nextBytes(r);
            return Base64.getEncoder().encodeToString(r);
        }

        String clientFirst() {
            clientFirstBare = "n=,r=" + clientNonce; // the server takes the user from the startup packet
            return "n,," + clientFirstBare;
        }

        String clientFinal(String serverFirst) throws IOException {
            String nonce = null;
            byte[] salt = null;
            int iterations = 0;
            for (String attr : serverFirst.split(",")) {
                if (attr.startsWith("r=")) {
                    nonce = attr.substring(2);
                } else if (attr.startsWith("s=")) {
                    salt = Base64.getDecoder().decode(attr.substring(2));
                } else if (attr.startsWith("i=")) {
                    iterations = Integer.parseInt(attr.substring(2));
                }
            }
            if (nonce == null || !nonce.startsWith(clientNonce) || salt == null || iterations < 1) {
                throw new IOException("malformed SCRAM server-first message");
            }
            try {
                SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
                byte[] salted = f.generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
                byte[] clientKey = hmac(salted, "Client Key");
                byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
                String withoutProof = "c=biws,r=" + nonce; // biws = base64("n,,")
                String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
                byte[] signature = hmac(storedKey, authMessage);
                byte[] proof = new byte[clientKey.length];
                for (int i = 0; i < proof.length; i++) {
                    proof[i] = (byte) (clientKey[i] ^ signature[i]);
                }
                serverSignature = hmac(hmac(salted, "Server Key"), authMessage);
                return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
            } catch (GeneralSecurityException e) {
                throw new IOException("SCRAM: " + e.getMessage(), e);
            }
        }

        void verifyServerFinal(String serverFinal) throws IOException {
            if (!serverFinal.startsWith("v=")
                    || !MessageDigest.isEqual(Base64.getDecoder().decode(serverFinal.substring(2).trim()), serverSignature)) {
                throw new IOException("SCRAM: the server's signature does not match (not the PgBouncer we meant?)");
            }
        }

        private static byte[] hmac(byte[] key, String data) throws GeneralSecurityException {
            return hmac(key, data.getBytes(StandardCharsets.UTF_8));
        }

        private static byte[] hmac(byte[] key, byte[] data) throws GeneralSecurityException {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        }
    }
}
