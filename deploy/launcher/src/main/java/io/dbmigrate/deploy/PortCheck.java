package io.dbmigrate.deploy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

final class PortCheck {
    private PortCheck() {}

    static boolean inUse(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static void requireFree(int port, String component) {
        if (inUse(port)) {
            throw new StackException(component + " cannot start: port " + port
                    + " on 127.0.0.1 is taken by another process; stop it or choose other ports (stack up --help)");
        }
    }
}
