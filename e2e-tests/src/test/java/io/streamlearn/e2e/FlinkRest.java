package io.streamlearn.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * Flink's REST API, as a user's tooling calls it: upload the job jar, run it, watch it, stop it
 * with a savepoint, cancel it, read its checkpoint metrics.
 */
final class FlinkRest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String base;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    FlinkRest(String base) {
        this.base = base;
    }

    JsonNode get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    JsonNode post(String path, JsonNode body) {
        return send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
    }

    private JsonNode send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response =
                    http.send(
                            request.timeout(Duration.ofSeconds(60)).build(),
                            HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 300) {
                throw new IllegalStateException(
                        "HTTP "
                                + response.statusCode()
                                + " from "
                                + request
                                + ": "
                                + response.body());
            }
            return response.body().isEmpty()
                    ? JSON.createObjectNode()
                    : JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("REST call failed: " + request, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code POST /jars/upload} (multipart); returns the jar id. */
    String uploadJar(Path jar) throws IOException {
        String boundary = "streamlearn-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(
                ("--"
                                + boundary
                                + "\r\n"
                                + "Content-Disposition: form-data; name=\"jarfile\"; filename=\""
                                + jar.getFileName()
                                + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                        .getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        JsonNode answer =
                send(
                        HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
        String file = answer.get("filename").asText();
        return Path.of(file).getFileName().toString();
    }

    /** {@code POST /jars/{id}/run}; returns the job id. */
    String run(String jarId, List<String> args, int parallelism, String savepointPath) {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("programArgsList")
                .addAll(args.stream().map(JSON::valueToTree).map(JsonNode.class::cast).toList());
        body.put("parallelism", parallelism);
        if (savepointPath != null) {
            body.put("savepointPath", savepointPath);
        }
        return post("/jars/" + jarId + "/run", body).get("jobid").asText();
    }

    /** Runs a jar that is expected to be refused; returns the error the REST API answers. */
    String runError(String jarId, List<String> args) {
        try {
            String job = run(jarId, args, 1, null);
            cancel(job);
            throw new AssertionError("job " + job + " was accepted");
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    String jobState(String jobId) {
        return get("/jobs/" + jobId).get("state").asText();
    }

    /** Whether the job and every one of its tasks are RUNNING. */
    boolean allRunning(String jobId) {
        JsonNode job = get("/jobs/" + jobId);
        if (!job.get("state").asText().equals("RUNNING")) {
            return false;
        }
        for (JsonNode vertex : job.get("vertices")) {
            JsonNode counts = vertex.get("tasks");
            if (counts.get("RUNNING").asInt() != vertex.get("parallelism").asInt()) {
                return false;
            }
        }
        return true;
    }

    void cancel(String jobId) {
        send(
                HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "?mode=cancel"))
                        .method("PATCH", HttpRequest.BodyPublishers.noBody()));
    }

    /** {@code POST /jobs/{id}/stop} and wait: the savepoint's location. */
    String stopWithSavepoint(String jobId, Path directory, Duration timeout) {
        ObjectNode body = JSON.createObjectNode();
        body.put("targetDirectory", directory.toUri().toString());
        body.put("drain", false);
        String trigger = post("/jobs/" + jobId + "/stop", body).get("request-id").asText();
        return Await.until(
                () -> {
                    JsonNode status = get("/jobs/" + jobId + "/savepoints/" + trigger);
                    if (!status.get("status").get("id").asText().equals("COMPLETED")) {
                        return null;
                    }
                    JsonNode operation = status.get("operation");
                    if (operation.has("failure-cause")) {
                        throw new AssertionError("savepoint failed: " + operation);
                    }
                    return operation.get("location").asText();
                },
                timeout,
                () -> "the savepoint of job " + jobId);
    }

    /**
     * For failure messages: records in and out of every vertex, and the streamlearn metrics
     * (buffered windows, model version, dead letters, late events).
     */
    String describe(String jobId) {
        StringBuilder out = new StringBuilder("job " + jobId + ":");
        try {
            for (JsonNode vertex : get("/jobs/" + jobId).get("vertices")) {
                String id = vertex.get("id").asText();
                out.append("\n  ")
                        .append(vertex.get("name").asText())
                        .append(": ")
                        .append(vertex.get("metrics"));
                List<String> names = new java.util.ArrayList<>();
                for (JsonNode metric : get("/jobs/" + jobId + "/vertices/" + id + "/metrics")) {
                    String name = metric.get("id").asText();
                    if (name.matches(
                            ".*(buffered|modelVersion|trainer|deadLetters|lateEvents|numRecordsIn$|numRecordsOut$).*")) {
                        names.add(name);
                    }
                }
                if (!names.isEmpty()) {
                    out.append("\n    ")
                            .append(
                                    get(
                                            "/jobs/"
                                                    + jobId
                                                    + "/vertices/"
                                                    + id
                                                    + "/metrics?get="
                                                    + String.join(",", names)));
                }
            }
        } catch (RuntimeException e) {
            out.append(" (").append(e).append(')');
        }
        return out.toString();
    }

    /** The number of completed checkpoints of a job. */
    long completedCheckpoints(String jobId) {
        return get("/jobs/" + jobId + "/checkpoints").get("counts").get("completed").asLong();
    }

    /** Job-level metrics, by name. */
    JsonNode jobMetrics(String jobId, String... names) {
        return get("/jobs/" + jobId + "/metrics?get=" + String.join(",", names));
    }
}
