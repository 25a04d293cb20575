package io.streamlearn.jobs.cli;

import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.state.KafkaModelStore;
import io.streamlearn.state.ModelSnapshots;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** {@code streamlearn models list|show}: what the model store holds, verified. */
final class ModelCommands {
    private ModelCommands() {}

    static void list(KafkaModelStore store, PrintStream out) {
        List<ModelSnapshot> versions = store.versions();
        if (versions.isEmpty()) {
            out.println("no model versions yet");
            return;
        }
        out.println("version    step  created                   bytes  sha256");
        for (ModelSnapshot s : versions) {
            out.printf(
                    Locale.ROOT,
                    "%7d %7d  %-24s %7d  %s%n",
                    s.getModelVersion(),
                    s.getStep(),
                    s.getCreatedAt(),
                    s.getState().remaining(),
                    s.getSha256().substring(0, 16));
        }
    }

    static void show(KafkaModelStore store, long version, PrintStream out) {
        ModelSnapshot snapshot = store.snapshot(version);
        ModelState state = ModelSnapshots.fromSnapshot(snapshot);
        long weights = 0;
        for (float[] w : state.weights()) {
            weights += w.length;
        }
        out.printf(
                Locale.ROOT,
                "version %d%nstep %d%ncreated %s%nsha256 %s (verified)%nconfig %s%nweights %d%n",
                state.version(),
                state.step(),
                snapshot.getCreatedAt(),
                snapshot.getSha256(),
                state.config(),
                weights);
    }
}
