package io.streamlearn.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A JVM of its own, started from a classpath and a main class, its output in a log file under
 * {@code target/}. Every process is also killed by a shutdown hook, so none outlives the test JVM
 * even when a test fails or the run is interrupted.
 */
final class JavaProcess {
    private static final List<Process> LIVE = new CopyOnWriteArrayList<>();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly)));
    }

    private final String name;
    private final Process process;
    private final Path log;

    private JavaProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    static JavaProcess start(
            String name,
            String classpath,
            List<String> jvmArgs,
            String mainClass,
            List<String> args,
            Map<String, String> env,
            Path logDir)
            throws IOException {
        Files.createDirectories(logDir);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(classpath);
        command.add(mainClass);
        command.addAll(args);
        Path log = logDir.resolve(name + ".out");
        ProcessBuilder builder =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        Process process = builder.start();
        LIVE.add(process);
        return new JavaProcess(name, process, log);
    }

    /** JVM arguments: the given ones, and log4j writing to {@code logFile}. */
    static List<String> jvmArgs(Path logFile, String... more) {
        List<String> args = new ArrayList<>(List.of(more));
        try {
            args.add(
                    "-Dlog4j2.configurationFile="
                            + Path.of(
                                    JavaProcess.class
                                            .getResource("/log4j2-process.properties")
                                            .toURI()));
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        args.add("-Dlog.file=" + logFile);
        return args;
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Path log() {
        return log;
    }

    /** SIGKILL: the process gets no chance to clean up, as when a machine dies. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        LIVE.remove(process);
    }

    /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
    void stop(long graceSeconds) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        LIVE.remove(process);
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ", log " + log + ")";
    }
}
