package io.streamlearn.jobs;

import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.event.WatermarkEvent;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.graph.StreamConfig;
import org.apache.flink.streaming.api.operators.Output;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.LatencyMarker;
import org.apache.flink.streaming.runtime.streamrecord.RecordAttributes;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.StreamTask;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.OutputTag;

/**
 * The operator that runs a {@link ModelServing} function and answers its batches: Flink's keyed
 * broadcast operator (same broadcast state, keyed state and timers, so a savepoint taken with
 * {@code .process(function)} restores here) plus the moments a batch must be answered: its deadline
 * (a processing-time callback), a checkpoint barrier (answers land in that checkpoint's
 * transaction, and the checkpoint holds no query taken from state but unanswered), and the end of
 * the input.
 *
 * <p>A watermark that leaves the operator while queries wait in the batch is held back until the
 * batch is answered (the newest one, once the batch is empty), so no answer follows the watermark
 * that released it. Watermarks are not a reason to answer: replays move the watermark at every
 * event, and answering at each would make every batch a single query.
 *
 * <p>Flink's {@code BroadcastConnectedStream.process} always builds its own operator, so the jobs
 * connect the keyed queries to the broadcast models as plain connected streams and {@link #serve
 * transform} them with this one; the models' edge is a broadcast edge either way.
 */
public final class BatchedServing<Q, O>
        extends CoBroadcastWithKeyedOperator<String, Q, ModelUpdate, O>
        implements ModelServing.Host<O> {
    private static final long serialVersionUID = 1L;

    private final ModelServing<Q, ?, O> serving;
    private transient boolean flushScheduled;
    private transient WatermarksAfterAnswers<O> watermarks;

    /** Wraps a serving function; its broadcast states are {@link ModelServing#MODEL} and co. */
    public BatchedServing(ModelServing<Q, ?, O> serving) {
        super(serving, List.of(ModelServing.MODEL, ModelServing.MODELS_BY_TIME));
        this.serving = serving;
    }

    /**
     * Connects keyed queries to the promoted models and serves them in batches; give the result the
     * uid and name the job's {@code .process(function)} had.
     */
    public static <Q, O> SingleOutputStreamOperator<O> serve(
            KeyedStream<Q, String> queries,
            DataStream<ModelUpdate> models,
            ModelServing<Q, ?, O> serving,
            TypeInformation<O> answers) {
        return queries.connect(models.broadcast())
                .transform(
                        serving.getClass().getSimpleName(), answers, new BatchedServing<>(serving));
    }

    @Override
    protected void setup(
            StreamTask<?, ?> containingTask, StreamConfig config, Output<StreamRecord<O>> output) {
        watermarks = new WatermarksAfterAnswers<>(output, serving);
        super.setup(containingTask, config, watermarks);
    }

    @Override
    public void open() throws Exception {
        super.open();
        serving.attach(this);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        serving.flush();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        serving.flush();
        super.finish();
    }

    @Override
    public Object currentKey() {
        return getCurrentKey();
    }

    @Override
    public ModelServing.Answers<O> answers(Long timestamp) {
        return new ModelServing.Answers<>() {
            @Override
            public void collect(O record) {
                output.collect(stamped(record, timestamp));
            }

            @Override
            public <X> void output(OutputTag<X> tag, X value) {
                output.collect(tag, stamped(value, timestamp));
            }
        };
    }

    private static <T> StreamRecord<T> stamped(T value, Long timestamp) {
        return timestamp == null ? new StreamRecord<>(value) : new StreamRecord<>(value, timestamp);
    }

    @Override
    public void answered() {
        watermarks.release();
    }

    @Override
    public void flushWithin(long millis) {
        if (flushScheduled) {
            return;
        }
        flushScheduled = true;
        long at = getProcessingTimeService().getCurrentProcessingTime() + millis;
        getProcessingTimeService()
                .registerTimer(
                        at,
                        time -> {
                            flushScheduled = false;
                            serving.flush();
                        });
    }

    /** The operator's output, holding a watermark back while queries wait in the batch. */
    private static final class WatermarksAfterAnswers<O> implements Output<StreamRecord<O>> {
        private final Output<StreamRecord<O>> out;
        private final ModelServing<?, ?, O> serving;
        private Watermark held;

        WatermarksAfterAnswers(Output<StreamRecord<O>> out, ModelServing<?, ?, O> serving) {
            this.out = out;
            this.serving = serving;
        }

        @Override
        public void emitWatermark(Watermark mark) {
            if (serving.batching()) {
                held = mark;
            } else {
                out.emitWatermark(mark);
            }
        }

        /** Sends the held watermark on; the batch has been answered. */
        void release() {
            if (held != null) {
                Watermark mark = held;
                held = null;
                out.emitWatermark(mark);
            }
        }

        @Override
        public void emitWatermarkStatus(WatermarkStatus status) {
            // An idle output must not keep a watermark to itself.
            try {
                serving.flush();
            } catch (Exception e) {
                throw new IllegalStateException(
                        "answering the batch before the output turns " + status + " failed", e);
            }
            release();
            out.emitWatermarkStatus(status);
        }

        @Override
        public <X> void collect(OutputTag<X> tag, StreamRecord<X> record) {
            out.collect(tag, record);
        }

        @Override
        public void emitLatencyMarker(LatencyMarker marker) {
            out.emitLatencyMarker(marker);
        }

        @Override
        public void emitRecordAttributes(RecordAttributes attributes) {
            out.emitRecordAttributes(attributes);
        }

        @Override
        public void emitWatermark(WatermarkEvent event) {
            out.emitWatermark(event);
        }

        @Override
        public void collect(StreamRecord<O> record) {
            out.collect(record);
        }

        @Override
        public void close() {
            out.close();
        }
    }
}
