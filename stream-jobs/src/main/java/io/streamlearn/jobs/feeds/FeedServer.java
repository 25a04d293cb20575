package io.streamlearn.jobs.feeds;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/**
 * A small HTTP server that answers one route from a feed's state store: {@code GET
 * /users/{id}/recommendations} or {@code GET /series/{id}/alerts}. 200 with JSON, 404 with a
 * message for an unknown id, 503 while the store is not queryable yet (start-up, rebalance).
 *
 * <p>It answers from this instance's store only: run one instance per feed, or route by key.
 */
final class FeedServer implements AutoCloseable {
    private final HttpServer server;

    /**
     * @param route a path pattern with one group, the id
     * @param lookup the JSON body for an id, or empty when the id is unknown
     */
    FeedServer(
            String host,
            int port,
            Pattern route,
            String what,
            Function<String, Optional<String>> lookup)
            throws IOException {
        server = HttpServer.create(new InetSocketAddress(host, port), 0);
        server.createContext(
                "/",
                exchange -> {
                    try (exchange) {
                        handle(exchange, route, what, lookup);
                    }
                });
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static void handle(
            HttpExchange exchange,
            Pattern route,
            String what,
            Function<String, Optional<String>> lookup)
            throws IOException {
        if (!exchange.getRequestMethod().equals("GET")) {
            respond(exchange, 405, Json.error("only GET is supported"));
            return;
        }
        Matcher matcher = route.matcher(exchange.getRequestURI().getRawPath());
        if (!matcher.matches()) {
            respond(exchange, 404, Json.error("no such route; try " + route.pattern()));
            return;
        }
        String id = URLDecoder.decode(matcher.group(1), StandardCharsets.UTF_8);
        try {
            Optional<String> body = lookup.apply(id);
            if (body.isPresent()) {
                respond(exchange, 200, body.get());
            } else {
                respond(exchange, 404, Json.error("no " + what + " for '" + id + "'"));
            }
        } catch (InvalidStateStoreException e) {
            respond(exchange, 503, Json.error("state store not ready, retry: " + e.getMessage()));
        }
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
