package io.streamlearn.jobs.input;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * How the job reads a user's own event topic: the writer's Avro schema and which fields hold the
 * entity, the event time and the values (metrics) or the item (interactions). Without a schema file
 * the job reads its built-in {@code MetricEvent} or {@code InteractionEvent}. The field defaults
 * are the built-in schemas' names, so a schema that uses them needs no field keys.
 */
public final class InputOptions {
    private InputOptions() {}

    public static final ConfigOption<String> SCHEMA_FILE =
            ConfigOptions.key("streamlearn.input.schema-file")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Path of the .avsc schema of the events topic; unset reads the built-in"
                                    + " MetricEvent.");

    public static final ConfigOption<String> ENCODING =
            ConfigOptions.key("streamlearn.input.encoding")
                    .stringType()
                    .defaultValue("single-object")
                    .withDescription(
                            "single-object (Avro single-object encoding, resolved by the writer"
                                + " schema's fingerprint) or binary (plain Avro binary written with"
                                + " exactly the schema file).");

    public static final ConfigOption<String> ENTITY_FIELD =
            ConfigOptions.key("streamlearn.input.entity-field")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Field (dot path) holding the entity id: a string, int or long. Unset:"
                                    + " seriesId for metric events, userId for interactions.");

    public static final ConfigOption<String> ITEM_FIELD =
            ConfigOptions.key("streamlearn.input.item-field")
                    .stringType()
                    .defaultValue("itemId")
                    .withDescription(
                            "Interactions: field (dot path) holding the item id: a string, int or"
                                    + " long (numbers become their decimal string).");

    public static final ConfigOption<String> KIND_FIELD =
            ConfigOptions.key("streamlearn.input.kind-field")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Interactions: field (dot path) holding the kind of interaction (a"
                                    + " string or enum, carried, not modelled); unset: every"
                                    + " interaction is a view.");

    public static final ConfigOption<String> TIME_FIELD =
            ConfigOptions.key("streamlearn.input.time-field")
                    .stringType()
                    .defaultValue("eventTime")
                    .withDescription(
                            "Field (dot path) holding the event time: epoch millis (long,"
                                + " timestamp-millis), timestamp-micros, or an ISO-8601 string.");

    public static final ConfigOption<String> VALUES_FIELDS =
            ConfigOptions.key("streamlearn.input.values-fields")
                    .stringType()
                    .defaultValue("values")
                    .withDescription(
                            "Comma-separated fields (dot paths) holding the values: numbers, or one"
                                    + " array of numbers.");
}
