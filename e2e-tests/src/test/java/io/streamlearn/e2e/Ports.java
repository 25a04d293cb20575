package io.streamlearn.e2e;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free ports on the loopback interface. */
final class Ports {
    private Ports() {}

    static int free() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}
