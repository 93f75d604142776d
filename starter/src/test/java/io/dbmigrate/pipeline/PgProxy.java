package io.dbmigrate.pipeline;

import io.dbmigrate.workflows.model.Endpoint;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of a PostgreSQL server, for the faults a network makes between the applier and its target.
 *
 * <p>{@link #loseNextCommitReply()} loses the reply to a COMMIT that did land. The proxy reads the server's side of
 * the protocol (type byte, length, body) and waits for a CommandComplete whose tag is {@code COMMIT}, ending a
 * transaction that changed rows in more than one statement (a group with data: its changes and its position; a group
 * carrying only Debezium's heartbeat writes the position alone). The server sends that tag only once the commit is
 * done, and sends it whatever way the client sent the COMMIT (simple query, or an extended-protocol statement that
 * pgjdbc may have prepared on the server and no longer names in its messages), so watching the server's replies is
 * exact where watching the client's queries is not. The proxy drops that message and everything after it, closes the
 * client's connection, leaves the server's side open (the backend lives on, as behind a network partition, holding
 * what it holds) and refuses the next connection attempt once.
 *
 * <p>{@link #outage()} cuts every connection and refuses new ones until {@link #restore()}.
 *
 * <p>Encryption requests (SSLRequest, GSSENCRequest) are answered 'N' by the proxy itself, so the server's stream is
 * plain typed messages from its first byte.
 */
final class PgProxy implements AutoCloseable {
    private static final int SSL_REQUEST = 80877103;
    private static final int GSSENC_REQUEST = 80877104;

    private final String upstreamHost;
    private final int upstreamPort;
    private final ServerSocket listener;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Set<Socket> abandoned = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean loseCommitReply = new AtomicBoolean();
    private final AtomicInteger refuseNext = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicInteger repliesLost = new AtomicInteger();
    private final CountDownLatch replyLost = new CountDownLatch(1);
    private volatile boolean down;

    PgProxy(Endpoint target) throws IOException {
        this.upstreamHost = target.host();
        this.upstreamPort = target.port();
        // port 0: the kernel picks a free one, so no fixed port can collide
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "pg-proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    /** The same database, reached through the proxy. */
    Endpoint endpoint(Endpoint target) {
        return new Endpoint("127.0.0.1", listener.getLocalPort(), target.database(), target.user(), target.passwordRef());
    }

    /** Arms the loss of the reply to the next COMMIT of a transaction with data (see the class comment). */
    void loseNextCommitReply() {
        loseCommitReply.set(true);
    }

    boolean awaitReplyLost(Duration timeout) throws InterruptedException {
        return replyLost.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    int repliesLost() {
        return repliesLost.get();
    }

    int refused() {
        return refused.get();
    }

    /** The target becomes unreachable: every connection through the proxy is cut, new ones are refused. */
    void outage() {
        down = true;
        sockets.forEach(PgProxy::closeQuietly);
    }

    void restore() {
        down = false;
    }

    @Override
    public void close() {
        closeQuietly(listener);
        sockets.forEach(PgProxy::closeQuietly);
        abandoned.forEach(PgProxy::closeQuietly);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (down || refuseNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                refused.incrementAndGet();
                closeQuietly(client); // the client sees its connection closed during the start-up
                continue;
            }
            Thread t = new Thread(() -> serve(client), "pg-proxy-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket client) {
        Socket server = null;
        try {
            client.setTcpNoDelay(true);
            sockets.add(client);
            DataInputStream fromClient = new DataInputStream(client.getInputStream());
            OutputStream toClient = client.getOutputStream();
            byte[] first;
            while (true) {
                int length = fromClient.readInt();
                byte[] body = new byte[length - 4];
                fromClient.readFully(body);
                int code = length == 8 ? java.nio.ByteBuffer.wrap(body).getInt() : 0;
                if (code == SSL_REQUEST || code == GSSENC_REQUEST) {
                    toClient.write('N');
                    toClient.flush();
                    continue;
                }
                first = java.nio.ByteBuffer.allocate(length).putInt(length).put(body).array();
                break;
            }
            server = new Socket(upstreamHost, upstreamPort);
            server.setTcpNoDelay(true);
            sockets.add(server);
            if (down) {
                throw new IOException("outage");
            }
            server.getOutputStream().write(first);
            Socket upstream = server;
            Thread up = new Thread(() -> copyClientToServer(client, upstream), "pg-proxy-up");
            up.setDaemon(true);
            up.start();
            pumpServerToClient(server, client);
        } catch (IOException e) {
            // a side closed: the other goes too (unless it was left open on purpose)
        } finally {
            closeQuietly(client);
            if (server != null && !abandoned.contains(server)) {
                closeQuietly(server);
            }
            sockets.remove(client);
            if (server != null) {
                sockets.remove(server);
            }
        }
    }

    private void copyClientToServer(Socket client, Socket server) {
        byte[] buf = new byte[64 * 1024];
        try {
            InputStream in = client.getInputStream();
            OutputStream out = server.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // either side closed
        } finally {
            if (!abandoned.contains(server)) {
                closeQuietly(server);
            }
        }
    }

    /** Forwards the server's messages one by one, watching for the COMMIT whose reply is to be lost. */
    private void pumpServerToClient(Socket server, Socket client) throws IOException {
        DataInputStream in = new DataInputStream(server.getInputStream());
        OutputStream out = new BufferedOutputStream(client.getOutputStream(), 64 * 1024);
        int changingStatements = 0;
        while (true) {
            int type = in.read();
            if (type < 0) {
                throw new EOFException();
            }
            int length = in.readInt();
            byte[] body = new byte[length - 4];
            in.readFully(body);
            if (type == 'C') {
                String tag = new String(body, 0, body.length - 1, StandardCharsets.US_ASCII);
                if (tag.startsWith("INSERT") || tag.startsWith("UPDATE") || tag.startsWith("DELETE")) {
                    changingStatements++;
                } else if (tag.equals("COMMIT") && changingStatements > 1 && loseCommitReply.compareAndSet(true, false)) {
                    // committed on the server; the client never hears of it
                    abandoned.add(server);
                    refuseNext.incrementAndGet();
                    repliesLost.incrementAndGet();
                    closeQuietly(client);
                    replyLost.countDown();
                    return;
                }
            } else if (type == 'Z' && body[0] == 'I') {
                changingStatements = 0; // ReadyForQuery, idle: the transaction is over
            }
            out.write(type);
            out.write(java.nio.ByteBuffer.allocate(4).putInt(length).array());
            out.write(body);
            if (in.available() == 0) {
                out.flush();
            }
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
