package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class KafkaClientPropertiesTest {
    private static final String P = KafkaClientProperties.PREFIX;
    private static final String JAAS =
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\""
                    + " password=\"hunter2\";";

    private static Configuration secured() {
        return Configuration.fromMap(
                Map.of(
                        "streamlearn.kafka.bootstrap-servers",
                        "k1:9093,k2:9093",
                        P + "security.protocol",
                        "SASL_SSL",
                        P + "sasl.mechanism",
                        "PLAIN",
                        P + "sasl.jaas.config",
                        JAAS,
                        P + "ssl.truststore.password",
                        "trust-pw",
                        P + "ssl.keystore.key",
                        "-----BEGIN PRIVATE KEY-----",
                        "streamlearn.model.window",
                        "8"));
    }

    @Test
    void passesEveryPrefixedKeyWithoutItsPrefixAndOnlyThose() {
        KafkaClientProperties kafka = KafkaClientProperties.from(secured());
        Map<String, Object> client = kafka.with(Map.of("isolation.level", "read_committed"));
        assertEquals("k1:9093,k2:9093", client.get("bootstrap.servers"));
        assertEquals("SASL_SSL", client.get("security.protocol"));
        assertEquals("PLAIN", client.get("sasl.mechanism"));
        assertEquals(JAAS, client.get("sasl.jaas.config"));
        assertEquals("read_committed", client.get("isolation.level"));
        assertEquals(7, client.size(), "nothing else: " + client.keySet());
        assertEquals(
                client, Map.copyOf(kafka.properties(Map.of("isolation.level", "read_committed"))));
    }

    @Test
    void theClientsOwnSettingsWin() {
        Configuration conf = secured();
        conf.setString(P + "isolation.level", "read_uncommitted");
        Map<String, Object> client =
                KafkaClientProperties.from(conf).with(Map.of("isolation.level", "read_committed"));
        assertEquals("read_committed", client.get("isolation.level"));
    }

    @Test
    void refusesMissingBrokersAndABootstrapKeyOfItsOwn() {
        IllegalArgumentException missing =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                KafkaClientProperties.from(
                                        Configuration.fromMap(
                                                Map.of(P + "sasl.mechanism", "PLAIN"))));
        assertTrue(missing.getMessage().contains("streamlearn.kafka.bootstrap-servers"));
        Configuration twice = secured();
        twice.setString(P + "bootstrap.servers", "other:9092");
        IllegalArgumentException duplicate =
                assertThrows(
                        IllegalArgumentException.class, () -> KafkaClientProperties.from(twice));
        assertTrue(
                duplicate.getMessage().contains(P + "bootstrap.servers"), duplicate.getMessage());
    }

    @Test
    void secretsAreKafkasPasswordsAndWhatFlinkHides() {
        for (String secret :
                new String[] {
                    "sasl.jaas.config",
                    "ssl.truststore.password",
                    "ssl.keystore.password",
                    "ssl.key.password",
                    "ssl.keystore.key",
                    "sasl.oauthbearer.client.credentials.client.secret",
                    "producer.ssl.keystore.key",
                    "basic.auth.user.info.password"
                }) {
            assertTrue(KafkaClientProperties.isSecret(secret), secret);
        }
        for (String plain :
                new String[] {
                    "security.protocol",
                    "sasl.mechanism",
                    "ssl.truststore.location",
                    "ssl.endpoint.identification.algorithm",
                    "client.id"
                }) {
            assertFalse(KafkaClientProperties.isSecret(plain), plain);
        }
    }

    @Test
    void printsNoSecret() {
        String printed = KafkaClientProperties.from(secured()).toString();
        assertFalse(printed.contains("hunter2"), printed);
        assertFalse(printed.contains("trust-pw"), printed);
        assertFalse(printed.contains("PRIVATE KEY"), printed);
        assertTrue(printed.contains("security.protocol=SASL_SSL"), printed);
        assertTrue(printed.contains("sasl.jaas.config=******"), printed);
        String settings = JobSettings.from(secured()).toString();
        assertFalse(settings.contains("hunter2"), "JobSettings prints its client settings masked");
    }

    @Test
    void theConfigurationFlinkShowsKeepsNoSecret() {
        Map<String, String> shown = KafkaClientProperties.withoutSecrets(secured()).toMap();
        assertEquals("SASL_SSL", shown.get(P + "security.protocol"));
        assertEquals("8", shown.get("streamlearn.model.window"));
        assertFalse(shown.containsKey(P + "sasl.jaas.config"));
        assertFalse(shown.containsKey(P + "ssl.truststore.password"));
        assertFalse(shown.containsKey(P + "ssl.keystore.key"));
    }

    @Test
    void travelsWithTheJob() throws Exception {
        KafkaClientProperties kafka = KafkaClientProperties.from(secured());
        try (ObjectOutputStream out = new ObjectOutputStream(new ByteArrayOutputStream())) {
            out.writeObject(kafka);
        }
        assertEquals(kafka, JobSettings.from(secured()).kafka());
    }
}
