package io.dbmigrate.deploy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Whether the stack's ports can be used, and if not, why and who holds them. */
final class PortCheck {
    private static final Path PROC = Path.of("/proc");
    private static final int TCP_LISTEN = 0x0A;

    private PortCheck() {}

    /**
     * Every reason the stack cannot listen on its ports, one message each, empty when there is none: a port given
     * to two components, a port inside the ephemeral range (any configured port), and a port another process holds
     * (only for the components about to start: a running component of this stack holds its own port).
     */
    static List<String> problems(StackPorts ports, Set<String> starting, EphemeralPorts range) {
        List<String> out = new ArrayList<>();
        Map<Integer, List<StackPorts.Assignment>> byPort = new LinkedHashMap<>();
        for (StackPorts.Assignment a : ports.assignments()) {
            byPort.computeIfAbsent(a.port(), p -> new ArrayList<>()).add(a);
        }
        byPort.forEach((port, users) -> {
            if (users.size() > 1) {
                out.add("port " + port + " is given to " + String.join(" and ",
                        users.stream().map(a -> a.component() + " (" + a.option() + ")").toList())
                        + ": each needs a port of its own");
            }
        });
        for (StackPorts.Assignment a : ports.assignments()) {
            if (range.contains(a.port())) {
                out.add(a.component() + ": port " + a.port() + " lies in the kernel's ephemeral port range " + range
                        + " (" + EphemeralPorts.RANGE_FILE + "), where any outgoing connection of any process may hold it,"
                        + " so the start would fail at random; choose a port below " + range.first() + " with " + a.option());
            }
        }
        for (StackPorts.Assignment a : ports.assignments()) {
            if (starting.contains(a.component()) && !canListen(a.port())) {
                out.add(taken(a.component(), a.port()) + "; stop it or choose another port with " + a.option());
            }
        }
        return out;
    }

    /** Last check right before a component launches: the port may have been taken since {@link #problems}. */
    static void requireFree(int port, String component) {
        if (!canListen(port)) {
            throw new StackException(taken(component, port) + "; stop it or choose other ports (stack up --help)");
        }
    }

    private static String taken(String component, int port) {
        return component + " cannot start: port " + port + " on 127.0.0.1 is taken by "
                + holder(port).orElse("another process (not found in /proc; `ss -ltnp 'sport = :" + port + "'` may name it)");
    }

    /**
     * Binds the port the way the components do (127.0.0.1, SO_REUSEADDR): a listener on it, or a connection using it
     * as its local port, makes the bind fail; a TIME_WAIT left by the previous run of the stack does not.
     */
    static boolean canListen(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** One line of /proc/net/tcp or tcp6. */
    record TcpSocket(int localPort, int state, int uid, long inode) {}

    /** Parses /proc/net/tcp or /proc/net/tcp6 (same columns; only the address width differs). */
    static List<TcpSocket> parseProcNetTcp(String text) {
        List<TcpSocket> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...; the header starts with "sl"
            if (f.length < 10 || !f[0].endsWith(":")) {
                continue;
            }
            try {
                String local = f[1];
                int port = Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16);
                out.add(new TcpSocket(port, Integer.parseInt(f[3], 16), Integer.parseInt(f[7]), Long.parseLong(f[9])));
            } catch (RuntimeException e) {
                // a line in a form we do not know: skip it rather than fail a diagnosis
            }
        }
        return out;
    }

    /**
     * Who holds the port, as "pid N (command line)", or as the owning uid when this user may not look into the
     * process; empty when /proc shows no socket on it.
     */
    static Optional<String> holder(int port) {
        return holder(port, PROC);
    }

    static Optional<String> holder(int port, Path proc) {
        List<TcpSocket> sockets = new ArrayList<>();
        for (String file : List.of("net/tcp", "net/tcp6")) {
            try {
                sockets.addAll(parseProcNetTcp(ProcFiles.read(proc.resolve(file))));
            } catch (IOException e) {
                // no IPv6, or no /proc: look in what there is
            }
        }
        // a listener first; else any socket using the port locally (inode 0: TIME_WAIT, owned by no process)
        List<TcpSocket> onPort = sockets.stream().filter(s -> s.localPort() == port && s.inode() != 0)
                .sorted(Comparator.comparing((TcpSocket s) -> s.state() != TCP_LISTEN)).toList();
        if (onPort.isEmpty()) {
            return Optional.empty();
        }
        // one walk of /proc for every socket on the port, then the first owned one in that order
        java.util.Map<Long, Long> owners = pidsOwning(onPort.stream().map(TcpSocket::inode).collect(Collectors.toSet()), proc);
        for (TcpSocket s : onPort) {
            Long pid = owners.get(s.inode());
            if (pid != null) {
                return Optional.of("pid " + pid + " (" + commandLine(pid, proc) + ")");
            }
        }
        return Optional.of("a process of uid " + onPort.get(0).uid() + " that this user may not inspect"
                + " (`sudo ss -ltnp 'sport = :" + port + "'` names it)");
    }

    /** Which process has a file descriptor on each socket {@code inodes}: /proc/PID/fd/N links to "socket:[INODE]". */
    static java.util.Map<Long, Long> pidsOwning(Set<Long> inodes, Path proc) {
        java.util.Map<Long, Long> owners = new java.util.HashMap<>();
        List<Long> pids;
        try (Stream<Path> entries = Files.list(proc)) {
            pids = entries.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong).sorted().toList();
        } catch (IOException e) {
            return owners;
        }
        for (long pid : pids) {
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve(pid + "/fd"))) {
                for (Path fd : fds) {
                    try {
                        String link = Files.readSymbolicLink(fd).toString();
                        if (link.startsWith("socket:[") && link.endsWith("]")) {
                            long inode = Long.parseLong(link, 8, link.length() - 1, 10);
                            if (inodes.contains(inode)) {
                                owners.putIfAbsent(inode, pid);
                            }
                        }
                    } catch (IOException | NumberFormatException e) {
                        // the descriptor closed meanwhile
                    }
                }
            } catch (IOException | SecurityException e) {
                // another user's process (not permitted), or it exited: skip it
            }
            if (owners.size() == inodes.size()) {
                break;
            }
        }
        return owners;
    }

    /** The process's command line, long arguments (class paths) shortened so the message stays readable. */
    static String commandLine(long pid, Path proc) {
        try {
            byte[] raw = ProcFiles.readBytes(proc.resolve(pid + "/cmdline"));
            List<String> args = new ArrayList<>();
            for (String arg : new String(raw, StandardCharsets.UTF_8).split("\0")) {
                if (!arg.isEmpty()) {
                    arg = arg.replaceAll("\\s+", " "); // one line per problem, even for `python3 -c 'multi-line'`
                    args.add(arg.length() > 100 ? arg.substring(0, 60) + "…" : arg);
                }
            }
            if (args.isEmpty()) {
                return ProcFiles.read(proc.resolve(pid + "/comm")).trim();
            }
            String line = String.join(" ", args);
            return line.length() > 400 ? line.substring(0, 400) + "…" : line;
        } catch (IOException e) {
            return "command line not readable";
        }
    }
}
