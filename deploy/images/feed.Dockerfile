# syntax=docker/dockerfile:1
# The feed applications (Kafka Streams): `streamlearn feed recommendations|alerts`. No Flink
# cluster; the classpath is the one Maven resolved for stream-jobs, staged by stage-feed.sh:
#
#   deploy/images/stage-feed.sh
#   docker build -f deploy/images/feed.Dockerfile -t streamlearn/feed:0.1.0 stream-jobs/target/feed-image
ARG JAVA_IMAGE=eclipse-temurin:17-jre
FROM ${JAVA_IMAGE}
RUN useradd --system --uid 9999 --home-dir /opt/streamlearn streamlearn \
 && mkdir -p /var/lib/streamlearn && chown streamlearn /var/lib/streamlearn
COPY lib/ /opt/streamlearn/lib/
USER streamlearn
WORKDIR /opt/streamlearn
EXPOSE 8090
ENTRYPOINT ["java", "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.streamlearn.schemas", \
  "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED", \
  "-cp", "/opt/streamlearn/lib/*", "io.streamlearn.jobs.cli.Streamlearn"]
CMD ["--help"]
