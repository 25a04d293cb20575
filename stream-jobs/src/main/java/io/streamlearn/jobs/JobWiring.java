package io.streamlearn.jobs;

import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.ModelCommand;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The wiring both jobs share, so that the metrics and the recommendation pipelines read, check,
 * train, promote, snapshot and follow commands the same way. Each stateful operator gets a stable
 * uid: the metrics job's are unprefixed (as before this class existed, so its savepoints restore),
 * the recommendation job's start with {@code items-}, so both pipelines can run in one job.
 */
final class JobWiring {
    private JobWiring() {}

    /** Which pipeline: the prefix of its operators' uids and names. */
    enum Pipeline {
        METRICS("", ""),
        ITEMS("items-", "items: ");

        private final String uid;
        private final String name;

        Pipeline(String uid, String name) {
            this.uid = uid;
            this.name = name;
        }

        String uid(String operator) {
            return uid + operator;
        }

        String name(String operator) {
            return name + operator;
        }
    }

    /**
     * What both jobs set on their environment: a checkpoint every {@code
     * streamlearn.checkpoint.interval}, the network buffer timeout where the settings give one
     * ({@link JobSettings#bufferTimeout()}), the fixed max parallelism of keyed operators, and
     * object reuse. Without it, every record handed to a chained operator is first deep-copied with
     * its serializer: each prediction and anomaly score before its sink (Avro's {@code deepCopy}, a
     * tenth of the predictor's samples in a replay profile) and each model snapshot before the
     * model store. The jobs' functions never change a record after emitting it nor keep one they
     * received across calls unless it came over the network (a fresh object), so the copies protect
     * nothing.
     */
    static void configure(StreamExecutionEnvironment env, JobSettings settings) {
        env.enableCheckpointing(settings.checkpointInterval().toMillis());
        if (settings.bufferTimeout() != null) {
            env.setBufferTimeout(settings.bufferTimeout().toMillis());
        }
        env.setMaxParallelism(ForecastJob.MAX_PARALLELISM);
        env.getConfig().enableObjectReuse();
    }

    /**
     * Source → decode + validate, bad records to the dead-letter sink → event-time timestamps and
     * watermarks (bounded out-of-orderness, idle inputs let go).
     */
    static <T> DataStream<T> events(
            StreamExecutionEnvironment env,
            JobSettings settings,
            Pipeline pipeline,
            Source<RawRecord, ?, ?> source,
            DecodeAndValidate<T> decode,
            TypeInformation<T> type,
            SerializableTimestampAssigner<T> eventTime,
            Sink<DeadLetter> deadLetters) {
        SingleOutputStreamOperator<T> events =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), pipeline.name("events"))
                        .uid(pipeline.uid("events-source"))
                        .process(decode)
                        .returns(type)
                        .uid(pipeline.uid("decode"))
                        .name(pipeline.name("decode + validate"));
        events.getSideOutput(DecodeAndValidate.DEAD_LETTERS)
                .sinkTo(deadLetters)
                .uid(pipeline.uid("dead-letters-sink"))
                .name(pipeline.name("dead letters"));
        // A bound of zero means the input is in time order (a replay): the watermark then
        // follows every new newest event, so the trainer learns, and the predictors answer, as
        // the input goes by instead of in one burst when a periodic watermark jumps over a backlog.
        WatermarkStrategy<T> watermarks =
                (settings.maxOutOfOrderness().isZero()
                                ? WatermarkStrategy.<T>forGenerator(context -> new EveryNewest<>())
                                : WatermarkStrategy.<T>forBoundedOutOfOrderness(
                                        settings.maxOutOfOrderness()))
                        .withTimestampAssigner(eventTime);
        if (!settings.idleness().isZero()) {
            watermarks = watermarks.withIdleness(settings.idleness());
        }
        return events.assignTimestampsAndWatermarks(watermarks).uid(pipeline.uid("watermarks"));
    }

    /**
     * Examples and operators' commands → the trainer (parallelism 1) → every version to the model
     * store; returns the promoted versions, for the predictors.
     */
    static SingleOutputStreamOperator<ModelUpdate> trainer(
            StreamExecutionEnvironment env,
            JobSettings settings,
            Pipeline pipeline,
            DataStream<Example> examples,
            Source<ModelCommand, ?, ?> commands,
            ModelStoreSink models,
            ModelState warmStart) {
        DataStream<ModelCommand> commandStream =
                env.fromSource(commands, endOfTime(), pipeline.name("model commands"))
                        .uid(pipeline.uid("model-commands-source"))
                        .setParallelism(1);
        SingleOutputStreamOperator<ModelUpdate> promoted =
                examples.keyBy(e -> Trainer.KEY, Types.INT)
                        .connect(commandStream.keyBy(c -> Trainer.KEY, Types.INT))
                        .process(
                                new Trainer(
                                        settings.model(),
                                        settings.batchSize(),
                                        settings.publishEverySteps(),
                                        settings.publishInterval(),
                                        settings.minPublishInterval(),
                                        settings.promotionWindow(),
                                        settings.promotionMaxLossIncrease(),
                                        warmStart,
                                        settings.devices().trainer(),
                                        settings.timeAlignment(),
                                        settings.maxSnapshotBytes(),
                                        settings.storeInterval(),
                                        settings.backlog()))
                        .returns(ModelUpdate.TYPE)
                        .uid(pipeline.uid("trainer"))
                        .name(pipeline.name("trainer"))
                        .setParallelism(1)
                        .setMaxParallelism(1);
        settings.devices().trainerSlotSharingGroup().ifPresent(promoted::slotSharingGroup);
        settings.devices().cpuSlotSharingGroup().ifPresent(env::registerSlotSharingGroup);

        // One model stream, so one snapshot writer, pinned like the trainer (parallelism and max
        // parallelism 1): it stays chained to the trainer in its slot-sharing group (more would ask
        // for more, possibly GPU, trainer slots), and a savepoint taken at one job parallelism
        // restores at another.
        models.attach(promoted.getSideOutput(Trainer.SNAPSHOTS), pipeline::uid, pipeline::name)
                .uid(pipeline.uid("models-sink"))
                .name(pipeline.name("model store"))
                .setParallelism(1)
                .setMaxParallelism(1);
        return promoted;
    }

    /**
     * Model commands are not events: their watermark is the end of time from the start, so the
     * trainer's event time (and what it forwards to the predictors) follows its examples alone.
     */
    static <T> WatermarkStrategy<T> endOfTime() {
        return WatermarkStrategy.forGenerator(context -> new EndOfTime<>());
    }

    /** Events in time order: after each new newest event, the watermark is just before it. */
    private static final class EveryNewest<T> implements WatermarkGenerator<T> {
        private long newest = Long.MIN_VALUE;

        @Override
        public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
            if (eventTimestamp > newest) {
                newest = eventTimestamp;
                output.emitWatermark(new Watermark(newest - 1));
            }
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {}
    }

    private static final class EndOfTime<T> implements WatermarkGenerator<T> {
        @Override
        public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {}

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
            output.emitWatermark(new Watermark(Long.MAX_VALUE));
        }
    }
}
